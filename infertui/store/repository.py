"""The results store: sessions, probes and their chunk timelines in SQLite.

One writer at a time per file (SQLite's lock, waited on for the busy timeout);
every write is one short `BEGIN IMMEDIATE` transaction, and each finished probe
is its own commit, so a killed run keeps every probe that had finished. A Store
may be shared between threads (one lock around its connection); two processes
(the TUI and a headless run) each open their own.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from infertui.core.result import ProbeResult
from infertui.core.session import Session, session_from_json
from infertui.core.targets import Target
from infertui.store import campaigns, db, paths, queries, session_extras, timeline
from infertui.store.errors import StoreError
from infertui.store.rows import (
    INSERT_PROBE, INSERT_TARGET, SUMMARY_SQL, UPDATE_SUMMARY, HistoryPoint, SessionRow,
    probe_values, summary_values, target_values,
)
from infertui.store.search import find_sessions


@dataclass(frozen=True)
class ImportOutcome:
    """What one imported session document added; false when it added nothing."""

    session_id: str
    created: bool
    probes_added: int

    def __bool__(self) -> bool:
        return self.created or self.probes_added > 0


class Store:
    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self._lock = threading.RLock()
        self._session_pks: dict[str, int] = {}
        self._positions: dict[tuple[int, str], int] = {}
        self.has_fts = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                                    "AND name = 'output_fts'").fetchone() is not None

    @classmethod
    def open(cls, path: Path | str | None = None, *, create: bool = True,
             environ: Mapping[str, str] | None = None) -> "Store":
        """Open (migrating when needed) the store at `path`, else infertui.db in
        the data dir. A missing file is created, unless `create` is False."""
        file = paths.db_file(path, environ)
        if not create and not file.exists():
            raise StoreError(f"no results yet: {file} does not exist (`infertui probe` "
                             "saves there)")
        return cls(db.connect(file), file)

    def close(self) -> None:
        with self._lock:
            self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise self._error("start a write", exc) from None
            try:
                yield self.conn
                self.conn.execute("COMMIT")
            except BaseException as exc:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                # Rolled-back rows may have been cached by id.
                self._session_pks.clear()
                self._positions.clear()
                if isinstance(exc, sqlite3.Error):
                    raise self._error("write", exc) from None
                raise

    def _error(self, doing: str, exc: sqlite3.Error) -> StoreError:
        text = str(exc)
        if "locked" in text or "busy" in text:
            return StoreError(f"{self.path}: could not {doing}: the database stayed locked by "
                              f"another infertui for {db.BUSY_TIMEOUT_MS // 1000} s")
        return StoreError(f"{self.path}: could not {doing}: {text}")

    # --- writing -------------------------------------------------------------

    def _session_pk(self, conn: sqlite3.Connection, session_id: str) -> int:
        pk = self._session_pks.get(session_id)
        if pk is None:
            row = conn.execute("SELECT id FROM sessions WHERE session_id = ?",
                               (session_id,)).fetchone()
            if row is None:
                raise StoreError(f"no session {session_id} in {self.path}")
            pk = self._session_pks[session_id] = row[0]
        return pk

    def _insert_session(self, conn: sqlite3.Connection, s: Session, imported: bool) -> int:
        p, st = s.params, s.settings
        cur = conn.execute(
            "INSERT INTO sessions (session_id, started_at, started_ms, finished_at, host, notes,"
            " prompt, system, max_tokens, temperature, reasoning, repeat_count, concurrency,"
            " warmup, nonce, imported) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (session_id) DO NOTHING",
            (s.session_id, s.started_at, queries.iso_to_ms(s.started_at), s.finished_at, s.host,
             s.notes, p.prompt, p.system, p.max_tokens, p.temperature,
             None if p.reasoning is None else int(p.reasoning), st.repeat, st.concurrency,
             st.warmup, int(st.nonce), int(imported)))
        if cur.rowcount == 0:
            return 0
        pk = self._session_pks[s.session_id] = cur.lastrowid
        session_extras.save(conn, pk, s)
        for position, target in enumerate(_unique(s.targets)):
            conn.execute(INSERT_TARGET, target_values(pk, position, True, target))
            self._positions[(pk, target.label)] = position
        if s.campaign:
            campaigns.record_link(conn, pk, s.campaign, imported)
        return pk

    def create_session(self, session: Session) -> None:
        """Record a session as it starts (its targets and parameters); a second
        call for the same id changes nothing."""
        with self._write() as conn:
            self._insert_session(conn, session, imported=False)

    def _target_pos(self, conn: sqlite3.Connection, pk: int, target: Target) -> int:
        pos = self._positions.get((pk, target.label))
        if pos is not None:
            return pos
        row = conn.execute("SELECT position FROM session_targets WHERE session_pk = ? AND "
                           "label = ?", (pk, target.label)).fetchone()
        if row is None:  # a probe for a target the session did not list
            pos = conn.execute("SELECT coalesce(max(position) + 1, 0) FROM session_targets "
                               "WHERE session_pk = ?", (pk,)).fetchone()[0]
            conn.execute(INSERT_TARGET, target_values(pk, pos, False, target))
        else:
            pos = row[0]
        self._positions[(pk, target.label)] = pos
        return pos

    def _insert_probe(self, conn: sqlite3.Connection, pk: int, result: ProbeResult) -> bool:
        pos = self._target_pos(conn, pk, result.target)
        cur = conn.execute(INSERT_PROBE, probe_values(pk, pos, result))
        if cur.rowcount == 0:
            return False
        if result.chunks:
            packed = timeline.pack(result.chunks)
            conn.execute("INSERT INTO timelines (probe_pk, offsets, kinds, lengths, text) "
                         "VALUES (?, ?, ?, ?, ?)",
                         (cur.lastrowid, packed.offsets, packed.kinds, packed.lengths,
                          packed.text))
        summary = summary_values(conn.execute(SUMMARY_SQL, (pk, pos)))
        conn.execute(UPDATE_SUMMARY, (*summary, pk, pos))
        conn.execute("UPDATE sessions SET probe_count = probe_count + 1 WHERE id = ?", (pk,))
        return True

    def save_probe(self, session_id: str, result: ProbeResult) -> bool:
        """Commit one finished probe; False when it was already stored."""
        with self._write() as conn:
            return self._insert_probe(conn, self._session_pk(conn, session_id), result)

    def finish_session(self, session_id: str, finished_at: str | None, cancelled: bool,
                       notes: str | None = None) -> None:
        """Mark the session ended and index its outputs for search (one batch)."""
        with self._write() as conn:
            pk = self._session_pk(conn, session_id)
            conn.execute("UPDATE sessions SET finished_at = ?, cancelled = ?, "
                         "notes = coalesce(?, notes) WHERE id = ?",
                         (finished_at, int(cancelled), notes, pk))
            self._index(conn, pk)

    def _index(self, conn: sqlite3.Connection, session_pk: int | None) -> int:
        """Add not yet indexed outputs (of one session, or all) to the search index."""
        if not self.has_fts:
            return 0
        where, params = "indexed = 0", ()
        if session_pk is not None:
            where += " AND probe_pk IN (SELECT id FROM probes WHERE session_pk = ?)"
            params = (session_pk,)
        conn.execute("INSERT INTO output_fts (rowid, text) SELECT probe_pk, text FROM timelines"
                     f" WHERE {where}", params)
        return conn.execute(f"UPDATE timelines SET indexed = 1 WHERE {where}", params).rowcount

    def index_pending(self) -> int:
        """Index every output still waiting (a killed or running session's);
        returns how many were added. `search` calls it first."""
        with self._lock:
            if not self.has_fts or self.conn.execute(
                    "SELECT 1 FROM timelines WHERE indexed = 0 LIMIT 1").fetchone() is None:
                return 0
        with self._write() as conn:
            return self._index(conn, None)

    def set_notes(self, session_id: str, notes: str) -> None:
        with self._write() as conn:
            conn.execute("UPDATE sessions SET notes = ? WHERE id = ?",
                         (notes, self._session_pk(conn, self.resolve_id(session_id))))

    def delete_sessions(self, ids: Sequence[str]) -> int:
        """Delete sessions (full ids or unique prefixes) with their probes."""
        full = [self.resolve_id(i) for i in ids]
        with self._write() as conn:
            deleted = 0
            for session_id in dict.fromkeys(full):
                deleted += conn.execute("DELETE FROM sessions WHERE session_id = ?",
                                        (session_id,)).rowcount
                self._session_pks.pop(session_id, None)
            self._positions.clear()
        return deleted

    def import_document(self, doc: Mapping[str, Any]) -> ImportOutcome:
        """Add an `infertui.session/1` document; probes already stored (same
        session id and probe id) are skipped, so importing twice adds nothing.
        Targets keep the prices recorded in the document, not the importer's."""
        try:
            session = session_from_json(dict(doc))
        except (KeyError, TypeError, ValueError) as exc:
            raise StoreError(f"not a valid infertui.session/1 document: {exc!r}") from None
        with self._write() as conn:
            pk = self._insert_session(conn, session, imported=True)
            created = pk != 0
            if not created:
                pk = self._session_pk(conn, session.session_id)
            added = sum(self._insert_probe(conn, pk, probe) for probe in session.probes)
            self._index(conn, pk)
        return ImportOutcome(session.session_id, created, added)

    # --- reading -------------------------------------------------------------

    def resolve_id(self, id_or_prefix: str) -> str:
        """A full session id from a unique prefix; `last` is the newest session."""
        key = id_or_prefix.strip()
        with self._lock:
            ids = queries.matching_ids(self.conn, key) if key else []
        if not ids:
            raise StoreError(f"no session {id_or_prefix!r} in {self.path}")
        if len(ids) > 1:
            shown = ", ".join(ids[:5])
            raise StoreError(f"{id_or_prefix!r} matches several sessions ({shown}"
                             f"{', …' if len(ids) > 5 else ''}): give more of the id")
        return ids[0]

    def _rows(self, where: str, params: Sequence[Any], limit: int | None) -> list[SessionRow]:
        with self._lock:
            return queries.session_rows(self.conn, where, params, limit)

    def list_sessions(self, target: str | None = None, model: str | Sequence[str] | None = None,
                      since: str | None = None, limit: int | None = 50) -> list[SessionRow]:
        """Newest first. `target`: a label (PROVIDER/MODEL) or a provider name;
        `model`: text the model id contains (or any of several); `since`: ISO time."""
        return self._rows(*queries.filters(target, model, since), limit)

    def search(self, text: str, limit: int | None = 50) -> list[SessionRow]:
        """Sessions whose prompt, system prompt, notes or outputs contain `text`
        (outputs: whole words, the last one as a prefix, when FTS5 is there)."""
        self.index_pending()
        with self._lock:
            pks = find_sessions(self.conn, text, self.has_fts)
        if not pks:
            return []
        return self._rows(f"WHERE s.id IN ({','.join(map(str, pks))})", (), limit)

    def session_rows(self, session_ids: Sequence[str]) -> list[SessionRow]:
        """History rows for these full session ids, newest first."""
        ids = list(session_ids)
        if not ids:
            return []
        return self._rows(f"WHERE s.session_id IN ({','.join('?' * len(ids))})", ids, None)

    def load_session(self, session_id: str) -> Session:
        """The whole session (an id, a unique prefix or `last`), probes with
        their chunk timelines, ready to replay."""
        full = self.resolve_id(session_id)
        with self._lock:
            session = queries.load_session(self.conn, full)
            session.campaign = campaigns.link_for(self.conn, full)
            return session

    def target_history(self, label: str, limit: int | None = 500) -> list[HistoryPoint]:
        """Per-session figures for one target (PROVIDER/MODEL), oldest first."""
        with self._lock:
            return queries.target_history(self.conn, label, limit)

    def count_sessions(self) -> int:
        with self._lock:
            return self.conn.execute("SELECT count(*) FROM sessions").fetchone()[0]

    def integrity_check(self) -> str:
        with self._lock:
            return self.conn.execute("PRAGMA integrity_check").fetchone()[0]


def _unique(targets: Sequence[Target]) -> list[Target]:
    seen: dict[str, Target] = {}
    for t in targets:
        seen.setdefault(t.label, t)
    return list(seen.values())

