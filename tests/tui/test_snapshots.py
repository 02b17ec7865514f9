"""SVG snapshots of the main screens. Everything shown comes from fixed,
hand-built probes (no live timings), at a fixed terminal size."""

from __future__ import annotations

from infertui.core.result import Chunk, ChunkKind, ProbeResult, Status, Usage
from infertui.core.session import RunSettings, Session
from infertui.core.targets import ProbeParams
from tests.tui.helpers import make_app
from tests.tui.test_history_fixtures import ALPHA, BETA, error_session, race_session

SIZE = (150, 44)


def reasoning_session() -> Session:
    """One probe that reasoned before answering, and one cancelled mid-answer."""
    ms = 1_000_000
    thoughts = ["The user ", "asks about ", "scattering; ", "keep it short."]
    answer = ["Short ", "wavelengths ", "scatter ", "more."]
    chunks = [Chunk((200 + 15 * i) * ms, ChunkKind.REASONING, t) for i, t in enumerate(thoughts)]
    chunks += [Chunk((300 + 20 * i) * ms, ChunkKind.CONTENT, t) for i, t in enumerate(answer)]
    thinker = ProbeResult(
        probe_id="0190d1.0.0", target=ALPHA, status=Status.OK, http_status=200,
        headers_ns=150 * ms, first_byte_ns=150 * ms, first_reasoning_ns=200 * ms,
        first_content_ns=300 * ms, last_token_ns=360 * ms, end_ns=362 * ms, chunks=chunks,
        usage=Usage(input_tokens=12, output_tokens=30, reasoning_tokens=22), finish_reason="stop")
    cut = ProbeResult(
        probe_id="0190d1.1.0", target=BETA, status=Status.CANCELLED, http_status=200,
        headers_ns=400 * ms, first_content_ns=450 * ms, last_token_ns=500 * ms, end_ns=520 * ms,
        chunks=[Chunk(450 * ms, ChunkKind.CONTENT, "Light from "),
                Chunk(500 * ms, ChunkKind.CONTENT, "the sun")])
    return Session(session_id="0190d1b2c3d4dd11223344", started_at="2025-03-06T08:00:00.000Z",
                   params=ProbeParams("Why is the sky blue?", max_tokens=64),
                   targets=[ALPHA, BETA], settings=RunSettings(), probes=[thinker, cut],
                   finished_at="2025-03-06T08:00:01.000Z")


def _showing(session: Session):
    async def run_before(pilot) -> None:
        await pilot.pause()
        pilot.app.compare.show_session(session)
        await pilot.pause()
        pilot.app.set_focus(None)
        await pilot.pause()
    return run_before


def test_compare_finished_race(snap_compare, tmp_path):
    assert snap_compare(make_app(tmp_path), terminal_size=SIZE,
                        run_before=_showing(race_session(repeat=3)))


def test_compare_with_errors(snap_compare, tmp_path):
    assert snap_compare(make_app(tmp_path), terminal_size=SIZE,
                        run_before=_showing(error_session()))


def test_compare_reasoning_and_cancelled(snap_compare, tmp_path):
    assert snap_compare(make_app(tmp_path), terminal_size=SIZE,
                        run_before=_showing(reasoning_session()))


def test_compare_at_first_launch(snap_compare, tmp_path):
    async def run_before(pilot) -> None:
        await pilot.pause()
        pilot.app.set_focus(None)
    assert snap_compare(make_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_target_picker(snap_compare, tmp_path):
    async def run_before(pilot) -> None:
        await pilot.press("ctrl+t")
        await pilot.pause()
        await pilot.press(*"demo")
        await pilot.pause()
    assert snap_compare(make_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_help_screen(snap_compare, tmp_path):
    async def run_before(pilot) -> None:
        await pilot.pause()
        await pilot.press("f1")
        await pilot.pause()
    assert snap_compare(make_app(tmp_path), terminal_size=SIZE, run_before=run_before)
