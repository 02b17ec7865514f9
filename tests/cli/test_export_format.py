"""CSV and Markdown exports as people read them: the tables' order, yes/no and
empty cells instead of Python values, marks for estimated token counts and
for probes timed while the client lagged, each explained."""

from __future__ import annotations

import csv
import dataclasses
import io

from infertui.core.result import Chunk, ChunkKind, ErrorKind, ProbeError, ProbeResult, Status, Usage
from infertui.core.session import RunSettings, Session
from infertui.core.targets import Api, ProbeParams, Provider, Target
from infertui.store.export import render

A = Target(Provider("a", Api.OPENAI, "http://x/v1"), "m")
B = Target(Provider("b", Api.OPENAI, "http://x/v1"), "m")


def _ok(target, seq, *, usage=True, saturated=False, warmup=False):
    return ProbeResult(f"{target.label}-{seq}{'w' if warmup else ''}", target, seq=seq, warmup=warmup,
                       status=Status.OK, first_content_ns=100_000_000,
                       first_reasoning_ns=100_000_000, last_token_ns=900_000_000,
                       end_ns=900_000_000,
                       chunks=[Chunk(100_000_000, ChunkKind.CONTENT, "one two three"),
                               Chunk(900_000_000, ChunkKind.CONTENT, " four")],
                       usage=Usage(output_tokens=50 if usage else None),
                       client_saturated=saturated, loop_lag_ms=35.0 if saturated else 0.4)


def _session():
    # Completion order, not table order; no temperature, no reasoning switch.
    probes = [_ok(B, 1), _ok(A, 1, saturated=True), _ok(B, 0, usage=False), _ok(A, 0, warmup=True),
              ProbeResult("c", A, seq=2, status=Status.CANCELLED)]
    return Session("s1", "2026-01-01T00:00:00Z", ProbeParams("hi", temperature=None, reasoning=None),
                   [A, B], RunSettings(repeat=2, warmup=1), probes)


def test_csv_rows_in_table_order_with_yes_no_and_empty_cells():
    rows = list(csv.DictReader(io.StringIO(render([_session()], "csv"))))
    assert [(r["target"], r["seq"], r["warmup"]) for r in rows] == [
        ("a/m", "0", "yes"), ("a/m", "1", "no"), ("a/m", "2", "no"), ("b/m", "0", "no"),
        ("b/m", "1", "no")]
    assert [r["client_saturated"] for r in rows] == ["no", "yes", "no", "no", "no"]
    assert rows[1]["loop_lag_ms"] == "35.0"
    assert rows[3]["output_tokens_source"] == "estimate"
    assert rows[2]["status"] == "cancelled" and rows[2]["ttft_ms"] == ""
    text = render([_session()], "csv")
    for word in ("None", "True", "False"):
        assert word not in text


def test_markdown_marks_saturated_and_estimated_numbers_and_lists_in_table_order():
    md = render([_session()], "md")
    assert "temperature provider default, reasoning provider default" in md and "nonce no" in md
    for word in ("None", "True", "False"):
        assert word not in md
    probes = md.split("### Probes")[1]
    order = [line.split(" | ")[:2] for line in probes.splitlines() if line.startswith(("| a/m", "| b/m"))]
    assert order == [["| a/m", "0 (warm-up)"], ["| a/m", "1"], ["| a/m", "2"], ["| b/m", "0"],
                     ["| b/m", "1"]]
    summary = md.split("### Summary")[1].split("### Probes")[0]
    a_row = next(line for line in summary.splitlines() if line.startswith("| a/m"))
    b_row = next(line for line in summary.splitlines() if line.startswith("| b/m"))
    assert a_row.startswith("| a/m † | 2 | 1 | 0 | 1 |")  # n, ok, err, cancelled
    assert "~" in b_row and "~" not in a_row
    assert "| a/m | 1 | ok † |" in probes
    assert "~" in next(line for line in probes.splitlines() if line.startswith("| b/m | 0 "))
    assert "~ token count estimated: the server sent no usage." in md
    assert "† timed while infertui's own event loop lagged over 10 ms" in md


def test_markdown_shows_provider_text_literally():
    hostile = dataclasses.replace(
        _ok(A, 0), status=Status.ERROR, chunks=[],
        error=ProbeError(
            ErrorKind.SERVER_ERROR, "see [here](javascript:alert(1)) <img src=x onerror=alert(1)> `x` a|b"))
    session = Session("s2", "2026-01-01T00:00:00Z", ProbeParams("```\nhi\n```"), [A], RunSettings(),
                      [hostile])
    md = render([session], "md")
    assert ("``server_error: see [here](javascript:alert(1)) <img src=x onerror=alert(1)> "
            "`x` a\\|b``") in md
    assert "````text\n```\nhi\n```\n````" in md
