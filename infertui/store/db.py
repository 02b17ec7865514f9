"""Opening the results database: checks, pragmas and migrations.

Migrations are an ordered list; `PRAGMA user_version` is the number applied.
Each runs in one `BEGIN IMMEDIATE` transaction that also sets user_version, so
a migration is applied entirely or not at all, and two processes opening a new
file at once apply it once. A file from a newer infertui is refused, and a file
that is not an SQLite database (or is corrupt) is reported and left exactly as
it was.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from infertui.store import paths
from infertui.store.errors import StoreError
from infertui.store.campaign_schema import V3_CAMPAIGNS
from infertui.store.check_schema import V4_CHECKS
from infertui.store.schema import V1_FTS, V1_TABLES, V2_PROBE_COLUMNS

BUSY_TIMEOUT_MS = 5000
SQLITE_HEADER = b"SQLite format 3\x00"


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
    """Apply every migration above the file's user_version; returns the new version."""
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


def _corrupt(path: Path, detail: str) -> StoreError:
    return StoreError(f"{path} is not a usable infertui database ({detail}); it was left "
                      "untouched: move it away or pass --db to use another file")


def connect(path: Path, *, migrations: tuple[Migration, ...] = MIGRATIONS) -> sqlite3.Connection:
    """Open (creating when missing) and migrate the database at `path`."""
    latest = migrations[-1].version
    if path.is_dir():
        raise StoreError(f"{path} is a directory, not a database file")
    if path.exists():
        try:
            with path.open("rb") as fh:
                header = fh.read(len(SQLITE_HEADER))
        except OSError as exc:
            raise StoreError(f"cannot read {path}: {exc.strerror or exc}") from None
        if header and header != SQLITE_HEADER:
            raise _corrupt(path, "not an SQLite file")
    else:
        paths.ensure_parent(path)
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                               check_same_thread=False)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open {path}: {exc}") from None
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        version = user_version(conn)
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise _corrupt(path, str(exc)) from None
    if version > latest:
        conn.close()
        raise StoreError(f"{path} was made by a newer infertui (schema {version}, this one "
                         f"knows {latest}): upgrade infertui, or pass --db to use another file")
    if version == 0 and tables:
        conn.close()
        raise StoreError(f"{path} is an SQLite database but not an infertui one (it has "
                         f"tables: {', '.join(tables[:5])}); pass --db to use another file")
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        # WAL + NORMAL: a commit survives the process being killed; only a
        # power cut can lose the last commits, never corrupt the file.
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        migrate(conn, migrations)
    except sqlite3.OperationalError as exc:
        conn.close()
        if "locked" in str(exc) or "busy" in str(exc):
            raise StoreError(f"{path} is locked by another program for more than "
                             f"{BUSY_TIMEOUT_MS // 1000} s; try again") from None
        raise StoreError(f"cannot prepare {path}: {exc}") from None
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise _corrupt(path, str(exc)) from None
    return conn
