"""The session columns of migration 4: probe parameters stop, request_seed,
top_p and json_output, and the checks asked (`Session.check_spec`).

Written right after the session's own row, in the same transaction, and read
back onto a loaded Session, so the older columns' statements stay as they
were.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace

from infertui.core.session import Session

_COLUMNS = "stop, request_seed, top_p, json_output, check_spec"


def save(conn: sqlite3.Connection, session_pk: int, session: Session) -> None:
    p = session.params
    conn.execute(
        "UPDATE sessions SET stop = ?, request_seed = ?, top_p = ?, json_output = ?,"
        " check_spec = ? WHERE id = ?",
        (json.dumps(list(p.stop)) if p.stop else None, p.request_seed,
         p.top_p, int(p.json_output),
         json.dumps(session.check_spec) if session.check_spec else None,
         session_pk))


def load(conn: sqlite3.Connection, session_pk: int, session: Session) -> Session:
    row = conn.execute(f"SELECT {_COLUMNS} FROM sessions WHERE id = ?", (session_pk,)).fetchone()
    if row is None:
        return session
    stop, seed, top_p, json_output, check_spec = row
    session.params = replace(session.params, stop=tuple(json.loads(stop)) if stop else (),
                             request_seed=seed, top_p=top_p, json_output=bool(json_output))
    session.check_spec = json.loads(check_spec) if check_spec else None
    return session
