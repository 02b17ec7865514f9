"""Pilot tests of history, session, replay and diff, on a store holding the
fixed sessions of test_history_fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Static

from infertui.core import metrics
from infertui.core.session import Session
from infertui.tui.app import InfertuiApp, create_app
from infertui.tui.screens.history import HistoryScreen
from infertui.tui.screens.replay import INSTANT, ReplayScreen
from infertui.tui.screens.session import SessionScreen
from infertui.tui.widgets.charts import RangeChart, RateBars, TrendChart, fmt_ms
from infertui.tui.widgets.diff import DiffScreen, DiffView
from infertui.tui.widgets.pane import ProbePane
from infertui.tui.widgets.summary import SummaryTable
from tests.helpers.timezone import local_timezone
from tests.tui.test_history_fixtures import fill_store, history_sessions, race_session

SIZE = (140, 42)
NEWEST_FIRST = ["0190c1b2c3d4cc11223344", "0190b1b2c3d4bb11223344", "0190a1b2c3d4aa11223344"]


def history_app(tmp_path: Path, sessions: list[Session] | None = None) -> InfertuiApp:
    db = tmp_path / "results.db"
    fill_store(db, history_sessions() if sessions is None else sessions)
    return create_app(None, db, detect_local_servers=False)


async def settle(pilot) -> None:
    """Until every worker is done and the messages they posted are handled."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


async def open_history(pilot) -> HistoryScreen:
    await pilot.press("f2")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, HistoryScreen)
    return screen


def listed(screen: HistoryScreen) -> list[str]:
    table = screen.query_one("#history-table", DataTable)
    return [key.value for key in table.rows]


async def filter_by(pilot, screen: HistoryScreen, field: str, text: str) -> list[str]:
    screen.query_one(f"#history-{field}", Input).value = text
    screen.apply_filters()
    await settle(pilot)
    return listed(screen)


async def test_history_lists_sessions_newest_first_with_summaries(tmp_path: Path) -> None:
    app = history_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_history(pilot)
        assert listed(screen) == NEWEST_FIRST
        status = str(screen.query_one("#history-status", Static).render())
        assert "3 sessions" in status
        # The highlighted (newest) session's per-target summary, as the store keeps it.
        row = screen.query_one("#history-table", DataTable).get_row_at(1)
        assert str(row[2]) == "demo-70b: sim-alpha; demo-8b: sim-gamma" and str(row[5]) == "2"
        assert str(row[4]) == "155ms / 200ms"
        detail = screen.query_one("#history-detail", Static)
        assert detail.display
        await pilot.press("down")
        assert screen.highlighted.session_id == NEWEST_FIRST[1]


async def test_history_filters_by_text_target_model_and_date(tmp_path: Path) -> None:
    app = history_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_history(pilot)
        # As a user does it: "/" to search, type, enter.
        await pilot.press("slash", *"prime numbers", "enter")
        await settle(pilot)
        assert listed(screen) == [NEWEST_FIRST[0]]
        assert app.focused is screen.query_one("#history-table")
        # Outputs are searched too: only the error session answered "Rayleigh".
        assert await filter_by(pilot, screen, "text", "Rayleigh") == [NEWEST_FIRST[1]]
        await filter_by(pilot, screen, "text", "")
        assert await filter_by(pilot, screen, "target", "sim-gamma/demo-8b") == [NEWEST_FIRST[1]]
        assert await filter_by(pilot, screen, "target", "sim-beta") == [NEWEST_FIRST[0], NEWEST_FIRST[2]]
        # Filters combine: both of beta's sessions answered about the sky,
        # only one was asked why.
        assert await filter_by(pilot, screen, "text", "sky") == [NEWEST_FIRST[0], NEWEST_FIRST[2]]
        assert await filter_by(pilot, screen, "text", "why is") == [NEWEST_FIRST[2]]
        await filter_by(pilot, screen, "text", "")
        await filter_by(pilot, screen, "target", "")
        assert await filter_by(pilot, screen, "model", "8b") == [NEWEST_FIRST[1]]
        await filter_by(pilot, screen, "model", "")
        assert await filter_by(pilot, screen, "since", "2025-03-04") == NEWEST_FIRST[:2]
        assert await filter_by(pilot, screen, "since", "2030-01-01") == []
        assert "no session matches" in str(screen.query_one("#history-status", Static).render())
        # A date it cannot read is a warning, and the list stays as it was.
        assert await filter_by(pilot, screen, "since", "someday") == []
        assert screen.query_one("#history-since", Input).has_class("-invalid")


async def test_a_date_without_a_zone_is_local_time_as_in_the_cli(tmp_path: Path, monkeypatch) -> None:
    app = history_app(tmp_path)
    # Twelve hours behind UTC, local midnight of 2025-03-04 is 12:00 UTC: the
    # session started at 09:30 UTC that day is before it (`infertui history
    # --since` reads the date the same way: tests/store/test_cli.py).
    with local_timezone(monkeypatch, "Etc/GMT+12"):
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_history(pilot)
            assert await filter_by(pilot, screen, "since", "2025-03-04") == NEWEST_FIRST[:1]
            assert await filter_by(pilot, screen, "since", "30m") == []
            assert not screen.query_one("#history-since", Input).has_class("-invalid")


async def test_opening_a_session_shows_panes_as_they_ended_and_the_summary(tmp_path: Path) -> None:
    app = history_app(tmp_path)
    expected = history_sessions()[1]  # the one with errors
    async with app.run_test(size=SIZE) as pilot:
        await open_history(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        assert screen.session.session_id == expected.session_id
        panes = list(screen.query(ProbePane))
        assert [p.target.label for p in panes] == ["sim-alpha/demo-70b", "sim-gamma/demo-8b"]
        last = {p.target.label: p for p in expected.probes if p.seq == 2}
        for pane in panes:
            assert pane.text == last[pane.target.label].text
            assert pane.result is not None and pane.result.status == last[pane.target.label].status
        assert panes[1].has_class("-error") and panes[1].status == "error"
        table = screen.query_one(SummaryTable)
        assert [row.target_label for row in table.summary] == ["sim-alpha/demo-70b", "sim-gamma/demo-8b"]
        assert [row.to_json() for row in table.summary] == [r.to_json() for r in metrics.summarize(expected.probes)]
        assert table.row_count == 2


async def test_charts_render_the_numbers_the_core_measured(tmp_path: Path) -> None:
    app = history_app(tmp_path)
    newest = history_sessions()[2]
    async with app.run_test(size=SIZE) as pilot:
        app.open_session(newest)
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        screen = app.screen
        summary = metrics.summarize(newest.probes)
        ttft = screen.query_one("#chart-ttft", RangeChart).render().plain
        e2e = screen.query_one("#chart-e2e", RangeChart).render().plain
        tps = screen.query_one("#chart-tps", RateBars).render().plain
        for row in summary:
            assert f"p50 {fmt_ms(row.ttft_ms.p50)}  p95 {fmt_ms(row.ttft_ms.p95)}" in ttft
            assert f"p50 {fmt_ms(row.e2e_ms.p50)}  p95 {fmt_ms(row.e2e_ms.p95)}" in e2e
            assert f"p50 {row.decode_tps.p50:.1f} tok/s" in tps
        # TTFT over time, from the store: alpha ran in all three sessions,
        # beta in two; the newest p50s are this session's.
        trend = screen.query_one("#chart-trend", TrendChart).render().plain
        assert "3 sessions" in trend and "2 sessions" in trend
        alpha = next(line for line in trend.splitlines() if line.startswith("sim-alpha"))
        assert f"this {fmt_ms(summary[0].ttft_ms.p50)}  min" in alpha and "newest" not in alpha
        # alpha's p50 was 130, 155 (the error session), 130 ms.
        assert "min 130 ms  max 155 ms" in alpha


async def test_replay_instant_ends_with_the_stored_text(tmp_path: Path) -> None:
    app = history_app(tmp_path)
    session = history_sessions()[1]
    async with app.run_test(size=SIZE) as pilot:
        screen = ReplayScreen(session, speed=INSTANT)
        app.push_screen(screen)
        await screen.done.wait()
        await pilot.pause()
        last = {p.target.label: p for p in session.probes if p.seq == 2}
        for pane in screen.panes:
            assert pane.text == last[pane.target.label].text
            assert pane.result is last[pane.target.label]
        assert [r.target_label for r in screen.query_one(SummaryTable).summary] == [
            "sim-alpha/demo-70b", "sim-gamma/demo-8b"]
        # Back one round: it shows round 2 of 3 complete, text of seq 1.
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert screen.current == 1
        alpha = screen.panes[0]
        assert alpha.text == next(p.text for p in session.probes if p.seq == 1 and p.target.label == alpha.target.label)


async def test_replay_at_4x_takes_a_quarter_of_the_recorded_time(tmp_path: Path) -> None:
    session = race_session(repeat=1, speed=1.6)  # one round, ~1.6 s recorded
    app = history_app(tmp_path, [])
    async with app.run_test(size=SIZE) as pilot:
        screen = ReplayScreen(session, speed=4)
        app.push_screen(screen)
        await screen.done.wait()
        elapsed = screen.ended_at - screen.started_at
        recorded = screen.plan.duration_ns / 1e9
        assert recorded == pytest.approx(1.6, abs=0.05)
        # Loosely (a busy machine delays frames): clearly faster than 1x,
        # never faster than 4x.
        assert recorded / 4 * 0.9 < elapsed < recorded / 4 * 2 + 0.3
        await pilot.pause()
        assert [p.text for p in screen.panes] == [p.text for p in session.probes]


async def footer_line(pilot) -> str:
    """The footer's keys, once it has drawn them (it builds them after a refresh)."""
    line = ""
    for _ in range(200):
        strips = pilot.app.screen._compositor.render_strips()
        line = "".join(segment.text for segment in strips[-1])
        if "esc Back" in line:
            break
        await pilot.pause(0.01)
    return line


async def test_replay_keys_switch_speed_and_pause(tmp_path: Path) -> None:
    session = race_session(repeat=2, speed=4.0)  # slow enough to catch mid-stream
    app = history_app(tmp_path, [])
    async with app.run_test(size=SIZE) as pilot:
        screen = ReplayScreen(session)
        app.push_screen(screen)
        await pilot.pause(0.2)
        assert not screen.done.is_set() and screen.speed == 1.0
        footer = await footer_line(pilot)
        assert footer.count("space Pause") == 1 and "space Play" not in footer
        await pilot.press("space")
        position = screen.position_ns
        await pilot.pause(0.15)
        assert screen.paused and screen.position_ns == position
        # Paused says so: the status and the key that now plays.
        assert str(screen.query_one("#replay-status", Static).render()).startswith("‖ 1x  paused")
        footer = await footer_line(pilot)
        assert "space Play" in footer and "space Pause" not in footer
        await pilot.press("space", "4")
        assert screen.speed == 4.0 and not screen.paused
        await pilot.press("i")
        await screen.done.wait()
        assert screen.current == 1
        assert [p.text for p in screen.panes] == [p.text for p in session.probes if p.seq == 1]
        await pilot.press("home")
        assert screen.speed == 1.0 and screen.current == 0 and not screen.done.is_set()


async def test_diff_view_shows_the_differing_lines(tmp_path: Path) -> None:
    app = history_app(tmp_path)
    session = history_sessions()[0]
    async with app.run_test(size=SIZE) as pilot:
        app.open_session(session)
        await settle(pilot)
        await pilot.press("d")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DiffScreen)
        view = screen.query_one(DiffView)
        changed = [(r.left, r.right) for r in view.rows if r.tag != "equal"]
        assert changed == [
            ("Air molecules scatter short blue wavelengths the most.",
             "Tiny molecules in the air scatter blue light far more than red."),
            (None, "At sunset the light crosses more air and reds remain."),
        ]
        assert "2 of 4 lines differ" in str(screen.query_one("#diff-stats", Static).render())
        await pilot.press("u")
        body = str(screen.query_one("#diff-body", Static).render())
        assert "-Air molecules" in body and "+Tiny molecules" in body
        await pilot.press("x")
        assert view.left_title.startswith("sim-beta/demo-70b")
        await pilot.press("escape")
        assert isinstance(app.screen, SessionScreen)


async def test_rerun_key_calls_the_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = history_app(tmp_path)
    calls: list[str] = []
    monkeypatch.setattr(app, "rerun", lambda session: calls.append(session.session_id))
    async with app.run_test(size=SIZE) as pilot:
        await open_history(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert calls == [NEWEST_FIRST[0]]
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, SessionScreen)
        await pilot.press("r")
        assert calls == [NEWEST_FIRST[0], NEWEST_FIRST[2]]


async def test_rerun_runs_the_comparison_again(tmp_path: Path) -> None:
    app = create_app(None, tmp_path / "results.db", sim_time_scale=0.0, detect_local_servers=False)
    fill_store(tmp_path / "results.db", [race_session(repeat=1)])
    async with app.run_test(size=SIZE) as pilot:
        await open_history(pilot)
        await pilot.press("r")
        await settle(pilot)
        compare = app.compare
        assert app.screen is compare
        assert [t.label for t in compare.targets] == ["sim-alpha/demo-70b", "sim-beta/demo-70b"]
        assert compare.session is not None and compare.session.params.prompt == "Why is the sky blue?"


async def test_an_unreadable_store_is_a_notification_not_a_crash(tmp_path: Path) -> None:
    db = tmp_path / "results.db"
    db.write_bytes(b"this is not a database" * 50)
    app = create_app(None, db, detect_local_servers=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_history(pilot)
        assert listed(screen) == []
        assert "could not be read" in str(screen.query_one("#history-status", Static).render())
        assert any("store" in n.title.lower() or "store" in n.message.lower() for n in app._notifications)
        await pilot.press("escape")
        assert app.screen is app.compare


async def test_replay_badges_go_to_the_earliest_recorded_offsets(tmp_path: Path) -> None:
    session = race_session(repeat=1)
    session.probes.reverse()  # the slower target's probe stored first
    app = history_app(tmp_path, [])
    async with app.run_test(size=SIZE) as pilot:
        screen = ReplayScreen(session, speed=INSTANT)
        app.push_screen(screen)
        await screen.done.wait()
        await pilot.pause()
        alpha, beta = screen.panes
        assert alpha.target.label == "sim-alpha/demo-70b"
        assert "1st token" in alpha.header_text and "1st finish" in alpha.header_text
        assert "1st" not in beta.header_text
        # The summary lists targets in the session's order, whatever finished first.
        assert [r.target_label for r in screen.query_one(SummaryTable).summary] == [
            "sim-alpha/demo-70b", "sim-beta/demo-70b"]


async def test_diff_from_the_probes_tab_starts_with_the_highlighted_probe(tmp_path: Path) -> None:
    app = history_app(tmp_path)
    session = history_sessions()[0]
    async with app.run_test(size=SIZE) as pilot:
        app.open_session(session)
        await settle(pilot)
        await pilot.press("3", "down", "down", "d")  # the third probe: sim-alpha #1
        await pilot.pause()
        view = app.screen.query_one(DiffView)
        assert view.left_title == "sim-alpha/demo-70b #1"
        assert view.right_title == "sim-beta/demo-70b #2"


async def test_f2_from_a_session_goes_back_to_the_history(tmp_path: Path) -> None:
    app = history_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        history = await open_history(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, SessionScreen)
        await pilot.press("f2")
        await settle(pilot)
        assert app.screen is history
        assert sum(isinstance(s, HistoryScreen) for s in app.screen_stack) == 1


async def test_replay_panes_count_seconds_on_the_recorded_timeline(tmp_path: Path) -> None:
    session = race_session(repeat=1, speed=4.0)
    app = history_app(tmp_path, [])
    async with app.run_test(size=SIZE) as pilot:
        screen = ReplayScreen(session, speed=4)
        app.push_screen(screen)
        await pilot.pause()
        screen.action_toggle_pause()
        screen.seek(1_250_000_000)
        await pilot.pause()
        live = [p for p in screen.panes if p.result is None]
        assert live, "a probe still streaming 1.25 s in"
        for pane in live:
            assert pane.header_text.splitlines()[1].endswith("· 1.2 s")
