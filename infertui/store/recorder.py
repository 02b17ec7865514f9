"""Persisting a run as it happens: what the headless CLI and the TUI call.

The recorder never owns the results: the caller's Session keeps every probe
in memory whatever happens here. A write that fails raises StoreError (the
caller shows it) and the probe waits in `pending`; the next call, or
`flush()`, tries again, and saving is idempotent, so nothing is stored twice.
"""

from __future__ import annotations

import socket

from infertui.core.result import ProbeResult
from infertui.core.session import Session, utc_now_iso
from infertui.store.errors import StoreError
from infertui.store.repository import Store


class SessionRecorder:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._sessions: dict[str, Session] = {}
        self._begun: set[str] = set()
        self.pending: list[tuple[str, ProbeResult]] = []
        self.saved = 0

    def begin(self, session: Session) -> None:
        """Record the session's start. Fills `session.host` (this machine's
        name) when unset, so merged exports tell machines apart."""
        if session.host is None:
            session.host = socket.gethostname() or None
        self._sessions[session.session_id] = session
        self._create(session.session_id)

    def _create(self, session_id: str) -> None:
        if session_id not in self._begun:
            self.store.create_session(self._sessions[session_id])
            self._begun.add(session_id)

    def probe_finished(self, session_id: str, result: ProbeResult) -> None:
        """Commit one finished probe (and any that failed to save before)."""
        self.pending.append((session_id, result))
        self.flush()

    def flush(self) -> None:
        """Try every pending write again; raises StoreError on the first that fails."""
        while self.pending:
            session_id, result = self.pending[0]
            if session_id not in self._sessions:
                self.pending.pop(0)
                raise StoreError(f"probe {result.probe_id} is for session {session_id}, which "
                                 "was not begun with this recorder")
            self._create(session_id)
            if self.store.save_probe(session_id, result):
                self.saved += 1
            self.pending.pop(0)

    def end(self, session: Session, cancelled: bool = False) -> None:
        """Mark the session finished (or cancelled), after saving what is pending."""
        self._sessions.setdefault(session.session_id, session)
        self.flush()
        self._create(session.session_id)
        if session.finished_at is None:
            session.finished_at = utc_now_iso()
        self.store.finish_session(session.session_id, session.finished_at, cancelled,
                                  notes=session.notes or None)
