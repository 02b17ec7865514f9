"""`infertui probe`'s arguments: the prompt from stdin and files, clear
one-line errors for bad or absurd numbers, concurrency caps said out loud, and
ad hoc endpoints named by host and port."""

from __future__ import annotations

import io
import json

import pytest

from infertui.cli import main
from infertui.core.simulator.server import SimServer


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's own checks exit from inside parse_args
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def prompt_sent(capsys, monkeypatch, stdin: str | None, *argv: str) -> str:
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code, out, err = run(capsys, "probe", "--json", "--no-save", "-t", "sim-alpha/fast",
                         "--max-tokens", "4", *argv)
    assert code == 0, err
    return json.loads(out)["params"]["prompt"]


def test_dash_p_dash_reads_stdin_and_drops_one_newline(capsys, monkeypatch):
    assert prompt_sent(capsys, monkeypatch, "What is TTFT?\n", "-p", "-") == "What is TTFT?"
    assert prompt_sent(capsys, monkeypatch, "two\nlines\n\n", "--prompt-file", "-") == "two\nlines\n"
    assert prompt_sent(capsys, monkeypatch, None, "-p", "a literal prompt") == "a literal prompt"


def test_prompt_file_drops_one_trailing_newline(capsys, monkeypatch, tmp_path):
    unix, windows, none = tmp_path / "u.txt", tmp_path / "w.txt", tmp_path / "n.txt"
    unix.write_text("Explain tail latency.\n")
    windows.write_bytes(b"Explain tail latency.\r\n")
    none.write_text("  Explain tail latency.  ")
    assert prompt_sent(capsys, monkeypatch, None, "--prompt-file", str(unix)) == "Explain tail latency."
    assert prompt_sent(capsys, monkeypatch, None, "--prompt-file", str(windows)) == "Explain tail latency."
    assert prompt_sent(capsys, monkeypatch, None, "--prompt-file", str(none)) == "  Explain tail latency.  "


def test_an_empty_prompt_from_stdin_is_refused(capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    code, out, err = run(capsys, "probe", "--no-save", "-t", "sim-alpha/fast", "-p", "-")
    assert code == 2 and out == "" and "the prompt is empty (read from stdin)" in err


@pytest.mark.parametrize("argv,message", [
    (["--max-tokens", "abc"], "argument --max-tokens: not a whole number: 'abc'"),
    (["-n", "10**20"], "argument -n/--repeat: not a whole number: '10**20'"),
    (["-n", "100000000000000000000"], "argument -n/--repeat: must be <= 100,000"),
    (["-n", "100001"], "must be <= 100,000"),
    (["-c", "5000"], "argument -c/--concurrency: must be <= 1,024"),
    (["--warmup", "1001"], "argument --warmup: must be <= 1,000"),
    (["--warmup", "-1"], "argument --warmup: must be >= 0"),
    (["--max-tokens", "2000000"], "argument --max-tokens: must be <= 1,000,000"),
    (["--max-tokens", "0"], "argument --max-tokens: must be >= 1"),
    (["--temperature", "warm"], "argument --temperature: not a number: 'warm'"),
    (["--temperature", "nan"], "argument --temperature: must be between 0 and 2, got nan"),
    (["--temperature", "inf"], "must be between 0 and 2, got inf"),
    (["--temperature", "2.5"], "must be between 0 and 2, got 2.5"),
    (["--timeout", "0"], "argument --timeout: must be > 0 and at most 86400 s"),
    (["--base-url", "http://127.0.0.1:9/v1", "--model", "m", "--name", "a/b"], "without '/'"),
    (["--name", "box"], "--model and --name are for an ad hoc endpoint"),
])
def test_bad_numbers_are_one_clear_line(capsys, argv, message):
    code, out, err = run(capsys, "probe", "--no-save", "-t", "sim-alpha/fast", *argv)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], err
    assert "_positive_int" not in err and "invalid" not in err and "Traceback" not in err


def test_concurrency_above_a_providers_cap_is_said_on_stderr(capsys):
    code, _out, err = run(capsys, "probe", "--json", "--no-save", "-t", "sim-alpha/fast",
                          "-t", "sim-beta/fast", "-c", "20", "-n", "20", "--max-tokens", "2")
    assert code == 0
    assert "sim-alpha runs at most 16 at a time (its max_concurrency), not 20" in err
    assert "sim-beta runs at most 16" in err
    # Not when the run could not use more than the cap anyway.
    code, _out, err = run(capsys, "probe", "--json", "--no-save", "-t", "sim-alpha/fast",
                          "-c", "20", "-n", "3", "--max-tokens", "2")
    assert code == 0 and "max_concurrency" not in err


def _most_open_at_once(server: SimServer) -> int:
    spans = [(t.received_ns, t.end_ns) for t in server.ground_truth.values() if t.end_ns]
    return max(sum(1 for start, end in spans if start <= at < end) for at, _ in spans)


def test_an_adhoc_endpoint_takes_its_cap_from_c_and_is_named_by_host_and_port(capsys):
    with SimServer(seed=5).run_in_thread() as server:
        port = server.url.split(":")[2].split("/")[0]
        code, out, err = run(capsys, "probe", "--json", "--no-save", "--base-url", server.url,
                             "--model", "fast", "-c", "24", "-n", "24", "--max-tokens", "48")
        assert code == 0 and "max_concurrency" not in err
        doc = json.loads(out)
        assert {p["status"] for p in doc["probes"]} == {"ok"}
        # More than the old fixed cap of 16 were open at the server at once.
        assert _most_open_at_once(server) > 16
        assert {p["target"]["provider"] for p in doc["probes"]} == {f"127.0.0.1:{port}"}
        code, out, err = run(capsys, "probe", "--json", "--no-save", "--base-url", server.url,
                             "--model", "org/fast-ish", "--name", "labbox")
        doc = json.loads(out)
        assert doc["probes"][0]["target"]["provider"] == "labbox"
        assert doc["summary"][0]["target"]["model"] == "org/fast-ish"
