"""The app's campaign screen, driven with Pilot against the in-process
simulator at a small time scale: start from a file, watch, finish; stop and
resume a stored one; open a stored one."""

from __future__ import annotations

import asyncio
import time

from textual.widgets import DataTable, Input, Static, TabbedContent

from infertui.store.campaigns import Campaigns
from infertui.store.repository import Store
from infertui.tui.screens.campaign import CampaignScreen
from tests.tui.helpers import SIZE, make_app, shown

CAMPAIGN = """
name = "screen"
targets = ["sim-alpha/fast", "sim-beta/fast"]
prompt = "hi"
concurrency = [1, 3]
requests = {requests}
max_tokens = 8
"""


async def until(pilot, condition, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)
        await pilot.pause()


def stored(tmp_path):
    with Store.open(tmp_path / "results.db") as store:
        return Campaigns(store).list()


async def test_a_campaign_runs_from_a_file_and_shows_its_tables(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(CAMPAIGN.format(requests=60))
    app = make_app(tmp_path, time_scale=0.2)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f4")
        screen = app.screen
        assert isinstance(screen, CampaignScreen)
        screen.query_one("#campaign-source", Input).value = str(path)
        await pilot.press("ctrl+r")
        await until(pilot, lambda: screen.executor is not None or screen.doc is not None)
        seen_cells = seen_stream = False

        def live_or_done():
            nonlocal seen_cells, seen_stream
            if screen.executor is not None:
                seen_cells |= screen.query_one("#campaign-cells", DataTable).row_count > 0
                panes = [shown(p) for p in screen.query(".campaign-stream")]
                seen_stream |= len(panes) == 2 and any("\n" in p and p.split("\n", 1)[1]
                                                       for p in panes)
            return screen.doc is not None

        await until(pilot, live_or_done)
        assert seen_cells and seen_stream
        assert screen.query_one("#campaign-tabs", TabbedContent).active == "tab-results"
        text = shown(screen.query_one("#campaign-results", Static))
        assert "pairwise" in text and "sim-beta/fast" in text and "TTFT per target" in text
        assert screen.doc["status"] == "finished" and len(screen.doc["cells"]) == 4
        await until(pilot, lambda: screen.query_one("#campaign-list", DataTable).row_count == 1)
    (row,) = stored(tmp_path)
    assert row.status == "finished" and row.probes == 2 * 2 * 60


async def test_stop_then_resume_from_the_list(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(CAMPAIGN.format(requests=40))
    app = make_app(tmp_path, time_scale=0.2)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(CampaignScreen())
        await pilot.pause()
        screen = app.screen
        screen.query_one("#campaign-source", Input).value = str(path)
        screen.action_start()
        await until(pilot, lambda: screen.executor is not None
                    and screen.executor.progress.requests_done >= 10)
        await pilot.press("escape")
        await until(pilot, lambda: screen.doc is not None)
        assert screen.doc["status"] == "stopped"
        await until(pilot, lambda: len(screen._rows) == 1)
        table = screen.query_one("#campaign-list", DataTable)
        screen.query_one("#campaign-tabs", TabbedContent).active = "tab-list"
        table.focus()
        screen.doc = None
        await pilot.press("r")
        await until(pilot, lambda: screen.doc is not None and screen.doc["status"] == "finished",
                    seconds=120)
        assert all(c["n"] == 40 for c in screen.doc["cells"])
    (row,) = stored(tmp_path)
    assert row.status == "finished"


async def test_a_bad_source_is_a_notice_not_a_crash(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f4")
        screen = app.screen
        screen.query_one("#campaign-source", Input).value = "nosuch"
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert screen.executor is None
        assert any("neither a campaign file" in n.message for n in app._notifications)


async def test_history_marks_campaign_rounds_and_opens_their_campaign(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(CAMPAIGN.format(requests=3))
    app = make_app(tmp_path, time_scale=0.05)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("f4")
        screen = app.screen
        screen.query_one("#campaign-source", Input).value = str(path)
        await pilot.press("ctrl+r")
        await until(pilot, lambda: screen.doc is not None)
        campaign_id = screen.doc["campaign_id"]
        app.pop_screen()
        await pilot.pause()
        await pilot.press("f2")
        from infertui.tui.screens.history import HistoryScreen

        history = app.screen
        assert isinstance(history, HistoryScreen)
        table = history.query_one("#history-table", DataTable)
        await until(pilot, lambda: table.row_count == 2)
        cells = [str(cell) for row in range(table.row_count) for cell in table.get_row_at(row)]
        assert any("◆ screen r0 c1" in c for c in cells) and any("◆ screen r0 c3" in c for c in cells), cells
        table.focus()
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, CampaignScreen) and app.screen.doc is not None)
        assert app.screen.doc["campaign_id"] == campaign_id
