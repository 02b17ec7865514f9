"""What an SQLite error means for the user, in one line.

SQLite's own words ("disk I/O error", "unable to open database file") name
neither the file nor the way out, and a healthy file on a full or read-only
disk must never be called corrupt. The primary result code decides; the file
system is asked (statvfs, which opens nothing) where the code alone is vague.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from infertui.store.errors import StoreError

# Below this much free space an I/O error is most likely a full disk: SQLite
# reports a failed growth of the -shm or -wal file as an I/O error, not FULL.
_NEARLY_FULL = 1 << 20


def primary_code(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else code & 0xFF


def free_bytes(path: Path) -> int | None:
    try:
        st = os.statvfs(path.parent if not path.is_dir() else path)
    except OSError:
        return None
    return st.f_bavail * st.f_frsize


def read_only_fs(path: Path) -> bool:
    try:
        return bool(os.statvfs(path.parent).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _mib(n: int) -> str:
    return f"{n / (1 << 20):.1f} MiB" if n >= 1 << 20 else f"{n} bytes"


def _why_not_writable(path: Path) -> str:
    if read_only_fs(path):
        return "it is on a read-only file system"
    if path.exists() and not os.access(path, os.W_OK):
        return "the file is not writable"
    if not os.access(path.parent, os.W_OK | os.X_OK):
        return f"its directory {path.parent} is not writable"
    return "SQLite cannot write it"


def corrupt(path: Path, detail: str) -> StoreError:
    return StoreError(f"{path} is not a usable infertui database ({detail}); it was left "
                      "untouched: move it away or pass --db to use another file")


def is_corrupt(exc: sqlite3.Error) -> bool:
    return primary_code(exc) in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT)


def store_error(path: Path, exc: sqlite3.Error, doing: str = "use") -> StoreError:
    """A StoreError naming the file, what went wrong and what to do."""
    error = _store_error(path, exc, doing)
    error.sqlite_code = primary_code(exc)
    return error


def _store_error(path: Path, exc: sqlite3.Error, doing: str) -> StoreError:
    code = primary_code(exc)
    text = str(exc)
    if code == sqlite3.SQLITE_NOTADB:
        return corrupt(path, text)
    if code == sqlite3.SQLITE_CORRUPT:
        return StoreError(f"{path} is damaged ({text}): `sqlite3 {path} .recover` can save "
                          "what is still readable; pass --db to use another file meanwhile")
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or (
            code is None and ("locked" in text or "busy" in text)):
        from infertui.store.db import BUSY_TIMEOUT_MS  # noqa: PLC0415 - db imports this module

        return StoreError(f"{path}: could not {doing}: the database stayed locked by another "
                          f"program for more than {BUSY_TIMEOUT_MS / 1000:g} s; try again")
    free = free_bytes(path)
    if code == sqlite3.SQLITE_FULL or (code == sqlite3.SQLITE_IOERR and free is not None
                                       and free < _NEARLY_FULL):
        left = f"{_mib(free)} free" if free is not None else "full"
        return StoreError(f"{path}: could not {doing}: the disk is full ({left}); free some "
                          "space, or pass --db FILE on another disk")
    if read_only_fs(path) and code in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM,
                                       sqlite3.SQLITE_CANTOPEN):
        return StoreError(f"{path}: could not {doing}: it is on a read-only file system; "
                          "history, show and export can read it, but saving needs --db FILE "
                          "on a writable disk")
    if code in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM):
        return StoreError(f"{path}: could not {doing}: {_why_not_writable(path)}; pass --db "
                          "FILE to save elsewhere")
    if code == sqlite3.SQLITE_CANTOPEN:
        if not path.parent.is_dir():
            why = f"its directory {path.parent} does not exist"
        else:
            why = _why_not_writable(path) + " (SQLite needs to create files next to it)"
        return StoreError(f"{path}: could not {doing}: cannot open it: {why}")
    name = getattr(exc, "sqlite_errorname", None)
    return StoreError(f"{path}: could not {doing}: {text}" + (f" ({name})" if name else ""))


def os_error(path: Path, exc: OSError, doing: str) -> StoreError:
    where = exc.filename or path
    if isinstance(exc, FileExistsError) and not Path(where).is_dir():
        return StoreError(f"could not {doing} {path}: {where} is a file, not a directory")
    return StoreError(f"could not {doing} {where}: {exc.strerror or exc}")
