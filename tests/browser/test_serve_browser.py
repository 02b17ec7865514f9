"""`infertui serve` driven from a real browser: headless Chromium opens the
printed URL, the app starts in the page, ctrl+r races the three simulated
providers, and the session lands in the (isolated) results store. A page of
another origin, and a request without the token, are refused."""

from __future__ import annotations

import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

import pytest

from infertui.store import paths
from infertui.store.repository import Store
from tests.helpers.serving import ServeProcess, start_serve

_CSI = re.compile(r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]")
_OSC = re.compile(r"\x1b\][^\x07\x1b]*(\x07|\x1b\\)")


class Terminal:
    """What the page's terminal was sent: every binary websocket frame (the
    app's screen output), decoded, with escape sequences taken out."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.frames: list[bytes] = []
        page.on("websocket", lambda ws: ws.on("framereceived", self._received))

    def _received(self, payload: Any) -> None:
        if isinstance(payload, bytes):
            self.frames.append(payload)

    def text(self) -> str:
        raw = b"".join(self.frames).decode("utf-8", "replace")
        return _CSI.sub("", _OSC.sub("", raw))

    def wait_for(self, needle: str, timeout_s: float) -> str:
        return wait_until(self.page, lambda: needle in self.text(), timeout_s,
                          f"{needle!r} on the page") and self.text()


def wait_until(page: Any, condition: Callable[[], Any], timeout_s: float, what: str) -> Any:
    """Poll `condition` while Playwright delivers events, up to a deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout_s:g} s for {what}")
        page.wait_for_timeout(100)


def app_processes(server: ServeProcess) -> dict[int, dict[str, str]]:
    """The app processes the server spawned, with their environments."""
    return {pid: env for pid, env in server.descendants().items() if "TEXTUAL_DRIVER" in env}


@pytest.fixture
def served(tmp_path):
    config = paths.config_file()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[providers.mybox]\napi = "openai"\nbase_url = "http://127.0.0.1:9/v1"\n'
                      'api_key_env = "MYBOX_API_KEY"\n')
    server = start_serve(tmp_path, env={
        "MYBOX_API_KEY": "mybox-test-key", "GROQ_API_KEY": "gsk-test-not-a-key",
        "UNRELATED_SECRET": "the-server-shell-holds-this",
    })
    try:
        yield server
    finally:
        server.stop()


def test_a_browser_session_runs_a_race_and_the_session_is_stored(served, browser_context):
    page = browser_context.new_page()
    terminal = Terminal(page)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    console_errors: list[str] = []
    page.on("console", lambda msg: msg.type == "error" and console_errors.append(msg.text))
    failed: list[str] = []
    page.on("response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}"))
    response = page.goto(served.url)
    assert response.status == 200
    assert response.headers.get("referrer-policy") == "no-referrer"
    assert "default-src 'self'" in response.headers.get("content-security-policy", "")
    # The compare screen is up (its status line names the key) before the key is pressed.
    terminal.wait_for("ctrl+r runs", 90)
    # Nothing was asked of another host (textual-serve's page would fetch its
    # font from Google): the font comes from the server's own static files.
    origin = served.url.split("/?", 1)[0]
    ws_origin = "ws" + origin[len("http"):]
    assert requested and all(u.startswith((origin + "/", ws_origin + "/")) for u in requested), (
        requested)
    assert any(u.endswith("/static/fonts/RobotoMono-VariableFont_wght.ttf") for u in requested) or (
        page.evaluate("document.fonts.check('16px \"Roboto Mono\"')"))
    assert failed == [] and console_errors == [], (failed, console_errors)

    # The app runs with a scrubbed environment: the config's key variables and
    # what it needs, not the rest of the server's environment.
    (env,) = wait_until(page, lambda: list(app_processes(served).values())[:1], 30,
                        "the app process")
    assert "UNRELATED_SECRET" not in env
    assert env["MYBOX_API_KEY"] == "mybox-test-key" and env["GROQ_API_KEY"] == "gsk-test-not-a-key"
    assert env["PATH"] and env[paths.ENV_DATA_DIR] == str(paths.data_dir().absolute())

    page.click("#terminal")
    page.keyboard.press("Control+r")
    text = terminal.wait_for("finished: 3 probes, 3 ok", 120)
    for provider in ("sim-alpha", "sim-beta", "sim-gamma"):
        assert f"{provider}/demo-70b" in text

    def stored():
        if not paths.db_file().exists():
            return None
        with Store.open() as store:
            rows = store.list_sessions(limit=5)
            return [store.load_session(rows[0].session_id)] if rows else None
    (session,) = wait_until(page, stored, 30, "the session in the results store")
    assert sorted(p.target.label for p in session.probes) == [
        "sim-alpha/demo-70b", "sim-beta/demo-70b", "sim-gamma/demo-70b"]
    assert all(p.status == "ok" and p.text for p in session.probes)

    # Closing the tab ends its app process.
    other = browser_context.new_page()
    page.close()
    wait_until(other, lambda: not app_processes(served), 30, "the app process to end")
    err = served.stop()
    assert "Traceback" not in err and served.token not in err


class _ForeignPage(BaseHTTPRequestHandler):
    """A page on another origin (another local web server) that knows even
    the token and tries to open the websocket."""

    ws_url = ""

    def do_GET(self):
        body = (f"""<!doctype html><title>waiting</title><script>
const ws = new WebSocket({self.ws_url!r});
ws.onopen = () => {{ document.title = "opened"; }};
ws.onerror = () => {{ document.title = "refused"; }};
</script>""").encode()
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_page_of_another_origin_and_a_url_without_token_are_refused(served, browser_context):
    page = browser_context.new_page()
    response = page.goto(served.base + "/")
    assert response.status == 403 and "token" in page.content()
    response = page.goto(served.base + "/?token=" + "x" * len(served.token))
    assert response.status == 403

    handler = type("Foreign", (_ForeignPage,), {"ws_url": f"ws://127.0.0.1:{served.port}/ws/{served.token}"})
    foreign = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=foreign.serve_forever, daemon=True).start()
    try:
        page.goto(f"http://127.0.0.1:{foreign.server_address[1]}/")
        page.wait_for_function("document.title !== 'waiting'", timeout=30_000)
        assert page.title() == "refused"
    finally:
        foreign.shutdown()
    assert not app_processes(served)
    err = served.stop()
    assert "refused a websocket: websocket from another origin" in err
    assert "refused a page request" in err
