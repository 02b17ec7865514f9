"""Exports: JSON documents, CSV rows, a Markdown report; and what import reads."""

from __future__ import annotations

import csv
import io
import json

import pytest

from infertui import units
from infertui.core.session import SCHEMA
from infertui.store.errors import StoreError
from infertui.store.export import CSV_COLUMNS, EXPORT_SCHEMA, read_documents, render
from tests.store.factories import mixed_session, session


def test_one_session_is_its_session_document():
    s = mixed_session()
    assert json.loads(render([s], "json")) == s.to_json()


def test_several_sessions_are_wrapped_and_read_back():
    a, b = mixed_session("01"), session("02")
    text = render([a, b], "json")
    doc = json.loads(text)
    assert doc["schema"] == EXPORT_SCHEMA
    assert [d["session_id"] for d in read_documents(text)] == ["01", "02"]


def test_import_reads_lists_and_json_lines():
    a, b = mixed_session("01"), session("02")
    assert [d["session_id"] for d in read_documents(json.dumps([a.to_json(), b.to_json()]))] \
        == ["01", "02"]
    lines = json.dumps(a.to_json()) + "\n\n" + json.dumps(b.to_json()) + "\n"
    assert [d["session_id"] for d in read_documents(lines)] == ["01", "02"]


@pytest.mark.parametrize("text, message", [
    ('{"schema": "something/else"}', r"f.json: not an infertui export \(schema 'something/else'"),
    ("[1]", "f.json: not an infertui export"),
    ("{oops", "f.json:1: not JSON"),
    ('{"schema": "' + SCHEMA + '"}\n{oops}\n', "f.json:2: not JSON"),
])
def test_what_is_not_an_export_is_named(text, message):
    with pytest.raises(StoreError, match=message):
        read_documents(text, "f.json")


def test_csv_has_one_row_per_probe_with_the_main_metrics():
    s = mixed_session()
    rows = list(csv.DictReader(io.StringIO(render([s], "csv"))))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert len(rows) == len(s.probes)
    doc = s.to_json()["probes"]
    assert rows[1]["target"] == "groq/llama-3.3-70b-versatile"
    assert float(rows[1]["ttft_ms"]) == doc[1]["ttft_ms"]
    assert float(rows[1]["decode_tps"]) == doc[1]["decode_tps"]
    assert rows[0]["warmup"] == "yes" and rows[1]["warmup"] == "no"
    assert rows[3]["status"] == "error" and rows[3]["error_kind"] == "rate_limited"
    assert rows[3]["http_status"] == "429" and rows[3]["ttft_ms"] == ""
    assert rows[1]["session_id"] == s.session_id and rows[1]["host"] == "lab-1"


def test_markdown_report_has_a_summary_and_a_probe_table():
    s = mixed_session()
    md = render([s], "md")
    assert md.startswith(f"## Session {s.session_id}\n")
    assert "```text\nWhy is the sky blue?\n```" in md
    summary = s.summary()
    groq = next(r for r in summary if r.target_label.startswith("groq"))
    assert (f"| groq/llama-3.3-70b-versatile † | 2 | 2 | 0 | 0 | {units.ms(groq.ttft_ms.p50)} | "
            f"{units.ms(groq.ttft_ms.p95)} |") in md
    assert "| anthropic/claude-sonnet-4 | 0 (warm-up) |" not in md
    assert "| groq/llama-3.3-70b-versatile | 0 (warm-up) | ok † |" in md
    assert "`rate_limited: rate limit reached`" in md
    assert md.count("\n| ") >= 2 + len(summary) + len(s.probes)


def test_unknown_format_is_refused():
    with pytest.raises(ValueError):
        render([session()], "xml")
