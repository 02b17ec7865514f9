"""Numbers the user must be able to believe, as the app shows them: probes
timed while infertui lagged are marked wherever their numbers appear (with the
reason on a key), estimates carry `~`, badges say what they rest on, and
headers side by side show the same pieces."""

from __future__ import annotations

from dataclasses import replace

from textual.widgets import DataTable

from infertui.core.result import Usage
from infertui.core.session import Session
from infertui.tui.messages import RunEnded
from infertui.tui.screens.session import SessionScreen
from infertui.tui.widgets.charts import SessionCharts
from infertui.tui.widgets.pane import number_parts, widest_values
from infertui.tui.widgets.paneheader import SEPARATORS, HeaderModel, Part, fit_row
from infertui.tui.widgets.summary import SummaryTable
from tests.tui.helpers import SIZE, make_app, shown
from tests.tui.test_history_fixtures import race_session


def lagged(session: Session, label: str, lag_ms: float = 184.0) -> Session:
    """`session` with every probe of `label` flagged client_saturated."""
    session.probes = [replace(p, client_saturated=True, loop_lag_ms=lag_ms) if p.target.label == label else p
                      for p in session.probes]
    return session


def estimated(session: Session, label: str) -> Session:
    """`session` where `label`'s server sent no usage (the app counts tokens itself)."""
    session.probes = [replace(p, usage=Usage(input_tokens=14)) if p.target.label == label else p
                      for p in session.probes]
    return session


async def show(pilot, session: Session):
    pilot.app.compare.show_session(session)
    await pilot.pause()
    await pilot.pause()
    return pilot.app.compare


async def test_probes_timed_while_the_app_lagged_are_marked(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        compare = await show(pilot, lagged(race_session(repeat=2), "sim-alpha/demo-70b"))
        alpha, beta = compare.panes.values()
        assert "⚠ client lag 184 ms" in alpha.header_text and "⚠" not in beta.header_text
        table = compare.query_one(SummaryTable)
        assert table.get_cell("sim-alpha/demo-70b", "lag").plain == "2/2"
        assert table.get_cell("sim-beta/demo-70b", "lag") == ""
        assert "⚠ lag" in table.as_tsv().splitlines()[0]
        # The reason, on a key press: the pane's probe, then the summary row.
        alpha.focus()
        await pilot.press("i")
        await pilot.pause()
        assert "late by up to 184 ms" in list(app._notifications)[-1].message
        table.focus()
        table.move_cursor(row=0)
        await pilot.press("i")
        await pilot.pause()
        assert "2 of 2 ok probes were timed while infertui's own event loop was late (up to 184 ms" in \
            list(app._notifications)[-1].message


async def test_the_end_of_a_run_says_how_many_probes_lagged(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        session = lagged(race_session(repeat=2), "sim-beta/demo-70b")
        app.compare.post_message(RunEnded(session, False, []))
        await pilot.pause()
        status = shown(app.compare.query_one("#run-status"))
        assert "⚠ 2 timed while infertui lagged (i: why)" in status


async def test_estimated_tokens_carry_a_tilde_everywhere(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        session = estimated(race_session(repeat=1), "sim-beta/demo-70b")
        compare = await show(pilot, session)
        alpha, beta = compare.panes.values()
        numbers = beta.header_text.splitlines()[1]
        assert " ~" in numbers and "tok · ~" in numbers, numbers  # tokens and tok/s
        assert "~" not in alpha.header_text.splitlines()[1]
        table = compare.query_one(SummaryTable)
        assert table.get_cell("sim-beta/demo-70b", "tps50").plain.startswith("~")
        assert not table.get_cell("sim-alpha/demo-70b", "tps50").plain.startswith("~")
        app.push_screen(SessionScreen(session))
        await pilot.pause()
        probes = app.screen.query_one("#session-probes", DataTable)
        beta_row = probes.get_row_at(1)
        assert str(beta_row[5]).startswith("~") and str(beta_row[6]).startswith("~")
        assert not str(probes.get_row_at(0)[5]).startswith("~")


async def test_session_probes_tab_marks_lag(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.push_screen(SessionScreen(lagged(race_session(repeat=1), "sim-alpha/demo-70b", 57.0)))
        await pilot.pause()
        probes = app.screen.query_one("#session-probes", DataTable)
        assert str(probes.get_row_at(0)[8]) == "57 ms" and str(probes.get_row_at(1)[8]) == ""


async def test_badges_say_what_they_rest_on(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        compare = await show(pilot, race_session(repeat=1))
        alpha, _ = compare.panes.values()
        assert "1st token" in alpha.header_text and "1st finish" in alpha.header_text
        compare = await show(pilot, race_session(repeat=3))
        alpha, beta = compare.panes.values()
        assert "best TTFT p50" in alpha.header_text and "best e2e p50" in alpha.header_text
        assert "1st" not in alpha.header_text + beta.header_text
        await pilot.press("f1")
        await pilot.pause()
        help_text = shown(app.screen.query_one("#help-metrics"))
        assert "best TTFT p50" in help_text and "latest probe" in help_text


QUICK = ("160 ms", "106", "118.6", "e2e", "22.0 s")
SLOW = ("1.20 s", "~2048", "~118.6", "e2e", "22.0 s")


def finished_model(values) -> HeaderModel:
    # Side by side, each header is fitted as the widest values of both.
    return HeaderModel(Part.of("● ok"), numbers=number_parts(*values),
                       numbers_template=number_parts(*widest_values(QUICK, SLOW)))


def test_headers_at_one_width_show_the_same_pieces():
    quick, slow = finished_model(QUICK), finished_model(SLOW)
    for width in range(24, 60):
        a, b = quick.rows(width)[1].plain, slow.rows(width)[1].plain
        assert ("tok " in a) == ("tok " in b), (width, a, b)
        assert ("e2e" in a) == ("e2e" in b), (width, a, b)
    # Without the template, the two rows at 45 cells differ (what users saw).
    assert "tok " in fit_row(quick.numbers, 45, seps=SEPARATORS).plain
    assert "tok " not in fit_row(slow.numbers, 45, seps=SEPARATORS).plain


async def test_panes_side_by_side_fit_their_headers_to_one_width(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(121, 40)) as pilot:  # the panes' grid is an odd number of cells wide
        compare = await show(pilot, race_session(repeat=1))
        await pilot.pause()
        widths = {pane.size.width for pane in compare.panes.values()}
        fits = {pane._header.fit_width for pane in compare.panes.values()}
        assert len(widths) == 2 and len(fits) == 1 and fits.pop() == min(widths)


def test_chart_titles_leave_units_to_the_axes():
    charts = SessionCharts([])
    titles = [chart.chart_title for chart in charts.compose()]
    assert titles and not any("ms" in title for title in titles)
