"""The probe pane piece by piece: header rows fitted to their width, the
sparkline, wrapped streaming text, the injected clock."""

from __future__ import annotations

import pytest
from rich.cells import cell_len
from rich.text import Text
from textual.geometry import Region

from infertui.core.clock import ManualClock
from infertui.core.result import ChunkKind
from infertui.tui.app import create_app
from infertui.tui.widgets.pane import ProbePane, number_parts, status_parts
from infertui.tui.widgets.paneheader import (
    SEPARATORS,
    HeaderModel,
    Part,
    fit_row,
    spark_levels,
)
from infertui.tui.widgets.streamtext import wrap_into
from tests.tui.helpers import SIZE, make_app, wait_run
from tests.tui.test_history_fixtures import race_session


def finished_numbers() -> list[Part]:
    return number_parts("160 ms", "106", "118.6", "e2e", "22.0 s")


def busy_status() -> list[Part]:
    return [Part.of("● streaming"), *status_parts("#3", True, True, True, "2/4 done · 1 running")]


# -- header rows ----------------------------------------------------------------------

def test_numbers_row_reads_unambiguously_when_it_fits() -> None:
    row = fit_row(finished_numbers(), 80, seps=SEPARATORS)
    assert row.plain == "TTFT 160 ms · 106 tok · 118.6 tok/s · e2e 22.0 s"


@pytest.mark.parametrize("width, expected", [
    (49, "TTFT 160 ms · 106 tok · 118.6 tok/s · e2e 22.0 s"),
    (46, "TTFT 160 ms  106 tok  118.6 tok/s  e2e 22.0 s"),
    (40, "TTFT 160 ms · 118.6 tok/s · e2e 22.0 s"),
    (34, "TTFT 160ms · 118.6 t/s · e2e 22.0s"),
    (30, "TTFT 160ms · 118.6 t/s"),
])
def test_numbers_row_drops_the_least_important_first(width: int, expected: str) -> None:
    assert fit_row(finished_numbers(), width, seps=SEPARATORS).plain == expected


@pytest.mark.parametrize("width, expected", [
    (200, "● streaming  #3  warm-up   1st token    1st finish   2/4 done · 1 running"),
    (72, "● streaming  warm-up   1st token    1st finish   2/4 done · 1 running"),
    (60, "● streaming  warm-up   1st token    1st finish   2/4 done"),
    (48, "● streaming  warm-up   1st token    1st finish "),
    (44, "● streaming  warm-up   1st tok    1st fin "),
    (34, "● streaming   1st tok    1st fin "),
    (24, "● streaming   1st tok "),
    (8, "● stream"),  # never more than the width
])
def test_status_row_shortens_then_drops_in_priority_order(width: int, expected: str) -> None:
    assert fit_row(busy_status(), width).plain == expected


@pytest.mark.parametrize("width", [12, 20, 24, 30, 32, 36, 45, 60, 120])
def test_header_rows_fit_every_width_and_keep_ttft_and_rate(width: int) -> None:
    model = HeaderModel(Part.of("● ok"), busy_status()[1:], finished_numbers())
    first, second = model.rows(width)
    assert cell_len(first.plain) <= width and cell_len(second.plain) <= width
    if width >= 24:
        assert second.plain.startswith("TTFT 160") and "118.6 t" in second.plain


def test_sparkline_draws_nothing_until_there_are_gaps() -> None:
    assert spark_levels([], 30) == []
    assert spark_levels([12.0], 30) == []
    assert spark_levels([10.0, 20.0, 30.0], 30) == [0, 4, 7]  # one bar per gap while they fit
    wide = spark_levels([float(i % 10) for i in range(100)], 25)
    assert len(wide) == 25 and max(wide) == 7
    assert spark_levels([5.0, 5.0, 5.0], 10) == [0, 0, 0]


# -- wrapping ---------------------------------------------------------------------------

def test_wrap_counts_cells_not_characters() -> None:
    lines: list[str] = []
    rest = wrap_into(lines, "天气很好 sky is blue", 8)
    assert lines == ["天气很好", "sky is"] and rest == "blue"
    assert all(cell_len(line) <= 8 for line in lines)
    lines = []
    assert wrap_into(lines, "abcdefghij", 4) == "ij" and lines == ["abcd", "efgh"]


# -- the pane in the app -------------------------------------------------------------------

def row_text(widget, y: int) -> str:
    return widget.render_lines(Region(0, y, widget.size.width, 1))[0].text


async def test_pane_header_shows_seconds_on_the_apps_clock(tmp_path) -> None:
    clock = ManualClock(0)  # begin() at 0 ns is a beginning too
    app = create_app(None, tmp_path / "results.db", detect_local_servers=False, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        pane = next(iter(app.compare.panes.values()))
        pane.begin("x.0.0", 0, False)
        clock.advance_ms(1500)
        pane.flush()
        assert pane.header_text.splitlines()[1] == "TTFT — · ~0 tok · — tok/s · 1.5 s"
        await pilot.pause()
        # Waiting: no sparkline yet, not a row of the lowest bar.
        assert row_text(pane._header, 2).strip() == ""
        pane.append(ChunkKind.CONTENT, "Hello ", 150_000_000)
        pane.append(ChunkKind.CONTENT, "there ", 170_000_000)
        pane.append(ChunkKind.CONTENT, "world", 200_000_000)
        pane._stats_slot = None  # the live numbers are drawn at most 5 times a second
        pane.flush()
        await pilot.pause()
        assert row_text(pane._header, 2).strip() != ""
        assert "TTFT 150 ms" in row_text(pane._header, 1)


async def test_narrow_panes_keep_the_numbers_row(tmp_path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        compare = app.compare
        compare.show_session(race_session(repeat=2))  # two panes beside the sidebar: 38 columns each
        for _ in range(10):
            await pilot.pause()
        for pane in compare.panes.values():
            header = pane._header
            assert header.size.width == 34
            first, second = row_text(header, 0), row_text(header, 1)
            assert first.startswith("● ok") and len(first) == 34, first
            assert second.startswith("TTFT ") and "t/s" in second and "e2e" in second, second
            assert "t/s" not in first  # the numbers never spill into the status row


async def test_text_follows_the_end_until_scrolled_up(tmp_path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        pane = next(iter(app.compare.panes.values()))
        pane.begin("x.0.0", 0, False)
        for i in range(80):
            pane.append(ChunkKind.CONTENT, f"line {i}\n")
        pane.flush()
        await pilot.pause()
        text = pane._content
        height = text.size.height
        assert text.following and text.first_shown == text.line_count - height
        assert row_text(text, height - 1).startswith("line 79")
        pane.focus()
        await pilot.press("pageup")
        assert not text.following
        top = text.first_shown
        pane.append(ChunkKind.CONTENT, "more\n")
        pane.flush()
        await pilot.pause()
        assert text.first_shown == top  # reading up there is not interrupted
        await pilot.press("pagedown", "pagedown", "pagedown")
        assert text.following
        # Textual's own callers pass scroll options (anchor() passes
        # immediate= and animate=): the text view takes them.
        text.scroll_home(animate=False)
        assert not text.following and text.first_shown == 0
        text.anchor()
        assert text.following


async def test_summary_lists_every_target_before_any_probe_ends(tmp_path) -> None:
    from infertui.tui.widgets.summary import SummaryTable
    from tests.fakes import Script, ScriptedTransport

    app = make_app(tmp_path)
    silent = ScriptedTransport(Script(headers_delay=60.0))  # no provider answers
    app.transport_factory = lambda provider: silent
    async with app.run_test(size=SIZE) as pilot:
        compare = app.compare
        await pilot.press("ctrl+r")
        await pilot.pause()
        table = compare.query_one(SummaryTable)
        assert [key.value for key in table.rows] == [t.label for t in compare.targets]
        assert [table.get_cell(t.label, "n") for t in compare.targets] == [Text("0", justify="right")] * 3
        assert table.summary == []
        compare.action_cancel()
        await wait_run(pilot)
        assert [row.n for row in table.summary] == [1, 1, 1]  # cancelled probes count


def test_pane_builds_outside_an_app() -> None:
    from tests.tui.test_history_fixtures import ALPHA

    pane = ProbePane(ALPHA, clock=ManualClock(5))
    pane.begin("x.0.0", 0, False)
    assert pane._began_ns == 5


def test_pane_counts_seconds_from_the_request_sent() -> None:
    # A busy run may draw a probe for the first time after its first tokens:
    # the seconds still count from when the request went out.
    from tests.tui.test_history_fixtures import ALPHA

    clock = ManualClock(5_000_000_000)
    pane = ProbePane(ALPHA, clock=clock)
    pane.begin("x.0.0", 0, False, sent_ns=2_000_000_000)
    pane.append(ChunkKind.CONTENT, "Hello", 150_000_000)
    assert "TTFT 150 ms" in pane.header_text and "3.0 s" in pane.header_text
