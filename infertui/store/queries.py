"""Reading the results database: history rows, whole sessions, target history.

Plain functions over a connection; `Store` calls them under its lock.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any, Sequence

from infertui.core.session import RunSettings, Session
from infertui.core.targets import ProbeParams, Target
from infertui.store import session_extras, timeline
from infertui.store.errors import StoreError
from infertui.store.rows import (
    LOAD_COLUMNS,
    HistoryPoint,
    SessionRow,
    TargetLine,
    probe_from_row,
    target_from_row,
)


def iso_to_ms(value: str) -> int:
    """Milliseconds since the epoch of an ISO 8601 time (naive means UTC)."""
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise StoreError(f"not an ISO 8601 time: {value!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def matching_ids(conn: sqlite3.Connection, key: str, limit: int = 6) -> list[str]:
    """Session ids starting with `key` (an index range scan); `last` is the newest."""
    params: tuple[str, ...]
    if key.lower() in ("last", "latest"):
        sql, params = ("SELECT session_id FROM sessions ORDER BY started_ms DESC, id DESC "
                       "LIMIT 1"), ()
    else:
        sql = ("SELECT session_id FROM sessions WHERE session_id >= ? AND session_id < ? "
               f"ORDER BY session_id LIMIT {int(limit)}")
        params = (key, key + "\U0010ffff")
    return [row[0] for row in conn.execute(sql, params)]


def filters(target: str | None, model: str | Sequence[str] | None,
            since: str | None) -> tuple[str, list[Any]]:
    """The WHERE clause of a history listing."""
    clauses: list[str] = []
    params: list[Any] = []
    if since is not None:
        clauses.append("s.started_ms >= ?")
        params.append(iso_to_ms(since))
    if target:
        clauses.append("EXISTS (SELECT 1 FROM session_targets t WHERE t.session_pk = s.id "
                       "AND (t.label = ? OR t.provider = ?))")
        params += [target, target]
    if model:
        models = [model] if isinstance(model, str) else list(model)
        likes = " OR ".join("t.model LIKE ? ESCAPE '\\'" for _ in models)
        clauses.append(f"EXISTS (SELECT 1 FROM session_targets t WHERE t.session_pk = s.id "
                       f"AND ({likes}))")
        params += [f"%{escape_like(m)}%" for m in models]
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


def session_rows(conn: sqlite3.Connection, where: str, params: Sequence[Any],
                 limit: int | None) -> list[SessionRow]:
    """Sessions newest first, each with its targets' stored summaries."""
    sql = ("SELECT s.id, s.session_id, s.started_at, s.finished_at, s.cancelled, s.host, s.notes,"
           " s.prompt, s.probe_count, s.imported, c.campaign_id, c.name, cs.round, cs.concurrency,"
           " cs.kind FROM sessions s LEFT JOIN campaign_sessions cs ON cs.session_pk = s.id"
           f" LEFT JOIN campaigns c ON c.id = cs.campaign_pk {where}"
           " ORDER BY s.started_ms DESC, s.id DESC")
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    sessions = conn.execute(sql, params).fetchall()
    lines: dict[int, list[TargetLine]] = {}
    pks = [s[0] for s in sessions]
    for chunk in (pks[i:i + 500] for i in range(0, len(pks), 500)):
        for row in conn.execute(
                "SELECT session_pk, label, provider, model, n, ok, errors, cancelled, ttft_p50,"
                " ttft_p95, e2e_p50, tps_p50 FROM session_targets WHERE session_pk IN"
                f" ({','.join('?' * len(chunk))}) ORDER BY session_pk, position", chunk):
            lines.setdefault(row[0], []).append(TargetLine(*row[1:]))
    return [SessionRow(s[1], s[2], s[3], bool(s[4]), s[5], s[6], s[7], s[8], bool(s[9]),
                       tuple(lines.get(s[0], ())), *s[10:15]) for s in sessions]


def load_session(conn: sqlite3.Connection, session_id: str) -> Session:
    """The whole session, probes in commit order with their chunk timelines."""
    s = conn.execute(
        "SELECT id, session_id, started_at, finished_at, host, notes, prompt, system,"
        " max_tokens, temperature, reasoning, repeat_count, concurrency, warmup, nonce"
        " FROM sessions WHERE session_id = ?", (session_id,)).fetchone()
    if s is None:
        raise StoreError(f"no session {session_id!r}")
    targets: dict[int, Target] = {}
    listed: list[Target] = []
    for pos, is_listed, *fields in conn.execute(
            "SELECT position, listed, provider, model, base_url, api, price_input_per_mtok,"
            " price_output_per_mtok FROM session_targets WHERE session_pk = ? ORDER BY position",
            (s[0],)):
        targets[pos] = target_from_row(*fields)
        if is_listed:
            listed.append(targets[pos])
    probes = []
    for row in conn.execute(
            f"SELECT p.target_pos, {', '.join('p.' + c for c in LOAD_COLUMNS)},"
            " t.offsets, t.kinds, t.lengths, t.text FROM probes p"
            " LEFT JOIN timelines t ON t.probe_pk = p.id WHERE p.session_pk = ? ORDER BY p.id",
            (s[0],)):
        probe = probe_from_row(row[1:-4], targets[row[0]])
        if row[-4] is not None:
            probe.chunks = timeline.unpack(*row[-4:])
        probes.append(probe)
    return session_extras.load(conn, s[0], Session(
        session_id=s[1], started_at=s[2], finished_at=s[3], host=s[4], notes=s[5],
        params=ProbeParams(prompt=s[6], system=s[7], max_tokens=s[8], temperature=s[9],
                           reasoning=None if s[10] is None else bool(s[10])),
        settings=RunSettings(repeat=s[11], concurrency=s[12], warmup=s[13], nonce=bool(s[14])),
        targets=listed, probes=probes))


def target_history(conn: sqlite3.Connection, label: str, limit: int | None) -> list[HistoryPoint]:
    """Per-session figures of one target, oldest first (the newest `limit`)."""
    sql = ("SELECT s.session_id, s.started_at, t.n, t.ok, t.errors, t.ttft_p50, t.ttft_p95,"
           " t.e2e_p50, t.tps_p50 FROM session_targets t JOIN sessions s ON s.id ="
           " t.session_pk WHERE t.label = ? ORDER BY s.started_ms DESC, s.id DESC")
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return [HistoryPoint(*row) for row in reversed(conn.execute(sql, (label,)).fetchall())]
