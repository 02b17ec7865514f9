"""Data is never markup and never terminal control, on every screen.

Each test puts text a server, a file or a user could send (escape sequences
that set the title, write the clipboard or clear the screen, C1 controls,
Rich markup, lone surrogates) where the app shows data, drives the screen,
and checks that nothing crashed, that no raw control character is on screen,
that the text is visible (controls as `\\x1b` escapes, markup as written),
that no link was made, and that an F12 screenshot is well-formed XML.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

from textual.widgets import DataTable

from infertui.core.models import ModelList
from infertui.core.result import Chunk, ChunkKind, ErrorKind, ProbeError, ProbeResult, Status, Usage
from infertui.core.session import RunSettings, Session
from infertui.core.targets import Api, ProbeParams, Provider, Target
from infertui.store.config import builtin_config
from infertui.textsafe import display
from infertui.tui.app import InfertuiApp
from infertui.tui.screens.history import HistoryScreen
from infertui.tui.screens.picker import TargetPicker
from infertui.tui.screens.replay import ReplayScreen
from infertui.tui.screens.session import SessionScreen
from infertui.tui.widgets.diff import DiffScreen
from tests.fakes import Script, ScriptedTransport
from tests.tui.helpers import FAST, make_app, wait_run
from tests.tui.test_history_fixtures import fill_store

SIZE = (200, 50)
MARKUP = "What does the [/INST] token do? [/x] [link=https://evil.example]click[/link] [bold]b"
CONTROLS = "T\x1b]0;pwned\x07I\x1b]52;c;cHduZWQ=\x07C\x1b[2J\x9b31mE\x00\x7fZ\u202eR"
HOSTILE = f"{MARKUP} {CONTROLS}"
# What must be on screen instead of the controls: each as its escape.
ESCAPED = ["\\x1b]0;pwned\\x07", "\\x1b]52;c;cHduZWQ=\\x07", "\\x1b[2J", "\\x9b31m", "\\x00", "\\x7f", "\\u202e"]
_RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def screen_lines(app: InfertuiApp) -> list[str]:
    """What the terminal would be sent, line by line (the composed screen)."""
    strips = app.screen._compositor.render_strips()
    return ["".join(segment.text for segment in strip) for strip in strips]


def links(app: InfertuiApp) -> list[str]:
    found = []
    for strip in app.screen._compositor.render_strips():
        found.extend(segment.style.link for segment in strip
                     if segment.style is not None and segment.style.link)
    return found


async def until_shown(pilot, text: str) -> None:
    """Until `text` is on screen (a notification's toast takes a few frames)."""
    for _ in range(200):
        if any(text in line for line in screen_lines(pilot.app)):
            return
        await pilot.pause(0.01)


def assert_safe(app: InfertuiApp, *visible: str) -> str:
    lines = screen_lines(app)
    screen = "\n".join(lines)
    raw = _RAW.findall(screen)
    assert not raw, f"raw control characters on screen: {raw!r}"
    assert not links(app), "data became a link"
    for text in visible:
        assert any(text in line for line in lines), f"{text!r} is not on screen:\n{screen}"
    ET.fromstring(app.export_screenshot())  # F12: well-formed XML
    return screen


# -- data ----------------------------------------------------------------------------

HOSTILE_PROVIDER = Provider("hostile", Api.OPENAI, "http://hostile.invalid/v1", api_key_env=None)
HOSTILE_TARGET = Target(HOSTILE_PROVIDER, "model[/x]\x1b]0;t\x07")
ALPHA = Target(Provider("sim-alpha", Api.OPENAI, "http://sim-alpha.invalid/v1", simulated=True), "demo-70b")
MS = 1_000_000


def hostile_session(session_id: str = "0190e1b2c3d4ee11223344") -> Session:
    """A stored session (as an import could bring it) with data everywhere."""
    text_chunks = [Chunk((100 + 10 * i) * MS, ChunkKind.CONTENT, piece)
                   for i, piece in enumerate([MARKUP, " ", CONTROLS, " tail"])]
    thinking = [Chunk(80 * MS, ChunkKind.REASONING, "think " + CONTROLS)]
    ok = ProbeResult(
        probe_id=f"{session_id}.0.0", target=HOSTILE_TARGET, status=Status.OK, http_status=200,
        sent_at="2025-03-07T10:00:00Z", headers_ns=50 * MS, first_byte_ns=50 * MS,
        first_reasoning_ns=80 * MS, first_content_ns=100 * MS, last_token_ns=130 * MS, end_ns=131 * MS,
        chunks=thinking + text_chunks, usage=Usage(input_tokens=5, output_tokens=20), finish_reason="stop",
        server_model=HOSTILE, request_id=HOSTILE)
    failed = ProbeResult(
        probe_id=f"{session_id}.1.0", target=ALPHA, status=Status.ERROR, http_status=500,
        error=ProbeError(ErrorKind.SERVER_ERROR, HOSTILE, http_status=500), sent_at="2025-03-07T10:00:00Z",
        headers_ns=40 * MS, end_ns=41 * MS,
        chunks=[Chunk(30 * MS, ChunkKind.CONTENT, "partial " + CONTROLS)])
    return Session(session_id=session_id, started_at="2025-03-07T10:00:00.000Z",
                   params=ProbeParams(HOSTILE, max_tokens=32, system=HOSTILE),
                   targets=[HOSTILE_TARGET, ALPHA], settings=RunSettings(), probes=[ok, failed],
                   finished_at="2025-03-07T10:00:01.000Z", host=HOSTILE, notes=HOSTILE)


def stored_app(tmp_path: Path) -> InfertuiApp:
    db = tmp_path / "results.db"
    fill_store(db, [hostile_session()])
    return make_app(tmp_path)


async def settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


# -- the compare screen ----------------------------------------------------------------

def sse(*texts: str) -> bytes:
    events = [json.dumps({"choices": [{"index": 0, "delta": {"content": t}}]}) for t in texts]
    events.append(json.dumps({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}))
    return b"".join(f"data: {e}\n\n".encode() for e in events) + b"data: [DONE]\n\n"


HOSTILE_CONFIG = """
[providers.hostile]
api = "openai"
base_url = "http://hostile.invalid/v1"

[providers.broken]
api = "openai"
base_url = "http://broken.invalid/v1"
"""


async def test_stream_text_and_error_bodies_are_shown_not_obeyed(tmp_path):
    app = make_app(tmp_path, HOSTILE_CONFIG)
    streams = ScriptedTransport(Script(parts=[(0.0, sse(MARKUP, " ", CONTROLS, " \ud800 end"))]))
    error_body = json.dumps({"error": {"message": HOSTILE}}).encode()
    errors = ScriptedTransport(Script(status=500, headers={"content-type": "application/json"},
                                      parts=[(0.0, error_body)]))
    app.transport_factory = lambda p: {"hostile": streams, "broken": errors}.get(p.name)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        compare = app.compare
        targets = app.config.resolve_targets(["hostile/m[/x]", "broken/m"])
        # As a re-run of a past session puts them there: shown with escapes,
        # sent as they were.
        compare.load_run(targets, ProbeParams(HOSTILE, system=HOSTILE), RunSettings())
        await pilot.pause()
        assert_safe(app, "What does the [/INST] token do? [/x]", "\\x1b]0;pwned")
        await pilot.press("ctrl+r")
        await wait_run(pilot)
        assert compare.session.params.prompt == HOSTILE and compare.session.params.system == HOSTILE
        good, bad = compare.panes.values()
        assert good.status == "ok" and bad.status == "error"
        assert good.text.startswith(MARKUP)  # the copy (F3) is the text as received
        assert_safe(app, "[/INST]", "[link=https://evil.example]click[/link]", "hostile/m[/x]",
                    "\\x1b]0;pwned\\x07", "\\x9b31m", "\ufffd end")
        # History opens on a prompt holding markup (it crashed every time).
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(app.screen, HistoryScreen)
        assert_safe(app, "What does the [/INST] token do?")


async def test_a_model_id_and_a_config_notice_with_markup(tmp_path):
    config = builtin_config()
    config.notices.append("state.toml:3: " + HOSTILE)
    app = InfertuiApp(config, tmp_path / "results.db", config_error="config.toml:1: [/x] " + CONTROLS,
                      sim_time_scale=FAST, detect_local_servers=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        target = Target(config.providers["sim-alpha"], "fast[/x]\x1b]0;t\x07")
        app.compare.set_targets([target, *app.compare.targets[:1]])
        await until_shown(pilot, "state.toml:3")
        assert_safe(app, "sim-alpha/fast[/x]\\x1b]0;t\\x07", "config.toml:1: [/x]", "T\\x1b]0;pwned\\x07I",
                    "state.toml:3: What does the [/INST]")
        await pilot.press("ctrl+r")
        await wait_run(pilot)
        assert_safe(app, "sim-alpha/fast[/x]")


async def test_picker_shows_listed_model_ids_as_text(tmp_path):
    app = make_app(tmp_path, HOSTILE_CONFIG)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        app.model_lists["hostile"] = ModelList("hostile", models=["evil[/x]" + CONTROLS, "[link=x]m[/link]"])
        app.model_lists["broken"] = ModelList("broken", error="HTTP 500: " + HOSTILE)
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert isinstance(app.screen, TargetPicker)
        assert_safe(app, "hostile/evil[/x]T\\x1b]0;pwned", "hostile/[link=x]m[/link]", "HTTP 500: What does")
        await pilot.click("#picker-clear")
        await pilot.press(*"[/x]")
        await pilot.press("down", "space")
        await pilot.pause()
        assert_safe(app, "1 chosen: hostile/evil[/x]T\\x1b")
        await pilot.press("enter")
        await pilot.pause()
        assert [t.model for t in app.compare.targets] == ["evil[/x]" + CONTROLS]
        assert_safe(app, "hostile/evil[/x]")


# -- history, a session, replay, diff ---------------------------------------------------

async def test_history_and_a_session_with_hostile_data(tmp_path):
    app = stored_app(tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("f2")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        assert screen.query_one("#history-table", DataTable).row_count == 1
        assert_safe(app, "What does the [/INST]", "hostile/model[/x]\\x1b]0;t\\x07")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, SessionScreen)
        assert_safe(app, "prompt What does the [/INST] token do?", "[link=https://evil.example]click",
                    "\\x1b[2J", "hostile/model[/x]")
        for tab in ("2", "3"):
            await pilot.press(tab)
            await pilot.pause()
            assert_safe(app, "hostile/model[/x]")
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, DiffScreen)
        assert_safe(app, "hostile/model[/x]\\x1b]0;t\\x07 #0", "[link=https://evil.example]click[/link]")
        await pilot.press("u")
        await pilot.pause()
        assert_safe(app, "\\x1b]52;c;cHduZWQ=\\x07")
        await pilot.press("escape", "p")
        await pilot.pause()
        replay = app.screen
        assert isinstance(replay, ReplayScreen)
        replay.action_speed(0)
        await pilot.pause()
        assert_safe(app, "What does the [/INST]", "\\x1b]0;pwned\\x07")


async def test_compare_screen_showing_a_past_session(tmp_path):
    session = hostile_session()
    surrogate = replace(session.probes[0], chunks=[Chunk(100 * MS, ChunkKind.CONTENT, "a\ud800b " + HOSTILE)])
    session.probes[0] = surrogate
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        app.compare.show_session(session)
        await pilot.pause()
        await pilot.pause()
        assert_safe(app, "a\ufffdb What does the [/INST]", "session 0190e1b2c3d4ee11223344")
        app.compare.query_one("#summary").focus()
        app.action_copy("summary")
        await pilot.pause()
        assert_safe(app, "Summary copied")


async def test_pasted_text_arrives_with_its_controls_as_escapes(tmp_path):
    from textual import events

    app = make_app(tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        compare = app.compare
        prompt = compare.query_one("#prompt")
        prompt.text = ""
        prompt.focus()
        app.post_message(events.Paste(HOSTILE))
        await pilot.pause()
        assert prompt.text == display(HOSTILE)
        system = compare.query_one("#system")
        system.focus()
        app.post_message(events.Paste("sys " + CONTROLS))
        await pilot.pause()
        assert system.value.startswith("sys T\\x1b]0;pwned")
        assert_safe(app, "What does the [/INST]")
