"""SVG snapshots of history, a session (panes, charts), its replay and a diff.
Every session is built from fixed probes and saved in a fresh store; the
terminal size is fixed."""

from __future__ import annotations

from pathlib import Path

from infertui.tui.app import create_app
from infertui.tui.screens.replay import INSTANT, ReplayScreen
from tests.tui.test_history_fixtures import error_session, fill_store, history_sessions

SIZE = (140, 42)


def _app(tmp_path: Path):
    db = tmp_path / "results.db"
    fill_store(db, history_sessions())
    return create_app(None, db, detect_local_servers=False)


async def _settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


def _session_view(keys: tuple[str, ...] = ()):
    async def run_before(pilot) -> None:
        await pilot.press("f2")
        await _settle(pilot)
        await pilot.press("down", "enter")  # the session with errors
        await _settle(pilot)
        if keys:
            await pilot.press(*keys)
            await _settle(pilot)
    return run_before


def test_history_screen(snap_compare, tmp_path):
    async def run_before(pilot) -> None:
        await pilot.press("f2")
        await _settle(pilot)
        await pilot.press("down")
    assert snap_compare(_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_session_panes_and_summary(snap_compare, tmp_path):
    assert snap_compare(_app(tmp_path), terminal_size=SIZE, run_before=_session_view())


def test_session_charts(snap_compare, tmp_path):
    assert snap_compare(_app(tmp_path), terminal_size=SIZE, run_before=_session_view(("2",)))


def test_replay_finished(snap_compare, tmp_path):
    async def run_before(pilot) -> None:
        screen = ReplayScreen(error_session(), speed=INSTANT)
        await pilot.app.push_screen(screen)
        await screen.done.wait()
        await pilot.pause()
    assert snap_compare(_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_diff_side_by_side(snap_compare, tmp_path):
    async def run_before(pilot) -> None:
        pilot.app.open_session(history_sessions()[0])
        await _settle(pilot)
        await pilot.press("d")
        await pilot.pause()
    assert snap_compare(_app(tmp_path), terminal_size=SIZE, run_before=run_before)
