"""`infertui campaign` end to end, against the built-in simulator in real time
(small campaigns) and in a subprocess for Ctrl+C."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from infertui.cli import main
from infertui.store.repository import Store

SMALL = """
name = "small"
targets = ["sim-alpha/fast", "sim-beta/fast"]
prompt = "hi"
concurrency = [1, 2]
requests = 4
warmup = 1
max_tokens = 4
slo = { ttft_ms = 400 }
"""


def campaign_file(tmp_path: Path, text: str = SMALL) -> Path:
    path = tmp_path / "small.toml"
    path.write_text(text)
    return path


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_run_json_is_the_document_show_prints(tmp_path, capsys):
    db = str(tmp_path / "r.db")
    code, out, err = run_cli(capsys, "--db", db, "campaign", "run", str(campaign_file(tmp_path)),
                             "--json", "--vantage", "lab")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["schema"] == "infertui.campaign/1" and doc["status"] == "finished"
    assert doc["vantage"] == "lab" and len(doc["cells"]) == 4 and len(doc["targets"]) == 2
    assert all(c["n"] == 4 for c in doc["cells"])
    assert "\x1b" not in err  # nothing but plain lines on a pipe
    code, shown, _ = run_cli(capsys, "--db", db, "campaign", "show", "last", "--json")
    assert code == 0 and json.loads(shown) == doc
    code, listed, _ = run_cli(capsys, "--db", db, "campaign", "list", "--json")
    (row,) = json.loads(listed)
    assert row["campaign_id"] == doc["campaign_id"] and row["sessions"] == 2
    assert row["probes"] == 2 * 2 * (4 + 1)
    # Its rounds are ordinary sessions: history, show and export see them.
    code, history, _ = run_cli(capsys, "--db", db, "history", "--json")
    assert len(json.loads(history)) == 2
    session_id = doc["rounds"][0]["sessions"][0]["session_id"]
    code, session, _ = run_cli(capsys, "--db", db, "show", session_id, "--json")
    probe = json.loads(session)["probes"][0]
    assert probe["phase"] in ("warmup", "measured") and "backoff_ms" in probe
    assert json.loads(session)["campaign"]["campaign_id"] == doc["campaign_id"]
    code, text, _ = run_cli(capsys, "--db", db, "campaign", "show", doc["campaign_id"][:8])
    assert code == 0 and "sim-beta/fast" in text and "pairwise" in text


def test_no_save_stores_nothing(tmp_path, capsys):
    db = tmp_path / "n.db"
    code, out, _ = run_cli(capsys, "--db", str(db), "campaign", "run", str(campaign_file(tmp_path)),
                           "--json", "--no-save")
    assert code == 0 and json.loads(out)["status"] == "finished"
    assert not db.exists()


def test_config_problems_exit_2_with_file_and_line(tmp_path, capsys):
    path = campaign_file(tmp_path, SMALL + "concurency = 3\n")
    code, out, err = run_cli(capsys, "campaign", "run", str(path))
    assert code == 2 and out == ""
    assert f"{path}:10: unknown key 'concurency'" in err
    code, _, err = run_cli(capsys, "campaign", "run", "nosuch")
    assert code == 2 and "neither a campaign file nor" in err
    code, _, err = run_cli(capsys, "campaign", "run")
    assert code == 2


def test_a_named_campaign_from_the_config(tmp_path, capsys):
    config = tmp_path / "config.toml"
    config.write_text("[campaigns.nightly]\n" + SMALL.replace('name = "small"\n', ""))
    code, out, err = run_cli(capsys, "--config", str(config), "--db", str(tmp_path / "c.db"),
                             "campaign", "run", "nightly", "--json")
    assert code == 0, err
    assert json.loads(out)["name"] == "nightly"


def test_init_writes_the_example_once(tmp_path, capsys):
    target = tmp_path / "campaign.toml"
    assert run_cli(capsys, "campaign", "init", str(target))[0] == 0
    assert target.read_text().startswith("## An infertui campaign")
    code, _, err = run_cli(capsys, "campaign", "init", str(target))
    assert code == 2 and "never overwrites" in err


def test_import_merges_vantage_points(tmp_path, capsys):
    path = str(campaign_file(tmp_path))
    home, away = str(tmp_path / "home.db"), str(tmp_path / "away.db")
    assert run_cli(capsys, "--db", home, "campaign", "run", path, "--vantage", "paris",
                   "--json")[0] == 0
    assert run_cli(capsys, "--db", away, "campaign", "run", path, "--vantage", "ci-runner",
                   "--json")[0] == 0
    export = tmp_path / "away.json"
    assert run_cli(capsys, "--db", away, "campaign", "export", "last", "-o", str(export))[0] == 0
    assert run_cli(capsys, "--db", home, "import", str(export))[0] == 0
    assert run_cli(capsys, "--db", home, "import", str(export))[0] == 0  # twice adds nothing
    code, listed, _ = run_cli(capsys, "--db", home, "campaign", "list", "--json")
    rows = json.loads(listed)
    assert sorted(r["vantage"] for r in rows) == ["ci-runner", "paris"]
    assert {r["status"] for r in rows} == {"finished"}
    imported = next(r for r in rows if r["vantage"] == "ci-runner")
    assert imported["imported"] and imported["probes"] == 20
    code, shown, _ = run_cli(capsys, "--db", home, "campaign", "show", "small", "--json")
    doc = json.loads(shown)
    assert {(v["vantage"], v["target"]) for v in doc["vantages"]} == {
        (v, t) for v in ("paris", "ci-runner") for t in ("sim-alpha/fast", "sim-beta/fast")}
    code, text, _ = run_cli(capsys, "--db", home, "campaign", "show", "small")
    assert code == 0 and "per vantage point" in text


def test_deleting_its_sessions_deletes_the_campaign(tmp_path, capsys):
    db = str(tmp_path / "d.db")
    code, out, _ = run_cli(capsys, "--db", db, "campaign", "run", str(campaign_file(tmp_path)),
                           "--json")
    assert code == 0
    sessions = [s["session_id"] for s in json.loads(out)["rounds"][0]["sessions"]]
    assert run_cli(capsys, "--db", db, "delete", sessions[0], "--yes")[0] == 0
    with Store.open(db) as store:
        assert store.conn.execute("SELECT count(*) FROM campaigns").fetchone()[0] == 1
    assert run_cli(capsys, "--db", db, "delete", sessions[1], "--yes")[0] == 0
    with Store.open(db) as store:
        assert store.conn.execute("SELECT count(*) FROM campaigns").fetchone()[0] == 0


def _measured_rows(db: Path) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT s.session_id, p.target_pos, p.seq, p.status FROM probes p "
                            "JOIN sessions s ON s.id = p.session_pk WHERE p.phase = 'measured'"
                            ).fetchall()
    finally:
        conn.close()


def test_ctrl_c_keeps_what_finished_and_resume_repeats_nothing(tmp_path, capsys):
    path = campaign_file(tmp_path, SMALL.replace("requests = 4", "requests = 30"))
    db = tmp_path / "s.db"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "infertui", "--db", str(db), "campaign", "run",
                             str(path), "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if db.exists():
            try:
                if len(_measured_rows(db)) >= 12:
                    break
            except sqlite3.Error:
                pass
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "--resume" in err and json.loads(out)["status"] == "stopped"
    before = _measured_rows(db)
    finished_before = {r[:3] for r in before if r[3] != "cancelled"}
    assert 12 <= len(finished_before) < 120

    code, out, err = run_cli(capsys, "--db", str(db), "campaign", "run", "--resume", "last",
                             "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["status"] == "finished" and all(c["n"] == 30 for c in doc["cells"])
    after = _measured_rows(db)
    finished_after = [r[:3] for r in after if r[3] != "cancelled"]
    assert len(finished_after) == len(set(finished_after)) == 4 * 30
    assert finished_before <= set(finished_after)
    code, _, err = run_cli(capsys, "--db", str(db), "campaign", "run", "--resume", "last")
    assert code == 2 and "already finished" in err
