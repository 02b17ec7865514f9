"""`infertui serve`: the app in a web browser, through textual-serve.

textual-serve gives the pieces: the page and its terminal (templates and
static files), and `AppService`, which runs one app process per websocket and
relays its web-driver protocol. Its `Server` would accept any websocket from
any origin and hand every app the server's whole environment, so this module
puts its own routes in front (see `serve_access` for the rules):

- `GET /?token=T`: the page; refused without the token or from a Host that
  is not this server's;
- `GET /ws/T`: the websocket (the token in the path, since the page's script
  appends `?width=…&height=…` to the URL it is given); refused on top of that
  when its Origin is not the served origin;
- `/static/…`: textual-serve's own files (scripts, fonts), nothing private.

The page asks for nothing from anywhere else: textual-serve's template loads
its font from Google, which here becomes the same font from its own static
files, and the page's Content-Security-Policy lets the browser load only from
this server (and open only this server's websocket).

There is no download route: infertui delivers no files to the browser.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import sys
from typing import Any, Callable, Mapping

import aiohttp_jinja2
import jinja2
from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

from infertui.cli.common import CliError
from infertui.cli.serve_access import Access, child_environment, is_loopback

log = logging.getLogger("textual-serve")

# What textual-serve adds to a spawned app's environment for its web driver.
_SERVE_VARIABLES = ("TEXTUAL_DRIVER", "TEXTUAL_FPS", "TEXTUAL_COLOR_SYSTEM", "TERM_PROGRAM",
                    "TERM_PROGRAM_VERSION", "COLUMNS", "ROWS")
_PAGE_HEADERS = {
    # The URL carries the token: never send it on as a Referer, never cache it.
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
}
# The page itself: only this server's files, its inline script and styles
# (textual-serve's template has both), and its websocket.
_PAGE_POLICY = ("default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
                "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; "
                "connect-src 'self' {websocket}; base-uri 'none'; form-action 'none'; "
                "frame-ancestors 'none'")
_TEMPLATE = "app_index.html"
_REMOTE_FONT = re.compile(r"<link[^>]*fonts\.googleapis\.com[^>]*>", re.DOTALL)
_LOCAL_FONT = ("<style>@font-face { font-family: \"Roboto Mono\"; "
               "src: url(\"{{ config.static.url }}fonts/RobotoMono-VariableFont_wght.ttf\") "
               "format(\"truetype\"); }</style>")


def _page_template(templates_path: str) -> jinja2.BaseLoader:
    """textual-serve's page template with its Google font taken from the
    static files instead."""
    files = jinja2.FileSystemLoader(templates_path)

    def load(name: str) -> str | None:
        if name != _TEMPLATE:
            return None
        source, _filename, _uptodate = files.get_source(jinja2.Environment(), name)
        return _REMOTE_FONT.sub(_LOCAL_FONT, source)

    return jinja2.FunctionLoader(load)


class ScrubbedAppService(AppService):
    """An app process with only the environment it was given, plus what
    textual-serve's web driver needs."""

    def __init__(self, command: str, *, environment: Mapping[str, str], **kwargs: Any) -> None:
        super().__init__(command, **kwargs)
        self._environment = dict(environment)

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        served = super()._build_environment(width=width, height=height)
        env = dict(self._environment)
        env.update({name: served[name] for name in _SERVE_VARIABLES if name in served})
        return env

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def kill(self) -> None:
        if self._process is not None and self._process.returncode is None:
            self._process.kill()


class _OneLineFormatter(logging.Formatter):
    """Server log lines without tracebacks (or the locals rich would show)."""

    def formatException(self, ei) -> str:  # logging's name
        return f"  ({ei[0].__name__}: {ei[1]})" if ei and ei[0] else ""


class GuardedServer(Server):
    """textual-serve's server with a token, Host and Origin checks, a scrubbed
    environment for every app, and a port that may be 0 (any free one)."""

    def __init__(self, command: str, *, host: str, port: int, access: Access,
                 environment: Callable[[], Mapping[str, str]],
                 public_url: str | None = None, title: str = "infertui",
                 on_ready: Callable[[GuardedServer], None] | None = None) -> None:
        super().__init__(command, host=host, port=port, title=title, public_url=public_url)
        self.access = access
        self.explicit_public_url = public_url
        self.environment = environment
        self.on_ready = on_ready
        self.services: set[ScrubbedAppService] = set()
        self._stop: asyncio.Event | None = None

    # -- routes ------------------------------------------------------------------------
    async def _make_app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024)
        aiohttp_jinja2.setup(app, loader=_page_template(str(self.templates_path)))
        app.add_routes([
            web.get("/", self.handle_index, name="index"),
            web.get("/favicon.ico", self.handle_favicon),
            web.get("/ws/{token}", self.handle_websocket, name="websocket"),
            web.static("/static", self.statics_path, show_index=False, name="static"),
        ])
        app.on_shutdown.append(self.on_shutdown)
        return app

    def _base_url(self, request: web.Request) -> str:
        """Where the browser reached us: the public URL when one was given,
        else the (checked) Host it sent."""
        if self.explicit_public_url:
            return self.explicit_public_url.rstrip("/")
        return f"http://{request.headers.get('Host', '')}"

    async def handle_favicon(self, request: web.Request) -> web.StreamResponse:
        """Browsers ask for one unbidden: nothing, rather than a 404 in the console."""
        return web.Response(status=204, headers={"Cache-Control": "max-age=86400"})

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        refusal = self.access.refuse_page(request.query.get("token"), request.headers.get("Host"))
        if refusal is not None:
            log.warning("refused a page request: %s", refusal)
            return web.Response(status=403, text=f"infertui serve: {refusal}\n",
                                headers=_PAGE_HEADERS)
        base = self._base_url(request)
        scheme, rest = base.split(":", 1)
        websocket_origin = f"{'wss' if scheme == 'https' else 'ws'}:{rest}"
        context = {
            "font_size": to_int(request.query.get("fontsize", "16"), 16),
            "app_websocket_url": f"{websocket_origin}/ws/{self.access.token}",
            "config": {"static": {"url": f"{base}/static/"}},
            "application": {"name": self.title},
        }
        response = aiohttp_jinja2.render_template(_TEMPLATE, request, context)
        response.headers.update(_PAGE_HEADERS)
        response.headers["Content-Security-Policy"] = _PAGE_POLICY.format(
            websocket=websocket_origin)
        return response

    # A refusal is a plain HTTP response, not a websocket: aiohttp takes any
    # StreamResponse from a handler, textual-serve's annotation is narrower.
    async def handle_websocket(self, request: web.Request) -> web.StreamResponse:  # type: ignore[override]
        refusal = self.access.refuse_websocket(request.match_info.get("token"),
                                               request.headers.get("Origin"),
                                               request.headers.get("Host"))
        if refusal is not None:
            log.warning("refused a websocket: %s", refusal)
            return web.Response(status=403, text=f"infertui serve: {refusal}\n")
        websocket = web.WebSocketResponse(heartbeat=15, max_msg_size=1 << 20)
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        service: ScrubbedAppService | None = None
        try:
            await websocket.prepare(request)
            service = ScrubbedAppService(
                self.command, environment=self.environment(),
                write_bytes=websocket.send_bytes, write_str=websocket.send_str,
                close=websocket.close, download_manager=self.download_manager, debug=False)
            self.services.add(service)
            await service.start(width, height)
            await self._process_messages(websocket, service)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception as error:  # noqa: BLE001 - one session's failure, logged on one line
            log.warning("a browser session ended with an error: %s: %s",
                        type(error).__name__, error)
        finally:
            if service is not None:
                await self._stop_service(service)
        return websocket

    async def _stop_service(self, service: ScrubbedAppService) -> None:
        try:
            await asyncio.wait_for(service.stop(), 5)
        except (TimeoutError, Exception):  # noqa: BLE001 - it is going away anyway
            service.kill()
        self.services.discard(service)

    async def on_shutdown(self, app: web.Application) -> None:
        await asyncio.gather(*(self._stop_service(s) for s in list(self.services)))

    # -- running -----------------------------------------------------------------------
    def initialize_logging(self) -> None:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_OneLineFormatter("infertui serve: %(message)s"))
        log.handlers[:] = [handler]
        log.setLevel(logging.INFO)
        log.propagate = False

    def serve(self, debug: bool = False) -> None:
        self.initialize_logging()
        asyncio.run(self._serve())

    def request_exit(self) -> None:
        if self._stop is not None:
            self._stop.set()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, self.request_exit)
            except (NotImplementedError, RuntimeError):
                pass
        runner = web.AppRunner(await self._make_app(), access_log=None, handle_signals=False)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
        except OSError as exc:
            await runner.cleanup()
            raise CliError(f"cannot listen on {self.host}:{self.port}: "
                           f"{exc.strerror or exc}") from None
        # The port really bound (the one asked for, or any free one for 0),
        # with access rules for it.
        self.port = runner.addresses[0][1]
        self.access = Access.build(self.host, self.port, self.explicit_public_url,
                                   token=self.access.token)
        if self.on_ready is not None:
            self.on_ready(self)
        try:
            await self._stop.wait()
        finally:
            await runner.cleanup()

    def url(self) -> str:
        """The URL to open, token included."""
        if self.explicit_public_url:
            base = self.explicit_public_url.rstrip("/")
        else:
            host = self.host if is_loopback(self.host) else "127.0.0.1"
            host = f"[{host}]" if ":" in host else host
            base = f"http://{host}:{self.port}"
        return f"{base}/?token={self.access.token}"


def served_environment(key_variables: Callable[[], set[str]],
                       overrides: Mapping[str, str]) -> Callable[[], dict[str, str]]:
    """A fresh scrubbed environment per session: the key variables are read
    from the config each time, so a provider added meanwhile is served."""
    def build() -> dict[str, str]:
        return child_environment(os.environ, key_variables(), overrides)
    return build
