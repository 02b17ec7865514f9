"""Opening the database: migrations by user_version, newer files refused,
corrupt files reported and left byte for byte as they were."""

from __future__ import annotations

import sqlite3

import pytest

from infertui.store import db, paths
from infertui.store.errors import StoreError
from infertui.store.repository import Store
from tests.store.factories import mixed_session


def test_fresh_database_is_migrated_with_wal_and_foreign_keys(tmp_path):
    path = tmp_path / "deep" / "dir" / "results.db"
    conn = db.connect(path)
    assert db.user_version(conn) == db.LATEST
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == db.BUSY_TIMEOUT_MS
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"sessions", "session_targets", "probes", "timelines"} <= tables
    conn.close()


def test_default_location_is_the_data_dir_created_on_first_open():
    assert not paths.data_dir().exists()
    with Store.open() as store:
        assert store.path == paths.data_dir() / "infertui.db"
    assert store.path.is_file()


def test_reopening_keeps_data_and_applies_nothing_twice(tmp_path):
    path = tmp_path / "r.db"
    with Store.open(path) as store:
        store.create_session(mixed_session())
    calls = []
    extra = db.Migration(db.LATEST + 1, "test: add a column",
                         lambda c: calls.append(c.execute("ALTER TABLE sessions ADD COLUMN x")))
    migrations = db.MIGRATIONS + (extra,)
    db.connect(path, migrations=migrations).close()
    db.connect(path, migrations=migrations).close()
    assert len(calls) == 1
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == db.LATEST + 1
    assert conn.execute("SELECT count(*) FROM sessions").fetchone()[0] == 1
    conn.close()


def test_a_failing_migration_changes_nothing(tmp_path):
    path = tmp_path / "r.db"
    db.connect(path).close()

    def half_done(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE half (x)")
        raise sqlite3.OperationalError("boom")

    with pytest.raises(StoreError, match="boom"):
        db.connect(path, migrations=db.MIGRATIONS + (db.Migration(db.LATEST + 1, "bad",
                                                                  half_done),))
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == db.LATEST
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name='half'").fetchone()[0] == 0
    conn.close()


def test_a_database_from_a_newer_infertui_is_refused(tmp_path):
    path = tmp_path / "r.db"
    db.connect(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {db.LATEST + 5}")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError) as info:
        Store.open(path)
    assert str(info.value) == (f"{path} was made by a newer infertui (schema {db.LATEST + 5}, "
                               f"this one knows {db.LATEST}): upgrade infertui, or pass --db to "
                               "use another file")
    assert path.read_bytes() == before


@pytest.mark.parametrize("content", [
    b"this is not a database at all\n" * 200,
    b"SQLite format 3\x00" + b"\xff" * 4080,
])
def test_a_corrupt_file_is_reported_and_left_untouched(tmp_path, content):
    path = tmp_path / "r.db"
    path.write_bytes(content)
    with pytest.raises(StoreError, match=r"is not a usable infertui database .* left untouched"):
        Store.open(path)
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.db"]


def test_an_sqlite_file_of_another_program_is_refused(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE contacts (name)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match=r"not an infertui one .*contacts"):
        Store.open(path)
    assert path.read_bytes() == before


def test_a_directory_is_not_a_database(tmp_path):
    with pytest.raises(StoreError, match="is a directory"):
        Store.open(tmp_path)
