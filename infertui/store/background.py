"""Saving a run without slowing it: the store is written from its own thread.

Packing and committing a finished probe of a long stream takes milliseconds;
on the event loop that would delay the reads of every probe still streaming,
and so their timings. The runner's sink here only puts events on a queue; a
thread opens its own connection and commits each finished probe on its own.
The headless CLI and the app both save this way.

A write that fails (the database locked for seconds by a large import, a disk
full for a while) loses nothing: the probe waits in memory and is tried again,
with a growing pause, for as long as its session runs and `retry_for`
seconds after it ends. Only then is it given up: the whole session is written
to a rescue file (see rescue.py) and the user is told which probes of which
session were not saved, why, and how to save them. A failure is never a
reason to stop saving the probes after it.
"""

from __future__ import annotations

import asyncio
import queue
import socket
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from infertui.core.events import ProbeFinished, RunEvent, SessionFinished, SessionStarted
from infertui.core.result import ProbeResult
from infertui.core.session import Session, utc_now_iso
from infertui.store.errors import StoreError
from infertui.store.rescue import UnsavedProbe, UnsavedSession, write_rescue

Report = Callable[[str, str], None]  # (title, message), called from the writer thread
OnUnsaved = Callable[[UnsavedSession], None]  # called from the writer thread

RETRY_FIRST_S = 0.05
RETRY_MAX_S = 2.0
# After a session ends, how long its unsaved probes are still tried.
RETRY_AFTER_END_S = 10.0
# Failures that are the store's, not one probe's: trying the next probe now
# would only wait (or fail) the same way, so the round stops there.
_STORE_WIDE = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_FULL,
                         sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN,
                         sqlite3.SQLITE_PERM, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_CORRUPT,
                         sqlite3.SQLITE_NOTADB})

_STOP = object()


def _message(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _store_wide(exc: BaseException) -> bool:
    return isinstance(exc, OSError) or (isinstance(exc, StoreError)
                                        and exc.sqlite_code in _STORE_WIDE)


@dataclass
class _Run:
    """One session as the writer thread sees it."""

    session: Session
    on_unsaved: OnUnsaved | None = None
    begun: bool = False
    pending: dict[str, ProbeResult] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    finished: int = 0
    ended_at: float | None = None  # time.monotonic() of the end event
    cancelled: bool = False
    end_recorded: bool = False
    reason: str = ""

    def has_work(self) -> bool:
        return (not self.begun or bool(self.pending)
                or (self.ended_at is not None and not self.end_recorded))


class BackgroundRecorder:
    def __init__(self, store_path: Path | str | None, report: Report | None = None, *,
                 retry_for: float | None = None, rescue_dirs: list[Path] | None = None) -> None:
        self.store_path = store_path
        self.report = report
        self.retry_for = RETRY_AFTER_END_S if retry_for is None else retry_for
        self.rescue_dirs = rescue_dirs
        # One line per session given up (or ended without its end recorded).
        self.problems: list[str] = []
        # What was given up, in full: which probes, why, the rescue file.
        self.unsaved: list[UnsavedSession] = []
        self._queue: queue.Queue = queue.Queue()
        self._runs: dict[str, _Run] = {}
        self._store = None
        self._failing = False
        # While saving fails: the last reason (read from other threads).
        self.failing: str | None = None
        self._thread = threading.Thread(target=self._work, name="infertui-store", daemon=True)
        self._thread.start()

    # -- on the event loop --------------------------------------------------------
    def sink(self, session: Session, on_unsaved: OnUnsaved | None = None
             ) -> Callable[[RunEvent], None]:
        """The runner's sink for one session: one queue put per event kept.
        `on_unsaved` (from the writer thread) hears of probes given up instead
        of `report`."""
        put = self._queue.put_nowait

        def record(event: RunEvent) -> None:
            kind = type(event)
            if kind is ProbeFinished:
                put(("probe", session, on_unsaved, event.result))
            elif kind is SessionStarted:
                put(("begin", session, on_unsaved))
            elif kind is SessionFinished:
                put(("end", session, on_unsaved, event.cancelled))

        return record

    async def drained(self) -> None:
        """Until everything queued so far is handled: every probe of an ended
        session saved or given up, the others at least tried once."""
        await asyncio.to_thread(self._queue.join)

    def wait(self) -> None:
        """The same, for a caller without an event loop."""
        self._queue.join()

    def close(self) -> None:
        """Save what can be saved now, give up the rest, stop the thread."""
        self._queue.put(_STOP)

    # -- the writer thread ----------------------------------------------------------
    def _work(self) -> None:
        delay = 0.0
        next_try = 0.0
        while True:
            timeout = None
            if any(run.has_work() for run in self._runs.values()):
                timeout = max(0.0, next_try - time.monotonic())
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                item = None
            if item is _STOP:
                try:
                    self._attempt()
                    for run in list(self._runs.values()):
                        self._give_up(run)
                    self._close_store()
                except Exception as exc:  # noqa: BLE001 - still stop, still say it
                    self._say("Not saved", f"the results store's writer failed: {_message(exc)}")
                finally:
                    self._queue.task_done()
                return
            try:
                if item is not None:
                    try:
                        self._take(item)
                    except Exception:
                        if item[0] == "end":  # never settled: done now, or drained() hangs
                            self._queue.task_done()
                        raise
                if time.monotonic() >= next_try:
                    if self._attempt():
                        delay, next_try = 0.0, 0.0
                    else:
                        delay = min(max(delay * 2, RETRY_FIRST_S), RETRY_MAX_S)
                        next_try = time.monotonic() + delay
                self._settle()
            except Exception as exc:  # noqa: BLE001 - a bug here must not stop saving
                self._say("Not saved", f"the results store's writer failed: {_message(exc)}")
            finally:
                # An end event is done once its session is (see _settle).
                if item is not None and item[0] != "end":
                    self._queue.task_done()

    def _take(self, item: tuple) -> None:
        what, session, on_unsaved = item[0], item[1], item[2]
        run = self._runs.get(session.session_id)
        if run is None:
            if session.host is None:  # merged exports tell machines apart by it
                session.host = socket.gethostname() or None
            run = self._runs[session.session_id] = _Run(session, on_unsaved)
        if what == "probe":
            result: ProbeResult = item[3]
            run.pending[result.probe_id] = result
            run.finished += 1
        elif what == "end":
            run.ended_at = time.monotonic()
            run.cancelled = item[3]

    def _open(self):
        if self._store is None:
            from infertui.store.repository import Store  # noqa: PLC0415

            self._store = Store.open(self.store_path)
        return self._store

    def _close_store(self) -> None:
        store, self._store = self._store, None
        if store is not None:
            try:
                store.close()
            except Exception:  # noqa: BLE001 - a broken connection is dropped anyway
                pass

    def _attempt(self) -> bool:
        """Try every waiting write once, each probe on its own; False when
        any failed. A store-wide failure ends the round."""
        runs = [run for run in self._runs.values() if run.has_work()]
        if not runs:
            return True
        try:
            store = self._open()
        except Exception as exc:  # noqa: BLE001 - StoreError, OSError
            for run in runs:
                run.reason = _message(exc)
            self._streak("Results store unavailable", _message(exc))
            return False
        ok = True
        for run in runs:
            try:
                self._attempt_run(store, run)
            except _StoreWide as wide:
                self._streak("Not saved yet", wide.message)
                if wide.reopen:
                    self._close_store()
                return False
            ok = ok and not run.has_work()
        if ok:
            self._failing = False
            self.failing = None
        else:
            self.failing = next((r.reason for r in runs if r.has_work() and r.reason), None)
        return ok

    def _attempt_run(self, store, run: _Run) -> None:
        sid = run.session.session_id
        if not run.begun:
            if not self._try(run, None, store.create_session, run.session):
                return  # nothing of the session can be written without its record
            run.begun = True
        for probe_id, result in list(run.pending.items()):
            if self._try(run, probe_id, store.save_probe, sid, result):
                del run.pending[probe_id]
                run.errors.pop(probe_id, None)
        if run.ended_at is not None and not run.pending and not run.end_recorded:
            session = run.session
            if session.finished_at is None:
                session.finished_at = utc_now_iso()
            if self._try(run, None, store.finish_session, sid, session.finished_at,
                         run.cancelled, session.notes or None):
                run.end_recorded = True

    def _try(self, run: _Run, probe_id: str | None, write, *args) -> bool:
        """One write; True when done, False when it failed for this probe or
        session alone (the message is kept against it). A failure of the whole
        store raises _StoreWide, which ends the round."""
        try:
            write(*args)
            return True
        except Exception as exc:  # noqa: BLE001 - every failure is kept as its message
            message = _message(exc)
            run.reason = message
            if probe_id is not None:
                run.errors[probe_id] = message
            else:
                for pid in run.pending:
                    run.errors.setdefault(pid, message)
            if _store_wide(exc):
                code = getattr(exc, "sqlite_code", None)
                raise _StoreWide(message, reopen=code not in (sqlite3.SQLITE_BUSY,
                                                              sqlite3.SQLITE_LOCKED)) from None
            return False

    def _settle(self) -> None:
        now = time.monotonic()
        for run in list(self._runs.values()):
            if run.ended_at is None:
                continue
            if not run.has_work():
                del self._runs[run.session.session_id]
                self._queue.task_done()
            elif now - run.ended_at >= self.retry_for:
                self._give_up(run)

    def _give_up(self, run: _Run) -> None:
        """Stop trying this session: say what is lost and keep it in a file."""
        sid = run.session.session_id
        self._runs.pop(sid, None)
        ended = run.ended_at is not None
        try:
            if run.begun and not run.pending:
                if ended and not run.end_recorded:
                    self._say("Session end not saved",
                              f"every probe of session {sid} was saved, but not its end "
                              f"({run.reason}); history shows it unfinished")
                return
            self._report_unsaved(run)
        finally:
            if ended:
                self._queue.task_done()

    def _report_unsaved(self, run: _Run) -> None:
        session = run.session
        waiting = list(run.pending.values())
        unsaved = UnsavedSession(
            session.session_id, run.finished,
            [UnsavedProbe(r.probe_id, r.target.label, r.seq, r.warmup,
                          run.errors.get(r.probe_id) or run.reason) for r in waiting],
            run.reason)
        try:
            unsaved.rescue_path = write_rescue(session, self.rescue_dirs)
        except Exception as exc:  # noqa: BLE001 - OSError, or a session that cannot be written
            unsaved.rescue_error = _message(exc)
        self.unsaved.append(unsaved)
        self.problems.append(unsaved.headline())
        if run.on_unsaved is not None:
            try:
                run.on_unsaved(unsaved)
            except Exception:  # noqa: BLE001 - the app may be closing
                pass
        else:
            self._call_report("Not saved", "\n".join(unsaved.lines()))

    def _streak(self, title: str, message: str) -> None:
        """Tell once when saving starts failing (it is retried meanwhile)."""
        self.failing = message
        if not self._failing:
            self._failing = True
            self._call_report(title, f"{message}\nThe results are kept and saving is tried "
                                     "again.")

    def _say(self, title: str, message: str) -> None:
        self.problems.append(message)
        self._call_report(title, message)

    def _call_report(self, title: str, message: str) -> None:
        if self.report is not None:
            try:
                self.report(title, message)
            except Exception:  # noqa: BLE001 - the app may be closing
                pass


class _StoreWide(Exception):
    def __init__(self, message: str, reopen: bool) -> None:
        super().__init__(message)
        self.message = message
        self.reopen = reopen
