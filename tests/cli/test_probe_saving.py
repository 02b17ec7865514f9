"""`infertui probe` when the store fails: every probe still reaches the user,
with the exact reason, the probes not saved, and a file that saves them."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from infertui.cli import main
from infertui.store import background, paths
from infertui.store.errors import StoreError
from infertui.store.repository import Store

ROOT = Path(__file__).resolve().parents[2]

def test_probes_that_cannot_be_saved_are_listed_and_kept_in_a_rescue_file(capsys, monkeypatch):
    monkeypatch.setattr(background, "RETRY_AFTER_END_S", 0.2)
    message = (f"{paths.db_file()}: could not write: the disk is full (0 bytes free); free "
               "some space, or pass --db FILE on another disk")
    save = Store.save_probe

    def disk_full(self, session_id, result):
        raise StoreError(message, sqlite_code=sqlite3.SQLITE_FULL)

    monkeypatch.setattr(Store, "save_probe", disk_full)
    code = main(["probe", "-t", "sim-alpha/fast", "-t", "sim-beta/fast", "-n", "2",
                 "--max-tokens", "8", "--json"])
    out, err = capsys.readouterr()
    assert code == 1
    doc = json.loads(out)
    sid = doc["session_id"]
    assert err.splitlines() == [
        f"infertui: saving is failing ({message}); trying again for up to 0.2 s (Ctrl+C: "
        "stop and write the rescue file now)",
        f"infertui: 4 of 4 probes of session {sid} were not saved: {message}",
        *[f"  {p['target']['provider']}/{p['target']['model']} #{p['seq']}  probe "
          f"{p['probe_id']}" for p in doc["probes"]],
        f"infertui: the whole session is in {rescue_path(err)}; `infertui import "
        f"{rescue_path(err)}` saves it",
    ]
    rescue = Path(rescue_path(err))
    assert rescue.parent == paths.data_dir() / "rescue"
    assert json.loads(rescue.read_text()) == doc  # what --json printed, every probe
    # Once the disk has room again, importing the file stores every probe.
    monkeypatch.setattr(Store, "save_probe", save)
    assert main(["import", str(rescue)]) == 0
    assert capsys.readouterr().out == (f"{rescue}: 1 session: 0 new, 4 probes added, 0 already "
                                       "present\n")
    assert main(["show", sid, "--json"]) == 0
    def by_id(probes):
        # Rates recomputed from the JSON's µs-rounded times may differ in
        # their last digit from those of the ns-exact run: compared apart.
        rates = ("decode_tps", "itl_ms")
        return sorted(({k: v for k, v in p.items() if k not in rates} for p in probes),
                      key=lambda p: p["probe_id"]), {
            p["probe_id"]: [p[k] for k in rates] for p in probes}

    stored, stored_rates = by_id(json.loads(capsys.readouterr().out)["probes"])
    printed, printed_rates = by_id(doc["probes"])
    assert stored == printed
    for probe_id, rates in printed_rates.items():
        assert stored_rates[probe_id] == pytest.approx(rates, rel=1e-3)


def rescue_path(err: str) -> str:
    last = err.splitlines()[-1]
    return last.split(" is in ", 1)[1].split(";", 1)[0]


FAILING_STORE = """
import sqlite3, sys
from infertui.store import background
from infertui.store.errors import StoreError
from infertui.store.repository import Store

background.RETRY_AFTER_END_S = 600  # would wait ten minutes for the disk


def disk_full(self, session_id, result):
    raise StoreError("the disk is full", sqlite_code=sqlite3.SQLITE_FULL)


Store.save_probe = disk_full
from infertui.cli import main
sys.exit(main(["probe", "-t", "sim-alpha/fast", "-n", "2", "--max-tokens", "8", "--json"]))
"""


def test_ctrl_c_while_saving_is_retried_writes_the_rescue_file_now(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", FAILING_STORE], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "INFERTUI_DATA_DIR": str(tmp_path / "data")})
    assert proc.stderr is not None
    first = proc.stderr.readline()  # blocks until the run ended and saving is being retried
    assert first == ("infertui: saving is failing (the disk is full); trying again for up to "
                     "600 s (Ctrl+C: stop and write the rescue file now)\n")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    lines = err.splitlines()
    assert lines[0].endswith("were not saved: the disk is full") and "Traceback" not in err
    rescue = Path(rescue_path(err))
    assert json.loads(rescue.read_text()) == json.loads(out)
