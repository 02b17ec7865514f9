"""`infertui report`: the numbers are the document's, number for number, and
every hostile string is escaped."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from infertui.cli import main
from infertui.core.checks.steps import COMPLIANCE_CHECKS
from infertui.core.result import ErrorKind, ProbeError, Status
from infertui.core.session import RunSettings, Session
from infertui.core.targets import Api, ProbeParams, Provider, Target
from infertui.report.build import session_report
from infertui.report.markdown import md
from infertui.store.repository import Store
from tests.helpers.report_sample import sample_campaign
from tests.store.factories import full_probe


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def campaign_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("report") / "r.db"
    sample_campaign(db)
    return db


class Cells(HTMLParser):
    """Every table cell that carries a document value, every tag, every
    attribute name."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[tuple[str, str, str]] = []  # (path, json value, text)
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self._open: dict | None = None
        self.tables: dict[str, int] = {}
        self._table: str | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        a = dict(attrs)
        self.attributes.update(a)
        if tag == "section" and (a.get("id") or "").startswith("table-"):
            self._table = a["id"][len("table-"):]
            self.tables[self._table] = 0
        if tag == "tr" and self._table is not None:
            self.tables[self._table] += 1
        if tag == "td":
            self._open = {"path": a.get("data-path"), "v": a.get("data-v"), "text": ""}

    def handle_data(self, data):
        if self._open is not None:
            self._open["text"] += data

    def handle_endtag(self, tag):
        if tag == "td" and self._open is not None:
            if self._open["path"] is not None:
                self.cells.append((self._open["path"], self._open["v"], self._open["text"]))
            self._open = None
        if tag == "section":
            self._table = None


def resolve(doc, pointer: str):
    for escaped in pointer.split("/")[1:]:
        part = escaped.replace("~1", "/").replace("~0", "~")
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc


def test_a_campaign_report_is_number_for_number_campaign_show_json(campaign_db, capsys, tmp_path):
    db = str(campaign_db)
    code, shown, err = cli(capsys, "--db", db, "campaign", "show", "last", "--json")
    assert code == 0, err
    doc = json.loads(shown)
    code, out, err = cli(capsys, "--db", db, "report", "--campaign", "last", "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    assert report["schema"] == "infertui.report/1" and report["kind"] == "campaign"
    assert report["document"] == doc
    html_file = tmp_path / "r.html"
    code, _, err = cli(capsys, "--db", db, "report", doc["campaign_id"], "-o", str(html_file))
    assert code == 0 and "wrote the campaign report" in err
    parser = Cells()
    parser.feed(html_file.read_text(encoding="utf-8"))
    assert len(parser.cells) > 300
    for path, value, _text in parser.cells:
        assert json.loads(value) == resolve(doc, path), path
    # Every verdict table is there, with a row per target (plus its header).
    targets = len(doc["targets"])
    for table in ("targets", "compliance", "agreement", "comparisons", "ranking-0", "reference"):
        assert table in parser.tables, table
    assert parser.tables["compliance"] == targets + 1
    assert parser.tables["comparisons"] == len(doc["comparisons"]) + 1
    # Every number of the targets table, the comparisons and the checks is shown.
    shown_paths = {path for path, _, _ in parser.cells}
    for i, row in enumerate(doc["targets"]):
        assert f"/targets/{i}/ttft_ms/p50" in shown_paths
        for check in COMPLIANCE_CHECKS:
            if row["compliance"].get(check):
                assert f"/targets/{i}/compliance/{check}/verdict" in shown_paths
        assert f"/targets/{i}/agreement/exact" in shown_paths
    for i in range(len(doc["comparisons"])):
        assert {f"/comparisons/{i}/{k}" for k in ("a_value", "b_value", "difference",
                                                  "verdict")} <= shown_paths


def test_markdown_carries_the_same_tables(campaign_db, capsys):
    db = str(campaign_db)
    _, out, _ = cli(capsys, "--db", db, "report", "--campaign", "last", "--format", "html")
    parser = Cells()
    parser.feed(out)
    _, text, _ = cli(capsys, "--db", db, "report", "--campaign", "last", "--format", "md")
    for _path, _v, cell in parser.cells:
        assert md(cell) in text
    assert text.count("\n## ") == len(parser.tables)


def test_the_html_report_is_self_contained(campaign_db, capsys):
    _, out, _ = cli(capsys, "--db", str(campaign_db), "report", "--campaign", "last")
    lowered = out.lower()
    assert "<script" not in lowered and "http-equiv=\"content-security-policy\"" in lowered
    assert "default-src 'none'" in out
    for external in ("<link", "@import", "url(", "src=", "href="):
        assert external not in lowered, external
    assert out.count("<svg") == 4


HOSTILE = '</td></table><script>alert(1)</script><img src=x onerror=alert(2)>"\'&\x1b[31m|*'


def hostile_session() -> Session:
    provider = Provider(name='evil"><svg onload=alert(3)>', api=Api.OPENAI,
                        base_url="https://evil.test/v1", price_input_per_mtok=1.0,
                        price_output_per_mtok=2.0)
    target = Target(provider, "m<script>")
    measured = full_probe(target, seq=0)
    measured.check = measured.request = None
    measured.phase = None
    measured.chunks[-1].text += HOSTILE
    wrong = full_probe(target, seq=1, seed=5)
    wrong.phase, wrong.check = "check", "fidelity.arith-mul"
    wrong.chunks[-1].text += HOSTILE
    wrong.request = {"method": "POST", "url": "https://evil.test/v1/chat/completions",
                     "body": {"messages": [{"content": HOSTILE}]}}
    refused = full_probe(target, seq=2, seed=6)
    refused.phase, refused.check, refused.status = "check", "compliance.stop", Status.ERROR
    refused.error = ProbeError(ErrorKind.BAD_REQUEST, HOSTILE, 400)
    return Session("0190aaaaaaaaaaaaaaaaaa", "2025-06-01T12:00:00.000Z",
                   ProbeParams(HOSTILE, max_tokens=32, stop=(HOSTILE,)), [target],
                   RunSettings(), [measured, wrong, refused],
                   check_spec={"checks": ["compliance", "fidelity"], "reference": None})


def test_hostile_strings_are_escaped_in_html_and_markdown(tmp_path, capsys):
    db = tmp_path / "h.db"
    with Store.open(db) as store:
        store.import_document(hostile_session().to_json())
    code, out, err = cli(capsys, "--db", str(db), "report", "last", "--format", "html")
    assert code == 0, err
    parser = Cells()
    parser.feed(out)
    allowed = {"html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "dl", "dt",
               "dd", "section", "figure", "figcaption", "svg", "rect", "line", "text", "circle",
               "polyline", "table", "thead", "tbody", "tr", "th", "td", "p", "footer"}
    assert parser.tags <= allowed, parser.tags - allowed
    assert not {a for a in parser.attributes if a.startswith("on")}
    assert "\x1b" not in out and "\\x1b[31m" in out
    # The hostile answer and refusal are there, as text.
    got = [text for path, _, text in parser.cells if path.endswith("/got")]
    assert got and "<script>alert(1)</script>" in got[0]
    reasons = [text for path, _, text in parser.cells if "/compliance/stop/reason" in path]
    assert reasons and "onerror=alert(2)" in reasons[0]
    code, text, _ = cli(capsys, "--db", str(db), "report", "last", "--format", "md")
    assert "<" not in text.replace("&lt;", "") and "\x1b" not in text
    for line in text.splitlines():
        if line.startswith("| "):
            assert line.count(" | ") + 2 == line.count("|") - line.count("\\|")


def test_a_session_report_equals_show_json(tmp_path, capsys):
    db = tmp_path / "s.db"
    code, out, err = cli(capsys, "--db", str(db), "probe", "-t", "sim-alpha/fast", "-t",
                         "sim-gamma/quantized", "-n", "3", "--check", "fidelity", "--json")
    assert code == 0, err
    code, shown, _ = cli(capsys, "--db", str(db), "show", "last", "--json")
    doc = json.loads(shown)
    _, out, _ = cli(capsys, "--db", str(db), "report", "last", "--format", "json")
    assert json.loads(out)["document"] == doc
    parser = Cells()
    parser.feed(render_html(doc))
    for path, value, _ in parser.cells:
        assert json.loads(value) == resolve(doc, path), path
    assert "fidelity" in parser.tables and "summary" in parser.tables


def render_html(doc) -> str:
    from infertui.report.html import render
    return render(session_report(doc))


def test_unknown_keys_and_unwritable_files_are_one_line_errors(campaign_db, capsys, tmp_path):
    code, _, err = cli(capsys, "--db", str(campaign_db), "report", "zzz")
    assert code == 2 and "no campaign 'zzz'" in err
    code, _, err = cli(capsys, "--db", str(campaign_db), "report", "--campaign", "last", "-o",
                       str(tmp_path / "missing" / "r.html"))
    assert code == 2 and "cannot write" in err and "Traceback" not in err


def test_the_report_package_imports_neither_the_app_nor_rich_nor_the_store():
    import subprocess
    import sys

    code = ("import sys, pkgutil, importlib, infertui.report as r\n"
            "for m in pkgutil.walk_packages(r.__path__, 'infertui.report.'):\n"
            "    importlib.import_module(m.name)\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')"
            " or m.startswith(('infertui.store', 'infertui.tui', 'infertui.cli'))]\n"
            "print(bad); sys.exit(1 if bad else 0)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
