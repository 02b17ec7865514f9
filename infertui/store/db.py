"""Opening the results database: checks, pragmas and migrations.

Migrations are an ordered list; `PRAGMA user_version` is the number applied.
Each runs in one `BEGIN IMMEDIATE` transaction that also sets user_version, so
a migration is applied entirely or not at all, and two processes opening a new
file at once apply it once. A file from a newer infertui is refused, and a file
that is not an SQLite database (or is corrupt) is reported and left exactly as
it was; a healthy file on a full or read-only disk is reported as such (see
sqlerrors.py).
"""

from __future__ import annotations

import os
import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import quote

from infertui.store import paths, sqlerrors
from infertui.store.campaign_schema import V3_CAMPAIGNS
from infertui.store.check_schema import V4_CHECKS
from infertui.store.errors import StoreError
from infertui.store.schema import V1_FTS, V1_TABLES, V2_PROBE_COLUMNS

BUSY_TIMEOUT_MS = 5000
FILE_MODE = 0o600  # the database, and so its -wal and -shm: prompts and outputs are private


def fts5_available(conn: sqlite3.Connection) -> bool:
    options = {row[0] for row in conn.execute("PRAGMA compile_options")}
    return "ENABLE_FTS5" in options


def _v1(conn: sqlite3.Connection) -> None:
    _run_script(conn, V1_TABLES)
    # Search falls back to LIKE on an SQLite built without FTS5.
    if fts5_available(conn):
        _run_script(conn, V1_FTS)


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[sqlite3.Connection], None]


def _v2(conn: sqlite3.Connection) -> None:
    _run_script(conn, V2_PROBE_COLUMNS)


def _v3(conn: sqlite3.Connection) -> None:
    _run_script(conn, V3_CAMPAIGNS)


def _v4(conn: sqlite3.Connection) -> None:
    _run_script(conn, V4_CHECKS)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "sessions, targets, probes, chunk timelines, output search", _v1),
    Migration(2, "probes: recv_source, retries, retry_reason, max_tokens", _v2),
    Migration(3, "campaigns: their sessions, and each probe's phase and chain", _v3),
    Migration(4, "sessions: stop, request_seed, top_p, json_output, checks; probes: check step "
                 "and request", _v4),
)
LATEST = MIGRATIONS[-1].version


def _run_script(conn: sqlite3.Connection, script: str) -> None:
    """Run statements one by one inside the caller's transaction
    (`executescript` would commit it)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            conn.execute(pending)
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement in migration: {pending.strip()[:60]}")


def user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, migrations: tuple[Migration, ...] = MIGRATIONS) -> int:
    """Apply every migration above the file's user_version; returns the new version.
    An up-to-date file is not locked at all: opening the store must not wait
    for another process's long write."""
    if user_version(conn) >= migrations[-1].version:
        return user_version(conn)
    for migration in migrations:
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Read under the write lock: another process may have migrated meanwhile.
            if user_version(conn) >= migration.version:
                conn.execute("ROLLBACK")
                continue
            migration.apply(conn)
            conn.execute(f"PRAGMA user_version = {int(migration.version)}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    return user_version(conn)


def _create(path: Path) -> None:
    """Create the empty file owner-only (SQLite gives its -wal and -shm files the
    database's mode). Closing this descriptor is safe, unlike any other: with
    O_EXCL the file is new, so no connection of this process can hold a lock
    on it."""
    paths.ensure_parent(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0),
                     FILE_MODE)
    except FileExistsError:  # another process was first: it is theirs to create
        return
    os.close(fd)


def _tighten(path: Path) -> None:
    """Owner-only modes for a database made before infertui set them (it holds
    prompts and outputs). chmod works on the path and opens nothing."""
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            mode = stat.S_IMODE(file.stat().st_mode)
            if mode & 0o077:
                os.chmod(file, mode & 0o700)
        except OSError:  # gone meanwhile, or not ours: reading still works
            continue


def _wal_in_use(path: Path) -> bool:
    try:
        return path.with_name(path.name + "-wal").stat().st_size > 0
    except OSError:
        return False


def _open(path: Path, immutable: bool) -> sqlite3.Connection:
    if immutable:
        # Nothing can change a file on a read-only file system, and SQLite
        # could not create the -shm file a WAL database needs to be read.
        uri = f"file:{quote(str(path.resolve()))}?immutable=1"
        return sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000,
                               isolation_level=None, check_same_thread=False)
    return sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                           check_same_thread=False)


def connect(path: Path, *, migrations: tuple[Migration, ...] = MIGRATIONS,
            read_only: bool = False) -> sqlite3.Connection:
    """Open (creating when missing) and migrate the database at `path`.

    The file is never opened outside SQLite once it exists: closing any
    descriptor of it would drop every POSIX lock this process holds on it,
    including those of other open connections, and another process could then
    checkpoint and delete the WAL under them (SQLite's "How To Corrupt"
    lists it). Whether it is a database at all, SQLite says.

    `read_only`: the caller only reads; a database on a read-only file system
    is then opened as immutable (read-only connection, `PRAGMA query_only`)."""
    latest = migrations[-1].version
    try:
        if path.is_dir():
            raise StoreError(f"{path} is a directory, not a database file")
        exists = path.exists()
        if not exists:
            _create(path)
    except OSError as exc:
        raise sqlerrors.os_error(path, exc, "create") from None
    immutable = read_only and exists and sqlerrors.read_only_fs(path) and not _wal_in_use(path)
    try:
        conn = _open(path, immutable)
    except sqlite3.Error as exc:
        raise sqlerrors.store_error(path, exc, "open") from None
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        version = user_version(conn)
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    except sqlite3.Error as exc:
        conn.close()
        raise sqlerrors.store_error(path, exc, "open") from None
    if version > latest:
        conn.close()
        raise StoreError(f"{path} was made by a newer infertui (schema {version}, this one "
                         f"knows {latest}): upgrade infertui, or pass --db to use another file")
    if version == 0 and tables:
        conn.close()
        raise StoreError(f"{path} is an SQLite database but not an infertui one (it has "
                         f"tables: {', '.join(tables[:5])}); pass --db to use another file")
    if immutable:
        if version < latest:
            conn.close()
            raise StoreError(f"{path} is on a read-only file system and was made by an older "
                             "infertui: it needs an upgrade infertui cannot write; copy it to "
                             "a writable place and pass --db")
        conn.execute("PRAGMA query_only = 1")
        return conn
    _tighten(path)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        # WAL + NORMAL: a commit survives the process being killed; only a
        # power cut can lose the last commits, never corrupt the file.
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        migrate(conn, migrations)
    except sqlite3.Error as exc:
        conn.close()
        raise sqlerrors.store_error(path, exc, "prepare") from None
    return conn
