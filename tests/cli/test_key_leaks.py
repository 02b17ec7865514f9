"""The key never leaves infertui: a hostile server echoes it back in every
string it controls (a request id header, the response id, the model, the
fingerprint, the answer, split across chunks, an error body with the key
escaped), and the key is then searched for, in every form, in stdout and
stderr of `probe`, `show`, `history`, `search`, in every export format, and
in the database file with its WAL."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys

import pytest

from tests.hostile_server import KEY, HostileServer


@pytest.fixture(scope="module")
def server():
    srv = HostileServer().start()
    yield srv
    srv.stop()


def forms(key: str) -> list[str]:
    raw = key.encode()
    return [key, key[3:], json.dumps(key)[1:-1], repr(key + "\r")[1:-1],
            base64.b64encode(raw).decode()[:-4], base64.b64encode(b"u:" + raw).decode()[4:-4]]


def run(args: list[str], env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "infertui", *args], capture_output=True, text=True,
                          env=env, input=stdin, timeout=120)


def test_an_echoed_key_is_in_no_output_no_export_and_no_database_file(server, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("\n".join(
        f'[providers.{name}]\napi = "openai"\nbase_url = "{server.url(scenario)}"\n'
        f'api_key_env = "HOSTILE_KEY"\n'
        for name, scenario in (("echo", "echo_key"), ("echoerr", "echo_key_error"),
                               ("healthy", "healthy"))))
    env = {**os.environ, "HOSTILE_KEY": KEY, "INFERTUI_DATA_DIR": str(tmp_path / "data"),
           "INFERTUI_CONFIG_DIR": str(tmp_path / "cfg"), "COLUMNS": "200"}
    base = ["--config", str(config)]
    outputs = []
    probe = run([*base, "probe", "-t", "echo/m", "-t", "echoerr/m", "-t", "healthy/m", "-n", "2",
                 "--json"], env)
    assert probe.returncode == 0, probe.stderr
    doc = json.loads(probe.stdout)
    kinds = sorted({p["status"] + ":" + ((p["error"] or {}).get("kind") or "") for p in doc["probes"]})
    assert kinds == ["error:auth", "ok:"], kinds
    outputs += [probe.stdout, probe.stderr]
    table = run([*base, "probe", "-t", "echo/m", "-t", "echoerr/m"], env)
    outputs += [table.stdout, table.stderr]
    stored = json.loads(run([*base, "show", doc["session_id"], "--json"], env).stdout)
    assert len(stored["probes"]) == len(doc["probes"]) == 6  # the store kept every probe
    for args in (["show", "last"], ["show", "last", "--outputs"], ["show", "last", "--json"],
                 ["history"], ["history", "--json"], ["search", "key"],
                 ["export", "last", "--format", "json"], ["export", "last", "--format", "csv"],
                 ["export", "last", "--format", "md"]):
        out = run([*base, *args], env)
        assert out.returncode == 0, (args, out.stderr)
        outputs += [out.stdout, out.stderr]
    assert "***" in "".join(outputs)  # what was masked is still said to be there
    files = [p for p in (tmp_path / "data").rglob("*") if p.is_file()]
    assert any(p.name.endswith(".db") for p in files)
    blobs = [p.read_bytes().decode("latin-1") for p in files]
    for form in forms(KEY):
        for text in outputs:
            assert form not in text, f"{form!r} leaked into an output"
        for path, blob in zip(files, blobs):
            assert form not in blob, f"{form!r} leaked into {path.name}"


def test_a_key_with_a_line_break_is_refused_and_never_printed(server, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'[providers.echo]\napi = "openai"\nbase_url = "{server.url("echo_key")}"\n'
                      'api_key_env = "HOSTILE_KEY"\n')
    before = len(server.exchanges)
    env = {**os.environ, "HOSTILE_KEY": KEY + "\r\n", "INFERTUI_DATA_DIR": str(tmp_path / "d"),
           "INFERTUI_CONFIG_DIR": str(tmp_path / "c")}
    out = run(["--config", str(config), "probe", "-t", "echo/m", "--json"], env)
    text = out.stdout + out.stderr
    assert "HOSTILE_KEY" in text and "carriage return" in text
    assert all(form not in text for form in forms(KEY))
    assert len(server.exchanges) == before  # nothing was sent


def test_hostile_streams_cost_bounded_memory_and_every_probe_is_stored(server, tmp_path):
    """A 50 MB line, a gzip bomb, an endless stream and keep-alive comments
    forever, side by side with a healthy target, in one `infertui probe`: the
    process stays under 200 MB, each hostile probe ends with its kind, the
    healthy one is fine, and the store holds all of them."""
    names = {"line": "long_line", "bomb": "gzip_bomb", "endless": "endless", "comments": "comments_only",
             "healthy": "healthy"}
    config = tmp_path / "config.toml"
    config.write_text("\n".join(
        f'[providers.{name}]\napi = "openai"\nbase_url = "{server.url(scenario)}"\n'
        # The bomb inflates 64 MiB of keep-alive lines before its limit trips:
        # seconds of CPU on a busy machine, so its stall limit is generous.
        f'timeouts = {{ stall = {60 if name == "bomb" else 3}, total = 120 }}\n'
        for name, scenario in names.items()))
    env = {**os.environ, "INFERTUI_DATA_DIR": str(tmp_path / "data"),
           "INFERTUI_CONFIG_DIR": str(tmp_path / "cfg")}
    code = ("import resource, sys\n"
            "from infertui.cli import main\n"
            "rc = main(sys.argv[1:])\n"
            "print('MAXRSS', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
            "sys.exit(rc)\n")
    targets = [arg for name in names for arg in ("-t", f"{name}/m")]
    out = subprocess.run([sys.executable, "-c", code, "--config", str(config), "probe", *targets,
                          "--json"], capture_output=True, text=True, env=env, timeout=180)
    assert out.returncode == 0, out.stderr
    maxrss_kb = int(out.stderr.split("MAXRSS ")[1].split()[0])
    assert maxrss_kb < 200 * 1024, f"{maxrss_kb / 1024:.0f} MB"
    doc = json.loads(out.stdout)
    got = {p["target"]["provider"]: (p["status"], (p["error"] or {}).get("kind")) for p in doc["probes"]}
    assert got == {"line": ("error", "protocol"), "bomb": ("error", "protocol"),
                   "endless": ("error", "protocol"), "comments": ("error", "timeout"),
                   "healthy": ("ok", None)}, got
    stored = json.loads(run(["--config", str(config), "show", doc["session_id"], "--json"], env).stdout)
    assert len(stored["probes"]) == 5
