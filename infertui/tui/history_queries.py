"""What the history, session and replay screens read from the results store.

`HistoryQueries` is made on the UI thread (`of(app)`) and called from a
thread worker: every method blocks on SQLite and returns plain values, or
raises (StoreError, OSError) for the screen to turn into a message. No
Textual here, so a test reads a store through it without an app.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, TypeVar

from infertui.core.session import Session
from infertui.inputs import parse_since
from infertui.store import paths
from infertui.store.errors import StoreError
from infertui.store.repository import Store
from infertui.store.rows import HistoryPoint, SessionRow

T = TypeVar("T")
LIST_LIMIT = 200


def describe_error(exc: BaseException) -> str:
    """One line for a notification: the store's own words, else the kind and message."""
    if isinstance(exc, (StoreError, OSError, LookupError)):
        return str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    return f"{type(exc).__name__}: {exc}"


def since_is_valid(text: str) -> bool:
    try:
        parse_since(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class HistoryFilter:
    text: str = ""
    target: str = ""
    model: str = ""
    since: str | None = None  # ISO, already parsed

    @property
    def active(self) -> bool:
        return bool(self.text or self.target or self.model or self.since)


def find_rows(store: Store, f: HistoryFilter, limit: int = LIST_LIMIT) -> list[SessionRow]:
    """Newest first. Text search and the other filters combine (all must match)."""
    listed = store.list_sessions(target=f.target or None, model=f.model or None, since=f.since,
                                 limit=None if f.text else limit)
    if not f.text:
        return listed
    keep = {r.session_id for r in listed}
    return [r for r in store.search(f.text, limit=None) if r.session_id in keep][:limit]


def known_labels(store: Store) -> list[str]:
    labels: dict[str, None] = {}
    for row in store.list_sessions(limit=LIST_LIMIT):
        for line in row.targets:
            labels.setdefault(line.label, None)
            labels.setdefault(line.provider, None)
    return list(labels)


class StoreAccess:
    """How a screen reaches the results store from a worker thread.

    Made on the UI thread (`of`): the app's shared store when the app opens
    one (`open_store()`, which notifies the user itself when it cannot), else
    the file at the app's `store_path` (or the default one), opened per call.
    A store file that does not exist yet reads as empty and is not created.
    The store's connection is shared between threads under its own lock."""

    def __init__(self, store: Store | None = None, path: Path | str | None = None, *,
                 unavailable: bool = False) -> None:
        self.store = store
        self.path = path
        self.unavailable = unavailable

    @classmethod
    def of(cls, app: Any) -> StoreAccess:
        opener = getattr(app, "open_store", None)
        if callable(opener):
            store = opener()
            return cls(store=store, unavailable=store is None)
        return cls(path=getattr(app, "store_path", None))

    def call(self, fn: Callable[[Store], T], empty: T) -> T:
        if self.unavailable:
            raise StoreError("the results store could not be opened")
        if self.store is not None:
            return fn(self.store)
        if not paths.db_file(self.path).exists():
            return empty
        with Store.open(self.path) as store:
            return fn(store)


class HistoryQueries:
    """The store reads the history screens make; each blocks (call it from a
    thread worker) and raises StoreError or OSError when the store fails."""

    def __init__(self, access: StoreAccess) -> None:
        self.access = access

    @classmethod
    def of(cls, app: Any) -> HistoryQueries:
        return cls(StoreAccess.of(app))

    @property
    def unavailable(self) -> bool:
        """The app could not open its store (and has told the user why)."""
        return self.access.unavailable

    def sessions(self, f: HistoryFilter) -> list[SessionRow]:
        """Past sessions matching `f`, newest first."""
        return self.access.call(lambda store: find_rows(store, f), [])

    def labels(self) -> list[str]:
        """Targets and providers of recent sessions, for the target filter's suggestions."""
        return self.access.call(known_labels, [])

    def session(self, session_id: str) -> Session:
        """One whole session; LookupError when it is no longer stored."""
        session = self.access.call(lambda store: store.load_session(session_id), None)
        if session is None:
            raise LookupError(f"session {session_id} is no longer in the store")
        return session

    def trends(self, labels: list[str]) -> dict[str, list[HistoryPoint]]:
        """Each target's TTFT p50/p95 in every stored session, oldest first."""
        def history_of(label: str) -> list[HistoryPoint]:
            return self.access.call(lambda store: store.target_history(label), [])

        return {label: history_of(label) for label in labels}


__all__ = ["HistoryFilter", "HistoryQueries", "StoreAccess", "describe_error", "find_rows",
           "known_labels", "since_is_valid"]
