"""Checks in the app: the extra parameters reach the run, F5 checks every
target (badges on each pane, F6 the details), the session and campaign
screens show the tables, ctrl+s writes the HTML report."""

from __future__ import annotations

import asyncio
import time

import pytest
from textual.widgets import Input, Switch

from infertui.core.targets import ProbeParams
from infertui.store.repository import Store
from infertui.tui.screens.checks import CheckDetails
from infertui.tui.widgets.check_badges import CheckBadges
from infertui.tui.widgets.params import ParamsError
from infertui.tui.widgets.params_extra import ExtraParams, format_stop, parse_stop
from tests.tui.helpers import SIZE, make_app, shown, targets_of, wait_run


async def until(pilot, condition, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)
        await pilot.pause()


def test_stop_sequences_are_typed_with_bars_and_escapes():
    assert parse_stop("END|\\n\\n|a\\|b|") == ("END", "\n\n", "a|b")
    assert parse_stop("") == ()
    for stop in (("END",), ("a|b", "\n", "back\\slash", "\t")):
        assert parse_stop(format_stop(stop)) == stop


async def test_the_extra_parameters_reach_the_run_and_come_back(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        compare = app.compare
        compare.set_targets(targets_of(app, "sim-alpha/fast"))
        compare.query_one("#prompt").text = (
            "Write the words alpha, beta, gamma, delta and epsilon on one line, separated by "
            "single spaces, and write nothing else.")
        compare.query_one("#stop", Input).value = "gamma|zeta"
        compare.query_one("#request-seed", Input).value = "11"
        compare.query_one("#top-p", Input).value = "0.7"
        compare.query_one("#json-output", Switch).value = False
        await pilot.press("ctrl+r")
        await wait_run(pilot)
        session = compare.session
        assert session.params.stop == ("gamma", "zeta") and session.params.request_seed == 11
        assert session.params.top_p == 0.7
        assert session.probes[0].text == "alpha beta "  # the simulator honoured the stop
        with Store.open(tmp_path / "results.db") as store:
            assert store.load_session(session.session_id).params == session.params
        compare.query_one(ExtraParams).load(ProbeParams("x", stop=("\n",), json_output=True))
        assert compare.query_one("#stop", Input).value == "\\n"
        assert compare.query_one("#json-output", Switch).value is True
        compare.query_one("#top-p", Input).value = "3"
        with pytest.raises(ParamsError, match="top p: must be between 0 and 1, got 3"):  # as --top-p says
            compare.read_params()


async def test_f5_checks_every_target_and_f6_shows_why(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        compare = app.compare
        compare.set_targets(targets_of(app, "sim-alpha/fast", "sim-alpha/ignores-stop"))
        await pilot.pause()
        await pilot.press("f6")
        assert any("No checks yet" in str(n.message) for n in app._notifications)
        await pilot.press("f5")
        await until(pilot, lambda: getattr(compare, "check_rows", None))
        badges = {label: shown(pane.query_one(CheckBadges))
                  for label, pane in compare.panes.items()}
        assert "stop ✗" in badges["sim-alpha/ignores-stop"]
        assert "stop ✓" in badges["sim-alpha/fast"] and "fidelity 12/12" in badges["sim-alpha/fast"]
        compare.panes["sim-alpha/ignores-stop"].focus()
        await pilot.press("f6")
        await pilot.pause()
        assert isinstance(app.screen, CheckDetails)
        text = shown(app.screen.query_one("#check-details"))
        assert "goes on past the stop sequence 'gamma'" in text and '"stop": ["gamma"]' in text
        await pilot.press("escape")
        await pilot.pause()
    with Store.open(tmp_path / "results.db") as store:
        stored = store.load_session("last")
    assert stored.check_spec == {"checks": ["compliance", "fidelity"], "reference": None}
    assert {p.check for p in stored.probes} >= {"compliance.stop", "fidelity.copy-long"}


async def test_the_session_screen_shows_the_checks_and_ctrl_s_writes_the_report(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        compare = app.compare
        compare.set_targets(targets_of(app, "sim-gamma/quantized"))
        await pilot.press("f5")
        await until(pilot, lambda: getattr(compare, "check_rows", None))
        with Store.open(tmp_path / "results.db") as store:
            session = store.load_session("last")
        from infertui.tui.screens.session import SessionScreen

        await app.push_screen(SessionScreen(session))
        await pilot.pause()
        screen = app.screen
        text = shown(screen.query_one("#session-checks-body"))
        assert "Parameter compliance" in text and "Fidelity failures" in text
        assert "arith-mul" in text
        assert "fidelity 9/12" in shown(screen.query_one(CheckBadges))
        await pilot.press("ctrl+s")
        await pilot.pause()
        out = tmp_path / "checks.html"
        app.screen.query_one("#export-format").value = "html"
        app.screen.query_one("#export-path").value = str(out)
        await pilot.click("#export-ok")
        await pilot.pause()
        html = out.read_text()
        assert html.startswith("<!DOCTYPE html>") and 'id="table-fidelity-failures"' in html
        assert session.session_id in html


async def test_the_campaign_screen_shows_the_checks_and_writes_the_report(tmp_path):
    from infertui.tui.screens.campaign import CampaignScreen
    from tests.helpers.report_sample import SAMPLE_ID, sample_campaign

    # In a thread: the campaign runs on a virtual-time loop of its own.
    await asyncio.to_thread(sample_campaign, tmp_path / "results.db", requests=3)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f4")
        screen = app.screen
        assert isinstance(screen, CampaignScreen)
        screen._document_worker(SAMPLE_ID)
        await until(pilot, lambda: screen.doc is not None)
        text = shown(screen.query_one("#campaign-results"))
        assert "Parameter compliance" in text and "Agreement with the reference" in text
        await pilot.press("ctrl+s")
        await pilot.pause()
        out = tmp_path / "campaign.html"
        app.screen.query_one("#report-path").value = str(out)
        await pilot.click("#report-ok")
        await until(pilot, out.is_file)
        assert 'id="table-compliance"' in out.read_text() and "<svg" in out.read_text()
