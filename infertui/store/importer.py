"""Importing session documents: checked first, compared with what is stored,
written in short transactions.

- Every document of a file is checked (doccheck.py) before anything is
  written: a bad field is one line naming it, and nothing of the file lands.
- A session already stored is compared with the document: different
  parameters or targets, or a probe id with different figures, is a
  conflict, reported and not merged. The same document twice adds nothing
  and is no conflict; a document with more probes (a rescue file, an export
  of a session that was still running) adds the ones missing.
- Writes go in transactions of at most BATCH_SECONDS, with a pause of
  PAUSE_SECONDS between two: a run saving its probes meanwhile waits one
  batch at most, never the whole import. The pause is longer than SQLite's
  longest wait between two tries for a lock (100 ms), so a writer waiting
  is sure to try while the lock is free. An import cut short keeps the
  batches it committed; importing the file again adds the rest.
"""

from __future__ import annotations

import sqlite3
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

from infertui.core.result import ProbeResult
from infertui.core.session import Session, probe_from_json, probe_to_json, session_from_json
from infertui.store import queries, sanitize, timeline
from infertui.store.doccheck import DocumentError, check_session_document
from infertui.store.errors import StoreError

if TYPE_CHECKING:
    from infertui.store.repository import Store

BATCH_SECONDS = 0.2
PAUSE_SECONDS = 0.11

# What makes two copies of one probe the same measurement. Derived rates are
# left out: recomputed from µs-rounded times they may differ in a last digit.
_PROBE_FIGURES = ("seq", "warmup", "status", "error", "http_status", "ttft_ms", "ttft_any_ms",
                  "ttfb_ms", "e2e_ms", "input_tokens", "usage_output_tokens",
                  "reasoning_tokens", "cached_tokens", "finish_reason", "text",
                  "reasoning_text", "chunk_times_ms", "chunk_kinds")


@dataclass(frozen=True)
class ImportOutcome:
    """What one imported session document added; false when it added nothing.
    `conflict`: why it was not imported, when the stored session differs."""

    session_id: str
    created: bool
    probes_added: int
    conflict: str | None = None

    def __bool__(self) -> bool:
        return self.created or self.probes_added > 0


class ImportConflict(StoreError):
    pass


def check_documents(docs: Sequence[Any], source: str) -> None:
    """Every document checked; DocumentError on the first bad field."""
    for i, doc in enumerate(docs):
        check_session_document(doc, _where(docs, i, source))


def _where(docs: Sequence[Any], i: int, source: str) -> str:
    return source if len(docs) == 1 else f"{source}: document {i + 1}"


def _read(convert, *args: Any, where: str):
    try:
        return convert(*args)
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise DocumentError(f"{where}: not a valid session document ({exc})") from None


@dataclass
class _Prepared:
    """A probe ready to insert: read from JSON, sanitized and packed (the
    work done between two batches, outside any transaction)."""

    result: ProbeResult
    packed: timeline.PackedTimeline


def _prepare(data: dict[str, Any], where: str) -> _Prepared:
    result = sanitize.probe(_read(probe_from_json, data, where=where))
    return _Prepared(result, timeline.pack(result.chunks))


class _Batches:
    """The import's writes in transactions of at most `budget` seconds, under
    the store's lock, with a pause between two. `idle` is called in the
    pause while it returns True: work that needs no lock fills it."""

    def __init__(self, store: "Store", budget: float, pause: float) -> None:
        self.store = store
        self.budget = budget
        self.pause = pause
        self.idle: Callable[[], bool] = lambda: False
        self.started: float | None = None
        self.committed_at: float | None = None

    @contextmanager
    def step(self) -> Iterator[sqlite3.Connection]:
        if self.started is None:
            self._begin()
        try:
            yield self.store.conn
        except sqlite3.Error as exc:
            self.rollback()
            raise self.store._error("write", exc) from None
        except BaseException:
            self.rollback()
            raise
        if time.monotonic() - self.started >= self.budget:
            self.commit()

    def _begin(self) -> None:
        if self.committed_at is not None:
            while time.monotonic() - self.committed_at < self.pause and self.idle():
                pass
            rest = self.pause - (time.monotonic() - self.committed_at)
            if rest > 0:
                time.sleep(rest)
        self.store._lock.acquire()
        try:
            self.store.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            self.store._lock.release()
            raise self.store._error("start a write", exc) from None
        self.started = time.monotonic()

    def commit(self) -> None:
        if self.started is None:
            return
        try:
            self.store.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self.rollback()
            raise self.store._error("write", exc) from None
        self.started = None
        self.committed_at = time.monotonic()
        try:
            # Copy the batch into the database now, outside any transaction:
            # else the WAL grows by the whole import, and whichever commit
            # crosses SQLite's threshold (a run saving one probe) pays for
            # copying megabytes back.
            self.store.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error:  # a checkpoint can wait for the next one
            pass
        finally:
            self.store._lock.release()

    def rollback(self) -> None:
        if self.started is None:
            return
        try:
            if self.store.conn.in_transaction:
                self.store.conn.execute("ROLLBACK")
        except sqlite3.Error:  # SQLite rolls back by itself when it cannot here
            pass
        self.store._session_pks.clear()
        self.store._positions.clear()
        self.started = None
        self.store._lock.release()


def _figures(probe_json: dict[str, Any]) -> dict[str, Any]:
    out = {k: probe_json.get(k) for k in _PROBE_FIGURES}
    out["target"] = f"{probe_json['target']['provider']}/{probe_json['target']['model']}"
    return out


def conflict(stored: Session, doc: Session) -> str | None:
    """What differs between a stored session and a document of the same id
    (None: the document is the same session, perhaps with more probes)."""
    doc = sanitize.session(doc)
    if stored.params != doc.params:
        fields = [k for k in ("prompt", "system", "max_tokens", "temperature", "reasoning")
                  if getattr(stored.params, k) != getattr(doc.params, k)]
        return f"different {', '.join(fields)}"
    if stored.settings != doc.settings:
        return "different run settings"
    if stored.started_at != doc.started_at:
        return f"started at {stored.started_at} here, {doc.started_at} in the file"
    here = sorted({t.label for t in stored.targets})
    there = sorted({t.label for t in doc.targets})
    if here != there:
        return f"different targets ({', '.join(here)} here; {', '.join(there)} in the file)"
    kept = {p.probe_id: p for p in stored.probes}
    for probe in doc.probes:
        mine = kept.get(probe.probe_id)
        if mine is None:
            continue
        a, b = _figures(probe_to_json(mine)), _figures(probe_to_json(probe))
        if a != b:
            differ = [k for k in a if a[k] != b[k]]
            return f"probe {probe.probe_id} has different {', '.join(differ[:4])}"
    return None


def import_documents(store: "Store", docs: Sequence[Any], source: str, *,
                     budget: float | None = None, pause: float | None = None
                     ) -> list[ImportOutcome]:
    """Check every document, then import them one after the other."""
    check_documents(docs, source)
    batches = _Batches(store, BATCH_SECONDS if budget is None else budget,
                       PAUSE_SECONDS if pause is None else pause)
    outcomes = []
    try:
        for i, doc in enumerate(docs):
            outcomes.append(_import_one(store, batches, doc, _where(docs, i, source)))
        batches.commit()
    finally:
        batches.rollback()
    return outcomes


def _existing(store: "Store", session_id: str) -> int | None:
    with store._reading() as conn:
        row = conn.execute("SELECT id FROM sessions WHERE session_id = ?",
                           (session_id,)).fetchone()
    return None if row is None else row[0]


def _import_one(store: "Store", batches: _Batches, doc: dict[str, Any],
                where: str) -> ImportOutcome:
    probe_docs = doc.get("probes") or []
    if doc.get("targets"):
        # The session's own fields now; its probes one by one, in the pauses.
        session = _read(session_from_json, {**doc, "probes": []}, where=where)
    else:  # targets come from the probes: read them all
        session = _read(session_from_json, doc, where=where)
        probe_docs = [probe_to_json(p) for p in session.probes]
    sid = session.session_id
    pk = _existing(store, sid)
    created = pk is None
    ahead: deque[_Prepared] = deque()
    waiting = iter(probe_docs)

    def prepare_one() -> bool:
        data = next(waiting, None)
        if data is None:
            return False
        ahead.append(_prepare(data, where))
        return True

    if pk is not None:
        batches.commit()  # compare outside any transaction: it may read much
        while prepare_one():
            pass
        session.probes = [item.result for item in ahead]
        with store._reading() as conn:
            stored = queries.load_session(conn, sid)
        why = conflict(stored, session)
        if why is not None:
            return ImportOutcome(sid, False, 0, why)
        with batches.step() as conn:
            # A session saved while it ran may have missed its end.
            conn.execute("UPDATE sessions SET finished_at = coalesce(finished_at, ?) "
                         "WHERE id = ?", (sanitize.text(session.finished_at), pk))
    else:
        with batches.step() as conn:
            pk = store._insert_session(conn, session, imported=True)
            if pk == 0:  # another process imported it meanwhile
                pk = store._session_pk(conn, sid)
                created = False
    batches.idle = prepare_one
    added = 0
    try:
        while True:
            if not ahead:
                # Nothing prepared: end the batch here and prepare outside it
                # (reading and packing a probe takes longer than storing it).
                batches.commit()
                if not prepare_one():
                    break
            item = ahead.popleft()
            with batches.step() as conn:
                probe_pk = store._insert_probe(conn, pk, item.result, summarize=False,
                                               packed=item.packed)
                if probe_pk is not None:
                    added += 1
                    if store.has_fts:
                        conn.execute("INSERT INTO output_fts (rowid, text) SELECT probe_pk, "
                                     "text FROM timelines WHERE probe_pk = ?", (probe_pk,))
                        conn.execute("UPDATE timelines SET indexed = 1 WHERE probe_pk = ?",
                                     (probe_pk,))
    finally:
        batches.idle = lambda: False
    with batches.step() as conn:
        # Every target, not only those that got probes: an import cut short
        # between two batches left its summaries for this one to redo.
        for (pos,) in conn.execute("SELECT position FROM session_targets WHERE session_pk = ?",
                                   (pk,)).fetchall():
            store._summarize(conn, pk, pos)
    return ImportOutcome(sid, created, added)
