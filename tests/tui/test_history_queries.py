"""The history screens' store reads, without an app (HistoryQueries)."""

from __future__ import annotations

from pathlib import Path

import pytest

from infertui.store.errors import StoreError
from infertui.store.repository import Store
from infertui.tui.history_queries import HistoryFilter, HistoryQueries, StoreAccess, describe_error
from tests.tui.test_history_fixtures import fill_store, history_sessions

NEWEST_FIRST = ["0190c1b2c3d4cc11223344", "0190b1b2c3d4bb11223344", "0190a1b2c3d4aa11223344"]


def test_queries_read_a_store_file(tmp_path: Path) -> None:
    db = tmp_path / "results.db"
    fill_store(db, history_sessions())
    queries = HistoryQueries(StoreAccess(path=db))
    assert [r.session_id for r in queries.sessions(HistoryFilter())] == NEWEST_FIRST
    assert [r.session_id for r in queries.sessions(HistoryFilter(text="prime"))] == NEWEST_FIRST[:1]
    assert [r.session_id for r in queries.sessions(HistoryFilter(model="8b"))] == NEWEST_FIRST[1:2]
    assert "sim-alpha/demo-70b" in queries.labels() and "sim-alpha" in queries.labels()
    session = queries.session(NEWEST_FIRST[0])
    assert session.params.prompt == "Name three prime numbers."
    trends = queries.trends(["sim-alpha/demo-70b", "nowhere/none"])
    assert len(trends["sim-alpha/demo-70b"]) == 3 and trends["nowhere/none"] == []


def test_a_missing_session_and_a_missing_store(tmp_path: Path) -> None:
    db = tmp_path / "results.db"
    queries = HistoryQueries(StoreAccess(path=db))
    assert queries.sessions(HistoryFilter()) == []  # no file yet: empty, and none created
    assert not db.exists()
    fill_store(db, history_sessions()[:1])
    with Store.open(db) as store:
        shared = HistoryQueries(StoreAccess(store=store))
        with pytest.raises(StoreError) as missing:
            shared.session("nope")
    assert describe_error(missing.value).startswith("no session 'nope'")
    unavailable = HistoryQueries(StoreAccess(unavailable=True))
    assert unavailable.unavailable
    with pytest.raises(StoreError):
        unavailable.sessions(HistoryFilter())
