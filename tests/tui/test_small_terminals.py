"""The app at 80x24 and at 220x60: what a small terminal keeps (the panes, the
columns that say something failed, the footer) and what it folds away (the
sidebar, the header, the least needed columns). Pilot checks, then SVG
snapshots at both sizes."""

from __future__ import annotations

from textual.widgets import DataTable, Header

from infertui.core.result import ErrorKind, ProbeError
from infertui.core.session import RunSettings, Session
from infertui.core.targets import Api, ProbeParams, Provider, Target
from infertui.tui.screens.history import HistoryScreen
from infertui.tui.widgets.summary import SummaryTable
from tests.tui.helpers import make_app
from tests.tui.test_history_fixtures import (
    ANSWER_A,
    ANSWER_B,
    ANSWER_C,
    error_session,
    fill_store,
    history_sessions,
    make_probe,
)
from tests.tui.test_hostile_text import screen_lines

SMALL = (80, 24)
LARGE = (220, 60)


def twelve_target_session() -> Session:
    """Twelve targets, one probe each; two of them failed."""
    session_id = "0190f1b2c3d4ff11223344"
    apis = (Api.OPENAI, Api.ANTHROPIC, Api.GEMINI)
    targets = [Target(Provider(f"sim-{name}", apis[i % 3], f"http://sim-{name}.invalid/v1", simulated=True),
                      model)
               for i, (name, model) in enumerate(
                   (n, m) for m in ("demo-70b", "demo-8b", "fast", "jittery")
                   for n in ("alpha", "beta", "gamma"))]
    session = Session(session_id=session_id, started_at="2025-03-08T12:00:00.000Z",
                      params=ProbeParams("Why is the sky blue?", max_tokens=128), targets=targets,
                      settings=RunSettings(), host="lab")
    answers = (ANSWER_A, ANSWER_B, ANSWER_C)
    for i, target in enumerate(targets):
        error = None
        if i == 5:
            error = ProbeError(ErrorKind.RATE_LIMITED, "Too many requests", 429, retry_after=2.0)
        elif i == 10:
            error = ProbeError(ErrorKind.SERVER_ERROR, "upstream unavailable", 503)
        session.probes.append(make_probe(session_id, i, target, 0, ttft_ms=110 + 37 * i, gap_ms=9 + i,
                                         text=answers[i % 3], sent_at="2025-03-08T12:00:00.000Z",
                                         error=error))
    session.finished_at = "2025-03-08T12:00:09.000Z"
    return session


async def showing(pilot, session: Session) -> None:
    await pilot.pause()
    pilot.app.compare.show_session(session)
    for _ in range(4):
        await pilot.pause()
    pilot.app.set_focus(None)
    await pilot.pause()


# -- what a small terminal keeps -----------------------------------------------------------

async def test_compare_at_80x24_keeps_panes_errors_and_footer(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await showing(pilot, error_session())
        compare = app.compare
        assert not compare.sidebar.display  # collapsed: the panes get the width
        assert not compare.query_one(Header).display
        summary = compare.query_one(SummaryTable)
        shown = summary.shown_columns
        assert {"target", "err", "lag", "ttft50", "kinds"} <= set(shown) and "e2e95" not in shown
        lines = screen_lines(app)
        assert any("sim-gamma/demo-8b" in line and "provider_error×1" in line for line in lines), "\n".join(lines)
        assert "^r Run" in lines[-1] and "^t Targets" in lines[-1]
        for pane in compare.panes.values():
            assert pane.size.height >= 6 and pane.size.width >= 30
        # ctrl+b brings the prompt and parameters back, and again hides them.
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert compare.sidebar.display
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert not compare.sidebar.display


async def test_the_sidebar_returns_when_the_terminal_widens(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        assert not app.compare.sidebar.display
        await pilot.resize_terminal(160, 45)
        await pilot.pause()
        await pilot.pause()
        assert app.compare.sidebar.display


async def test_history_at_80x24_keeps_ttft_and_errors(tmp_path):
    db = tmp_path / "results.db"
    fill_store(db, history_sessions())
    app = make_app(tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("f2")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        table = screen.query_one("#history-table", DataTable)
        titles = [str(column.label) for column in table.columns.values()]
        assert titles[-2:] == ["TTFT p50", "err"] and "prompt" in titles
        assert sum(column.get_render_width(table) for column in table.columns.values()) <= SMALL[0]
        lines = screen_lines(app)
        assert any("155ms / 200ms" in line and line.rstrip().endswith("2") for line in lines), "\n".join(lines)


def test_grid_shapes_for_the_room_there_is():
    from infertui.tui.layout import grid_shape

    assert grid_shape(3, 80, 17) == (2, 2)  # 80x24 without the sidebar
    assert grid_shape(3, 36, 17) == (1, 3)
    assert grid_shape(12, 220, 50) == (6, 2)
    assert grid_shape(12, 80, 17) == (3, 4)
    assert grid_shape(3, 116) == (3, 1)  # width only: as many columns as fit


# -- snapshots ------------------------------------------------------------------------------

def _showing(session: Session):
    async def run_before(pilot) -> None:
        await showing(pilot, session)
    return run_before


def test_snapshot_compare_80x24(snap_compare, tmp_path):
    assert snap_compare(make_app(tmp_path), terminal_size=SMALL, run_before=_showing(error_session()))


def test_snapshot_compare_220x60_twelve_targets(snap_compare, tmp_path):
    assert snap_compare(make_app(tmp_path), terminal_size=LARGE,
                        run_before=_showing(twelve_target_session()))


def test_snapshot_history_80x24(snap_compare, tmp_path):
    fill_store(tmp_path / "results.db", history_sessions())

    async def run_before(pilot) -> None:
        await pilot.press("f2")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.pause()
    assert snap_compare(make_app(tmp_path), terminal_size=SMALL, run_before=run_before)


def test_snapshot_session_80x24(snap_compare, tmp_path):
    async def run_before(pilot) -> None:
        await pilot.pause()
        pilot.app.open_session(error_session())
        for _ in range(4):
            await pilot.pause()
    assert snap_compare(make_app(tmp_path), terminal_size=SMALL, run_before=run_before)
