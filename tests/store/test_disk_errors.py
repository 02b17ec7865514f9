"""A store that cannot be used as asked says so in one line, and a healthy
one on a full or read-only disk is never called corrupt."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from infertui.cli import main
from infertui.store import paths
from infertui.store.repository import Store

from tests.store.factories import mixed_session

ROOT = Path(__file__).resolve().parents[2]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line(capsys, *argv: str) -> str:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and "Traceback" not in err, (code, err)
    assert err.startswith("infertui: ") and err.count("\n") == 1, err
    return err.strip()


def seeded(path: Path) -> None:
    with Store.open(path) as store:
        for i in range(30):
            s = mixed_session(f"0190{i:06d}", prompt=f"prompt {i}")
            store.create_session(s)
            for probe in s.probes:
                store.save_probe(s.session_id, probe)


def test_a_damaged_page_is_one_line_for_every_reading_command(capsys, tmp_path):
    db = tmp_path / "r.db"
    seeded(db)  # closed: the WAL is checkpointed into the file
    conn = sqlite3.connect(db)
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'sessions'").fetchone()
    conn.close()
    with db.open("r+b") as f:  # overwrite the sessions table's first page
        f.seek((root[0] - 1) * page)
        f.write(b"\xa5" * page)
    before = db.read_bytes()
    damaged = (f"infertui: {db} is damaged (database disk image is malformed): `sqlite3 {db} "
               ".recover` can save what is still readable; pass --db to use another file "
               "meanwhile")
    for argv in (["history"], ["show", "last"], ["export", "0190000001"], ["history", "--json"],
                 ["delete", "--yes", "0190000001"]):
        assert one_line(capsys, "--db", str(db), *argv) == damaged, argv
    assert db.read_bytes() == before  # reading changed nothing
    # Search indexes pending outputs first (a write the damage does not touch).
    assert one_line(capsys, "--db", str(db), "search", "prompt") == damaged


def test_a_search_of_50_kb_is_one_line(capsys):
    seeded(paths.db_file())
    assert one_line(capsys, "search", "x" * 50_000) == (
        "infertui: the search text is 50,000 characters long; give at most 1,000")
    assert one_line(capsys, "search", "tail " * 10_000).startswith(
        "infertui: the search text is 50,000 characters long")


def test_a_data_directory_under_a_file_is_one_line(capsys, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    monkeypatch.setenv("INFERTUI_DATA_DIR", str(blocker / "data"))
    export = tmp_path / "e.json"
    export.write_text(json.dumps(mixed_session().to_json()))
    for argv in (["probe", "-t", "sim-alpha/fast"], ["import", str(export)]):
        err = one_line(capsys, *argv)
        assert err.startswith(f"infertui: could not create {blocker / 'data'}: Not a directory")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through directory modes; the "
                    "read-only file system tests below cover root")
def test_a_data_directory_under_an_unwritable_parent_is_one_line(capsys, tmp_path, monkeypatch):
    parent = tmp_path / "locked"
    parent.mkdir(mode=0o500)
    monkeypatch.setenv("INFERTUI_DATA_DIR", str(parent / "data"))
    try:
        err = one_line(capsys, "probe", "-t", "sim-alpha/fast")
    finally:
        parent.chmod(0o700)
    assert err.startswith(f"infertui: could not create {parent / 'data'}: Permission denied")


def namespaces_work() -> bool:
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        return False
    done = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs none /mnt"],
                          capture_output=True)
    return done.returncode == 0


needs_namespaces = pytest.mark.skipif(not namespaces_work(), reason="needs `unshare -rm` "
                                      "(user and mount namespaces) to mount a small tmpfs")


def on_small_disk(tmp_path: Path, how: str) -> dict:
    """Run the commands of disk_proc on a 1 MB tmpfs made full or read-only."""
    done = subprocess.run(["unshare", "-rm", sys.executable, "-m", "tests.store.disk_proc",
                           str(tmp_path / "mnt"), how], cwd=ROOT, capture_output=True,
                          text=True, env=os.environ.copy(), timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@needs_namespaces
def test_a_healthy_store_on_a_read_only_disk_is_read_and_not_called_corrupt(tmp_path):
    results = on_small_disk(tmp_path, "readonly")
    db = tmp_path / "mnt" / "results.db"
    for name in ("history", "show", "search", "export"):
        assert results[name]["code"] == 0 and results[name]["err"] == "", results[name]
    assert results["history"]["out"].startswith("0190disk ")
    assert json.loads(results["show"]["out"])["session_id"] == "0190disk"
    assert results["search"]["out"].startswith("0190disk ")
    refusal = (f"infertui: {db}: could not open: it is on a read-only file system; history, "
               "show and export can read it, but saving needs --db FILE on a writable disk")
    assert results["import"] == {"code": 2, "out": "", "err": refusal + "\n"}
    assert results["probe"] == {"code": 2, "out": "", "err": refusal + " (or run with "
                                "--no-save)\n"}
    assert results["new_dir"] == {"code": 2, "out": "", "err": (
        f"infertui: could not create {db.parent / 'data'}: Read-only file system (or run "
        "with --no-save)\n")}


@needs_namespaces
def test_a_healthy_store_on_a_full_disk_is_not_called_corrupt(tmp_path):
    results = on_small_disk(tmp_path, "full")
    db = tmp_path / "mnt" / "results.db"
    full = (f"infertui: {db}: could not open: the disk is full (0 bytes free); free some "
            "space, or pass --db FILE on another disk")
    for name in ("history", "show", "search", "export", "import"):
        assert results[name] == {"code": 2, "out": "", "err": full + "\n"}, name
    assert results["probe"]["err"] == full + " (or run with --no-save)\n"
    new_db = db.parent / "data" / "infertui.db"
    assert results["new_dir"] == {"code": 2, "out": "", "err": (
        f"infertui: {new_db}: could not prepare: the disk is full (0 bytes free); free some "
        "space, or pass --db FILE on another disk (or run with --no-save)\n")}
