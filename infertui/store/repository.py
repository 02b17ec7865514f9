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
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from infertui.core.result import ProbeResult
from infertui.core.session import Session
from infertui.core.targets import Target
from infertui.store import (
    campaigns,
    db,
    importer,
    paths,
    queries,
    sanitize,
    session_extras,
    sqlerrors,
    timeline,
)
from infertui.store.errors import StoreError
from infertui.store.importer import ImportOutcome
from infertui.store.rows import (
    INSERT_PROBE,
    INSERT_TARGET,
    SUMMARY_SQL,
    UPDATE_SUMMARY,
    HistoryPoint,
    SessionRow,
    probe_values,
    summary_values,
    target_values,
)
from infertui.store.search import find_sessions

SEARCH_MAX_CHARS = 1000


class Store:
    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self._lock = threading.RLock()
        self._session_pks: dict[str, int] = {}
        self._positions: dict[tuple[int, str], int] = {}
        try:
            self.has_fts = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                                        "AND name = 'output_fts'").fetchone() is not None
            # Set by db.connect for a database it could only open for reading.
            self.read_only = bool(conn.execute("PRAGMA query_only").fetchone()[0])
        except sqlite3.Error as exc:
            raise sqlerrors.store_error(path, exc, "read") from None

    @classmethod
    def open(cls, path: Path | str | None = None, *, create: bool = True,
             environ: Mapping[str, str] | None = None, read_only: bool = False) -> Store:
        """Open (migrating when needed) the store at `path`, else infertui.db in
        the data dir. A missing file is created, unless `create` is False.
        `read_only`: the caller only reads, so a database on a read-only file
        system can still be opened (immutable); a missing one is not created."""
        file = paths.db_file(path, environ)
        if (read_only or not create) and not file.exists():
            raise StoreError(f"no results yet: {file} does not exist (`infertui probe` "
                             "saves there)")
        return cls(db.connect(file, read_only=read_only), file)

    def close(self) -> None:
        with self._lock:
            self.conn.close()

    def __enter__(self) -> Store:
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
                    try:
                        self.conn.execute("ROLLBACK")
                    except sqlite3.Error:  # SQLite rolls back by itself if it cannot here
                        pass
                # Rolled-back rows may have been cached by id.
                self._session_pks.clear()
                self._positions.clear()
                if isinstance(exc, sqlite3.Error):
                    raise self._error("write", exc) from None
                raise

    def _error(self, doing: str, exc: sqlite3.Error) -> StoreError:
        return sqlerrors.store_error(self.path, exc, doing)

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """The connection under the lock; an SQLite error (a damaged page, a
        disk that fails) becomes a StoreError naming the file."""
        with self._lock:
            try:
                yield self.conn
            except sqlite3.Error as exc:
                raise self._error("read", exc) from None

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
        p, st = sanitize.params(s.params), s.settings
        host, notes = sanitize.text(s.host), sanitize.text(s.notes) or ""
        finished_at = sanitize.text(s.finished_at)
        cur = conn.execute(
            "INSERT INTO sessions (session_id, started_at, started_ms, finished_at, host, notes,"
            " prompt, system, max_tokens, temperature, reasoning, repeat_count, concurrency,"
            " warmup, nonce, imported) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (session_id) DO NOTHING",
            (s.session_id, s.started_at, queries.iso_to_ms(s.started_at), finished_at, host,
             notes, p.prompt, p.system, p.max_tokens, p.temperature,
             None if p.reasoning is None else int(p.reasoning), st.repeat, st.concurrency,
             st.warmup, int(st.nonce), int(imported)))
        pk = cur.lastrowid
        if cur.rowcount == 0 or pk is None:
            return 0
        self._session_pks[s.session_id] = pk
        session_extras.save(conn, pk, s)
        for position, target in enumerate(_unique([sanitize.target(t) for t in s.targets])):
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

    def _insert_probe(self, conn: sqlite3.Connection, pk: int, result: ProbeResult,
                      summarize: bool = True,
                      packed: timeline.PackedTimeline | None = None) -> int | None:
        """Insert one probe and its timeline; its row id, or None when the
        session already has it. `summarize`: update the target's summary now
        (an import does it once per session instead, see importer.py);
        `packed`: its timeline, packed (and the result sanitized) before the
        transaction began."""
        if packed is None:
            result = sanitize.probe(result)
        pos = self._target_pos(conn, pk, result.target)
        cur = conn.execute(INSERT_PROBE, probe_values(pk, pos, result, sanitized=True))
        if cur.rowcount == 0:
            return None
        probe_pk = cur.lastrowid
        if result.chunks:
            packed = packed or timeline.pack(result.chunks)
            conn.execute("INSERT INTO timelines (probe_pk, offsets, kinds, lengths, text) "
                         "VALUES (?, ?, ?, ?, ?)",
                         (probe_pk, packed.offsets, packed.kinds, packed.lengths,
                          packed.text))
        if summarize:
            self._summarize(conn, pk, pos)
        conn.execute("UPDATE sessions SET probe_count = probe_count + 1 WHERE id = ?", (pk,))
        return probe_pk

    def _summarize(self, conn: sqlite3.Connection, pk: int, pos: int) -> None:
        summary = summary_values(conn.execute(SUMMARY_SQL, (pk, pos)))
        conn.execute(UPDATE_SUMMARY, (*summary, pk, pos))

    def save_probe(self, session_id: str, result: ProbeResult) -> bool:
        """Commit one finished probe; False when it was already stored."""
        with self._write() as conn:
            return self._insert_probe(conn, self._session_pk(conn, session_id),
                                      result) is not None

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
        params: tuple[int, ...]
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
        if self.read_only:
            return 0
        with self._reading() as conn:
            if not self.has_fts or conn.execute(
                    "SELECT 1 FROM timelines WHERE indexed = 0 LIMIT 1").fetchone() is None:
                return 0
        with self._write() as conn:
            return self._index(conn, None)

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

    def import_document(self, doc: Mapping[str, Any], source: str = "<document>"
                        ) -> ImportOutcome:
        """Add an `infertui.session/1` document (see importer.py): probes already
        stored (same session id and probe id) are skipped, so importing twice
        adds nothing; a stored session that differs is a conflict (the outcome
        says why) and is left as it was. Targets keep the prices recorded in
        the document, not the importer's."""
        return self.import_documents([doc], source)[0]

    def import_documents(self, docs: Sequence[Mapping[str, Any]], source: str = "<input>"
                         ) -> list[ImportOutcome]:
        """Every document checked first (DocumentError, a StoreError, names the
        bad field and nothing is written), then imported in short batches."""
        return importer.import_documents(self, docs, source)

    # --- reading -------------------------------------------------------------

    def resolve_id(self, id_or_prefix: str) -> str:
        """A full session id from a unique prefix; `last` is the newest session."""
        key = id_or_prefix.strip()
        with self._reading() as conn:
            ids = queries.matching_ids(conn, key) if key else []
        if not ids:
            raise StoreError(f"no session {id_or_prefix!r} in {self.path}")
        if len(ids) > 1:
            shown = ", ".join(ids[:5])
            raise StoreError(f"{id_or_prefix!r} matches several sessions ({shown}"
                             f"{', …' if len(ids) > 5 else ''}): give more of the id")
        return ids[0]

    def _rows(self, where: str, params: Sequence[Any], limit: int | None) -> list[SessionRow]:
        with self._reading() as conn:
            return queries.session_rows(conn, where, params, limit)

    def list_sessions(self, target: str | None = None, model: str | Sequence[str] | None = None,
                      since: str | None = None, limit: int | None = 50) -> list[SessionRow]:
        """Newest first. `target`: a label (PROVIDER/MODEL) or a provider name;
        `model`: text the model id contains (or any of several); `since`: ISO time."""
        return self._rows(*queries.filters(target, model, since), limit)

    def search(self, text: str, limit: int | None = 50) -> list[SessionRow]:
        """Sessions whose prompt, system prompt, notes or outputs contain `text`
        (outputs: whole words, the last one as a prefix, when FTS5 is there).
        Text longer than SEARCH_MAX_CHARS is refused: SQLite's LIKE has a limit
        on pattern length, and nobody means a search that long."""
        if len(text) > SEARCH_MAX_CHARS:
            raise StoreError(f"the search text is {len(text):,} characters long; give at most "
                             f"{SEARCH_MAX_CHARS:,}")
        self.index_pending()
        with self._reading() as conn:
            # A read-only store cannot index what is pending: scan the outputs.
            pks = find_sessions(conn, text, self.has_fts and not self.read_only)
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
        with self._reading() as conn:
            session = queries.load_session(conn, full)
            session.campaign = campaigns.link_for(conn, full)
            return session

    def target_history(self, label: str, limit: int | None = 500) -> list[HistoryPoint]:
        """Per-session figures for one target (PROVIDER/MODEL), oldest first."""
        with self._reading() as conn:
            return queries.target_history(conn, label, limit)

    def count_sessions(self) -> int:
        with self._reading() as conn:
            return conn.execute("SELECT count(*) FROM sessions").fetchone()[0]

    def integrity_check(self) -> str:
        with self._reading() as conn:
            return conn.execute("PRAGMA integrity_check").fetchone()[0]


def _unique(targets: Sequence[Target]) -> list[Target]:
    seen: dict[str, Target] = {}
    for t in targets:
        seen.setdefault(t.label, t)
    return list(seen.values())

