"""The database file on disk: opened only through SQLite (so no connection
loses its locks), and private to its owner."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

from infertui.store import db, paths, state
from infertui.store.config import load_config
from infertui.store.config_model import SavedPrompt
from infertui.store.repository import Store

from tests.store.factories import GROQ, full_probe, session


def other_process(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_opening_another_connection_keeps_every_later_write_on_disk(tmp_path):
    path = tmp_path / "results.db"
    first = Store.open(path)
    s = session("0190locks", targets=[GROQ])
    first.create_session(s)
    # A second connection of this process, as History opens beside the app's own.
    second = db.connect(path)
    # Another infertui opens and closes the database. Had this process lost its
    # locks, that one would believe itself alone, checkpoint and delete the WAL.
    other_process(f"import sqlite3; c = sqlite3.connect({str(path)!r}); "
                  "c.execute('SELECT count(*) FROM sessions').fetchone(); c.close()")
    for i in range(5):
        first.save_probe(s.session_id, full_probe(GROQ, seq=i, probe_id=f"p{i}", seed=i))
    second.execute("UPDATE sessions SET notes = 'from the second connection'")
    stored = other_process(
        f"import sqlite3; c = sqlite3.connect({str(path)!r}); "
        "print(c.execute('SELECT count(*) FROM probes').fetchone()[0], "
        "c.execute('SELECT notes FROM sessions').fetchone()[0], sep='|')")
    assert stored == "5|from the second connection"
    second.close()
    first.close()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_directory_and_database_are_private():
    with Store.open() as store:
        store.create_session(session("0190modes", targets=[GROQ]))
        store.save_probe("0190modes", full_probe(GROQ))
        files = {p.name: mode(p) for p in paths.data_dir().iterdir()}
    assert mode(paths.data_dir()) == 0o700
    assert files == {"infertui.db": 0o600, "infertui.db-wal": 0o600, "infertui.db-shm": 0o600}


def test_a_database_with_a_looser_mode_is_tightened_when_opened(tmp_path):
    path = tmp_path / "old.db"
    with Store.open(path) as store:
        store.create_session(session("0190old", targets=[GROQ]))
    os.chmod(path, 0o644)
    reader = sqlite3.connect(path)  # keeps -wal and -shm there, as a running app would
    reader.execute("SELECT count(*) FROM sessions").fetchone()
    for name in ("old.db-wal", "old.db-shm"):
        os.chmod(tmp_path / name, 0o644)
    with Store.open(path) as store:
        assert store.count_sessions() == 1
        assert {p.name: mode(p) for p in tmp_path.iterdir()} == {
            "old.db": 0o600, "old.db-wal": 0o600, "old.db-shm": 0o600}
    reader.close()


def test_a_file_that_is_not_a_database_keeps_its_mode(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n" * 100)
    os.chmod(notes, 0o644)
    try:
        Store.open(notes)
    except Exception:  # noqa: BLE001 - refused: asserted in test_db
        pass
    assert mode(notes) == 0o644


def test_the_state_file_is_private():
    config = load_config()
    state.save_prompt(config, SavedPrompt("haiku", "Write a haiku about tail latency."))
    assert mode(paths.state_file()) == 0o600
    assert mode(paths.config_dir()) == 0o700
