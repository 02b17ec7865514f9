"""`infertui probe` as a user runs it: the simulator in-process and over real
loopback sockets, the JSON document, exit codes, keys never shown."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from infertui.cli import main
from infertui.core.simulator.server import SimServer

PROBE_FIELDS = {
    "target", "status", "error", "http_status", "ttft_ms", "ttft_any_ms", "ttfb_ms", "e2e_ms", "decode_tps",
    "output_tokens", "output_tokens_source", "input_tokens", "reasoning_tokens", "finish_reason", "text",
    "reasoning_text", "chunk_times_ms", "server_model", "request_id", "warmup",
}
STATS = {"p50", "p90", "p95", "p99", "mean", "stdev"}


def run_json(capsys, *args):
    code = main(["probe", "--json", "--no-save", *args])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def test_json_document_against_the_in_process_simulator(capsys):
    code, doc, _ = run_json(capsys, "-t", "sim-alpha/demo-70b", "-t", "sim-beta/demo-8b",
                            "-n", "3", "-c", "2", "--warmup", "1", "--max-tokens", "24")
    assert code == 0
    assert doc["schema"] == "infertui.session/1" and doc["session_id"] and doc["started_at"]
    assert len(doc["probes"]) == 8
    for probe in doc["probes"]:
        assert PROBE_FIELDS <= set(probe)
        assert set(probe["target"]) >= {"provider", "model", "base_url", "api"}
    ok = [p for p in doc["probes"] if p["status"] == "ok"]
    assert ok and all(p["ttft_ms"] > 0 and p["e2e_ms"] >= p["ttft_ms"] for p in ok)
    assert all(p["output_tokens_source"] == "usage" and p["output_tokens"] <= 24 for p in ok)
    assert all(len(p["chunk_times_ms"]) == len(p["chunk_texts"]) for p in ok)
    assert sum(p["warmup"] for p in doc["probes"]) == 2
    rows = {r["target"]["provider"]: r for r in doc["summary"]}
    assert rows["sim-alpha"]["n"] == 3  # warm-ups excluded
    for row in rows.values():
        for metric in ("ttft_ms", "e2e_ms", "decode_tps"):
            assert set(row[metric]) == STATS


def test_adhoc_endpoint_over_real_loopback_sockets(capsys):
    with SimServer(seed=3).run_in_thread() as server:
        code, doc, _ = run_json(capsys, "--base-url", server.url, "--api", "anthropic",
                                "--model", "fast", "--model", "reasoning", "--reasoning", "on", "-n", "2")
        assert code == 0
        probes = doc["probes"]
        assert {p["target"]["model"] for p in probes} == {"fast", "reasoning"}
        assert all(p["status"] == "ok" and p["target"]["base_url"] == server.url for p in probes)
        reasoning = [p for p in probes if p["target"]["model"] == "reasoning"]
        assert all(p["reasoning_text"] and p["ttft_any_ms"] < p["ttft_ms"] for p in reasoning)
        # The server's own clock agrees with the client's TTFT within a few ms.
        for p in probes:
            truth = server.ground_truth[p["request_id"]]
            server_ttft = (truth.first_content_ns - truth.received_ns) / 1e6
            assert abs(p["ttft_ms"] - server_ttft) < 15, (p["ttft_ms"], server_ttft)


def test_probe_saves_by_default_and_prints_the_session_id(capsys):
    assert main(["probe", "-t", "sim-gamma/fast", "-n", "2"]) == 0
    out, err = capsys.readouterr()
    assert "sim-gamma/fast" in out
    session_id = err.strip().splitlines()[-1].split()[-1]
    assert main(["show", session_id, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["session_id"] == session_id and len(doc["probes"]) == 2


@pytest.mark.parametrize("argv,message", [
    (["-t", "nosuch/model"], "unknown provider 'nosuch'"),
    (["-t", "sim-alpha"], "is a provider: add /MODEL"),
    (["--base-url", "http://127.0.0.1:9/v1"], "--base-url needs at least one --model"),
    (["--base-url", "ftp://x", "--model", "m"], "must start with http"),
    (["-n", "0", "-t", "sim-alpha/fast"], "must be >= 1"),
    (["--prompt-file", "/nonexistent/prompt.txt", "-t", "sim-alpha/fast"], "cannot read prompt file"),
    ([], "no target"),
])
def test_bad_arguments_exit_2_with_one_line(capsys, argv, message):
    try:
        code = main(["probe", "--no-save", *argv])
    except SystemExit as exc:  # argparse's own checks exit from inside parse_args
        code = exc.code
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in err


def test_broken_config_is_file_line_and_exit_2(capsys, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[providers.mine]\napi = "openai"\nbase_url = "http://127.0.0.1:1/v1"\nbse = 1\n')
    code = main(["--config", str(config), "probe", "-t", "mine/m", "--no-save"])
    err = capsys.readouterr().err
    assert code == 2 and f"{config}:4:" in err and "Traceback" not in err


def test_missing_key_is_a_result_naming_the_variable(capsys):
    code, doc, _ = run_json(capsys, "-t", "groq/llama-3.3-70b-versatile")
    assert code == 0
    (probe,) = doc["probes"]
    assert probe["status"] == "error" and probe["error"]["kind"] == "auth"
    assert "GROQ_API_KEY" in probe["error"]["message"] and probe["http_status"] is None


class _EchoKey(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["content-length"]))
        body = json.dumps({"error": {"message": f"Incorrect API key provided: {self.headers['authorization']}"}})
        self.send_response(401)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


def test_a_key_is_never_printed_even_when_the_server_echoes_it(capsys, monkeypatch):
    secret = "sk-live-THISISASECRET0123456789"
    monkeypatch.setenv("ECHO_KEY", secret)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoKey)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        for extra in (["--json"], []):
            code = main(["probe", "--no-save", "--base-url", url, "--model", "m", "--api-key-env", "ECHO_KEY", *extra])
            out, err = capsys.readouterr()
            assert code == 0
            assert secret not in out and secret not in err
            assert "auth" in out and "***" in out
    finally:
        server.shutdown()


def saved_probes(db: Path) -> int:
    """Probes committed so far, read as another process would (0 before the
    database exists)."""
    if not db.exists():
        return 0
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT count(*) FROM probes").fetchone()[0]
    except sqlite3.OperationalError:  # not migrated yet
        return 0
    finally:
        conn.close()


def test_ctrl_c_keeps_finished_probes_and_cancels_running_ones(tmp_path):
    env = {**os.environ, "INFERTUI_DATA_DIR": str(tmp_path / "data"), "INFERTUI_CONFIG_DIR": str(tmp_path / "cfg")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "infertui", "probe", "--json", "-t", "sim-beta/demo-8b", "-n", "200",
         "--max-tokens", "16"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    # Interrupt once a probe has finished and been saved, however loaded the
    # machine is, rather than after a fixed time.
    deadline = time.monotonic() + 60
    while saved_probes(tmp_path / "data" / "infertui.db") < 1:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no probe was saved within 60 s"
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    doc = json.loads(out)
    statuses = [p["status"] for p in doc["probes"]]
    assert statuses.count("ok") >= 1 and statuses.count("cancelled") == 1
    assert "cancelled" in err and "Traceback" not in err
    # What finished was saved, and the database is sound.
    session_id = doc["session_id"]
    shown = subprocess.run([sys.executable, "-m", "infertui", "show", session_id, "--json"],
                           capture_output=True, text=True, env=env, timeout=30, check=False)
    assert shown.returncode == 0, shown.stderr
    assert len(json.loads(shown.stdout)["probes"]) == len(doc["probes"])


# Runs infertui's `python -m infertui` code with a real SIGINT delivered
# DELAY seconds after that code starts (a timer sends it to the process), so
# the interrupt lands while modules import, the store opens or the run starts.
INTERRUPT_AFTER = """
import os, signal, sys, infertui
main = os.path.join(os.path.dirname(infertui.__file__), "__main__.py")
code = compile(open(main).read(), main, "exec")
signal.signal(signal.SIGALRM, lambda *_: os.kill(os.getpid(), signal.SIGINT))
sys.argv = ["infertui", *sys.argv[2:]]
signal.setitimer(signal.ITIMER_REAL, DELAY)
exec(code, {"__name__": "__main__"})
"""


@pytest.mark.parametrize("delay", [0.001, 0.01, 0.03, 0.06, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5])
def test_ctrl_c_in_the_first_half_second_is_one_line_and_exit_130(tmp_path, delay):
    env = {**os.environ, "INFERTUI_DATA_DIR": str(tmp_path / "data"),
           "INFERTUI_CONFIG_DIR": str(tmp_path / "cfg")}
    done = subprocess.run(
        [sys.executable, "-c", INTERRUPT_AFTER.replace("DELAY", repr(delay)), "",
         "probe", "--json", "-t", "sim-alpha/demo-70b", "-n", "100"],
        capture_output=True, text=True, env=env, timeout=60, check=False)
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr
    assert all(line.startswith(("infertui: ", "saved session "))
               for line in done.stderr.splitlines()), done.stderr
    if done.stdout:  # the run had begun: the document of what finished
        doc = json.loads(done.stdout)
        assert all(p["status"] in ("ok", "cancelled") for p in doc["probes"])
        assert saved_probes(tmp_path / "data" / "infertui.db") == len(doc["probes"])


# Python drops a KeyboardInterrupt raised inside a weakref callback or a
# `__del__` ("Exception ignored in ..."); the import system runs such callbacks
# while modules load, so a Ctrl+C at that moment used to be lost and the run
# went on to the end. Here the interrupt is made to land inside one, after the
# CLI is imported and before the command starts.
CTRL_C_DROPPED = """
import os, signal, sys, time, weakref
from infertui.cli import main
class Thing:
    pass
def callback(_ref):
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.05)  # the interrupt is raised here, inside the callback, and dropped
thing = Thing()
ref = weakref.ref(thing, callback)
del thing
sys.exit(main(sys.argv[1:]))
"""


def test_ctrl_c_that_python_dropped_still_stops_the_run(tmp_path):
    env = {**os.environ, "INFERTUI_DATA_DIR": str(tmp_path / "data"),
           "INFERTUI_CONFIG_DIR": str(tmp_path / "cfg")}
    done = subprocess.run(
        [sys.executable, "-c", CTRL_C_DROPPED, "probe", "--json", "-t", "sim-alpha/demo-70b",
         "-n", "3"], capture_output=True, text=True, env=env, timeout=60, check=False)
    assert "Exception ignored" in done.stderr  # the harness did what it says
    assert done.returncode == 130, done.stderr
    assert "infertui: interrupted" in done.stderr
    # The only traceback is Python's report of the interrupt it dropped.
    assert done.stderr.count("Traceback") == 1
    assert done.stderr.splitlines()[-1] == "infertui: interrupted"
