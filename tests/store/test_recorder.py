"""The recorder persists a run as it happens and loses nothing when a write fails."""

from __future__ import annotations

import socket

import pytest

from infertui.store import db
from infertui.store.errors import StoreError
from infertui.store.recorder import SessionRecorder
from infertui.store.repository import Store
from tests.store.factories import GROQ, full_probe, session


class FlakyStore(Store):
    """A real store whose next N probe writes fail like a locked database."""

    fail_next = 0

    def save_probe(self, session_id, result):
        if self.fail_next:
            self.fail_next -= 1
            raise StoreError(f"{self.path}: could not write: the database stayed locked")
        return super().save_probe(session_id, result)


def test_begin_probes_end(tmp_path):
    with Store.open(tmp_path / "r.db") as store:
        recorder = SessionRecorder(store)
        s = session(targets=[GROQ])
        s.host = None
        recorder.begin(s)
        assert s.host == socket.gethostname()
        for i in range(3):
            probe = full_probe(GROQ, seq=i, seed=i)
            s.probes.append(probe)
            recorder.probe_finished(s.session_id, probe)
        recorder.end(s, cancelled=False)
        assert s.finished_at is not None
        assert store.load_session(s.session_id).to_json() == s.to_json()
        assert recorder.saved == 3 and recorder.pending == []


def test_a_failed_write_is_reported_kept_and_retried(tmp_path):
    path = tmp_path / "r.db"
    store = FlakyStore(db.connect(path), path)
    recorder = SessionRecorder(store)
    s = session(targets=[GROQ])
    recorder.begin(s)
    first, second = full_probe(GROQ, seq=0, seed=1), full_probe(GROQ, seq=1, seed=2)
    store.fail_next = 1
    with pytest.raises(StoreError, match="locked"):
        recorder.probe_finished(s.session_id, first)
    assert recorder.pending == [(s.session_id, first)]
    recorder.probe_finished(s.session_id, second)  # saves the waiting one first
    assert recorder.pending == []
    recorder.end(s, cancelled=True)
    loaded = store.load_session(s.session_id)
    assert [p.probe_id for p in loaded.probes] == [first.probe_id, second.probe_id]
    assert store.list_sessions()[0].cancelled is True
    store.close()


def test_a_probe_for_a_session_never_begun_is_refused(tmp_path):
    with Store.open(tmp_path / "r.db") as store:
        recorder = SessionRecorder(store)
        with pytest.raises(StoreError, match="was not begun"):
            recorder.probe_finished("0190", full_probe())
        assert recorder.pending == []

