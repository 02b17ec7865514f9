"""How a measured number is written, and that the CLI, the app and the
exports write it the same way."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from infertui import units
from infertui.cli.render import print_summary
from infertui.core.result import Chunk, ChunkKind, ProbeResult, Status, Usage
from infertui.core.session import RunSettings, Session
from infertui.core.targets import Api, ProbeParams, Provider, Target
from infertui.report.build import session_report
from infertui.report.markdown import render as report_markdown
from infertui.store.export import render
from infertui.store.rows import TargetLine
from infertui.tables.campaign import targets_table
from infertui.tui.widgets.summary import summary_cells


@pytest.mark.parametrize("value, expected", [
    (None, "—"), (0, "0.0 ms"), (0.4, "0.4 ms"), (8.54, "8.5 ms"), (9.94, "9.9 ms"),
    (9.96, "10 ms"), (148.4, "148 ms"), (999.4, "999 ms"), (999.7, "1.00 s"), (1000, "1.00 s"),
    (2780, "2.78 s"), (9994, "9.99 s"), (9999.7, "10.0 s"), (12_345, "12.3 s"),
    (1_234_567, "1234.6 s"), (-42, "-42 ms"), (-2780, "-2.78 s"),
])
def test_ms_switches_units_where_the_printed_value_does(value, expected) -> None:
    assert units.ms(value) == expected


def test_the_other_forms() -> None:
    assert units.compact_ms(999.4) == "999ms" and units.compact_ms(999.7) == "1.00s"
    assert units.compact_ms(None) == "—"
    assert [units.tick_ms(v) for v in (0, 250, 1000, 1500)] == ["0", "250 ms", "1 s", "1.5 s"]
    assert units.seconds(99.94) == "99.9 s" and units.seconds(99.97) == "100 s"
    assert [units.elapsed(v) for v in (None, -3, 0, 65.9, 3599, 3600, 3725)] == [
        "—", "0m00s", "0m00s", "1m05s", "59m59s", "1h00m", "1h02m"]
    assert units.num(None) == "—" and units.num(142.46) == "142.5" and units.num(3.14159, 3) == "3.142"
    assert units.share(None) == "—" and units.share(0.925) == "92.5%" and units.share(1) == "100.0%"


# --- the CLI, the app and the exports agree ---------------------------------------------

TARGET = Target(Provider("p", Api.OPENAI, "http://x/v1"), "m")


def _probe(seq: int, ttft_ms: float) -> ProbeResult:
    first = int(ttft_ms * 1e6)
    return ProbeResult(f"p{seq}", TARGET, seq=seq, status=Status.OK, first_content_ns=first,
                       first_reasoning_ns=first, last_token_ns=first + 1_000_000_000,
                       end_ns=first + 1_000_000_000,
                       chunks=[Chunk(first, ChunkKind.CONTENT, "one"),
                               Chunk(first + 1_000_000_000, ChunkKind.CONTENT, " two")],
                       usage=Usage(output_tokens=101), sent_at="2026-01-01T00:00:00Z")


def test_a_ttft_reads_the_same_in_the_cli_the_app_history_and_the_export() -> None:
    # 2,780 ms is where the old rules parted: the CLI printed "2780 ms", the app "2.78 s".
    session = Session("s1", "2026-01-01T00:00:00Z", ProbeParams("hi"), [TARGET],
                      RunSettings(repeat=1), [_probe(0, 2780.0)])
    row = session.summary()[0]
    assert row.ttft_ms.p50 == pytest.approx(2780.0)
    shown = units.ms(row.ttft_ms.p50)
    assert shown == "2.78 s"

    console = Console(width=160, record=True, file=io.StringIO())
    print_summary(session, console)
    row_line = next(line for line in console.export_text().splitlines() if line.startswith("│ p/m"))
    assert f" {shown} │" in row_line and "2780" not in row_line  # infertui probe / show

    cells = [str(c) for c in summary_cells(row)]  # the app's summary table
    assert cells[5] == shown

    markdown = render([session], "md")  # infertui export --format md, ctrl+s
    assert f"| {shown} |" in markdown

    report = report_markdown(session_report(session.to_json()))  # infertui report
    assert shown in report and "2780 ms" not in report

    line = TargetLine(label="p/m", provider="p", model="m", n=1, ok=1, errors=0, cancelled=0,
                      ttft_p50_ms=row.ttft_ms.p50, ttft_p95_ms=row.ttft_ms.p95,
                      e2e_p50_ms=None, decode_tps_p50=None)
    assert f"ttft p50 {shown}" in line.one_line()  # infertui history


def test_campaign_tables_write_ms_and_shares_as_the_rest() -> None:
    latency = {"p50": 2780.0, "p95": 8.54, "p99": None, "ci95": {}}
    row = {"target": "p/m", "n": 2, "ok": 2, "errors": 0, "availability": 0.925,
           "ttft_ms": latency, "e2e_ms": latency, "decode_tps": {"p50": 142.46},
           "ttft_p99_over_p50": None, "stalls": 0, "rate_limited": {"n": 0},
           "cost_per_ok_usd": None}
    console = Console(width=300, record=True, file=io.StringIO())
    console.print(targets_table({"spec": {}, "targets": [row]}))
    text = console.export_text()
    assert "2.78 s" in text and "8.5 ms" in text and "92.5%" in text
