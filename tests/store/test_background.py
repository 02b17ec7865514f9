"""The writer thread saves every probe on its own and loses none to a
failure that passes: a lock held for seconds, writes that fail for a while."""

import asyncio
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from infertui.core.events import ProbeFinished, SessionFinished, SessionStarted
from infertui.core.result import ProbeResult, Status
from infertui.core.session import RunSettings, Session
from infertui.core.targets import Api, ProbeParams, Provider, Target
from infertui.store import db
from infertui.store.background import BackgroundRecorder
from infertui.store.errors import StoreError
from infertui.store.repository import Store

ROOT = Path(__file__).resolve().parents[2]
TARGET = Target(Provider("p", Api.OPENAI, "http://x/v1"), "m")


def session(session_id: str = "01aaaaaaaaaa0000000001") -> Session:
    return Session(session_id, "2026-01-01T00:00:00.000Z", ProbeParams("hi"), [TARGET],
                   RunSettings(repeat=2))


def probe(s: Session, i: int) -> ProbeResult:
    return ProbeResult(f"{s.session_id}.0.{i}", TARGET, seq=i, status=Status.OK)


def until(condition, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def stored_probe_ids(path, session_id: str) -> list[str]:
    with Store.open(path) as store:
        return [p.probe_id for p in store.load_session(session_id).probes]


async def test_events_are_saved_from_the_writer_thread(tmp_path):
    db_path = tmp_path / "r.db"
    recorder = BackgroundRecorder(db_path)
    s = session()
    sink = recorder.sink(s)
    sink(SessionStarted(s.session_id, (TARGET,), 2))
    for i in range(2):
        sink(ProbeFinished(probe(s, i)))
    sink(SessionFinished(s.session_id, cancelled=False))
    await recorder.drained()
    recorder.close()
    assert recorder.problems == [] and recorder.unsaved == []
    with Store.open(db_path) as store:
        loaded = store.load_session(s.session_id)
        assert [p.seq for p in loaded.probes] == [0, 1]
        assert store.list_sessions()[0].finished_at is not None


async def test_a_lock_held_for_seconds_by_another_connection_loses_no_probe(tmp_path,
                                                                            monkeypatch):
    # Each attempt gives up after 0.2 s, so holding the lock a second and more
    # makes several attempts fail in a row, as a 5 s busy timeout would for a
    # lock held longer than that.
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 200)
    path = tmp_path / "r.db"
    Store.open(path).close()
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # what a long import's transaction does
    locked_at = time.monotonic()
    reports: list[str] = []
    recorder = BackgroundRecorder(path, report=lambda title, msg: reports.append(title))
    s = session()
    sink = recorder.sink(s)
    sink(SessionStarted(s.session_id, (TARGET,), 6))
    for i in range(3):
        sink(ProbeFinished(probe(s, i)))
    await asyncio.to_thread(until, lambda: reports, "a failed save")
    for i in range(3, 6):
        sink(ProbeFinished(probe(s, i)))
    sink(SessionFinished(s.session_id, cancelled=False))
    await asyncio.to_thread(until, lambda: time.monotonic() - locked_at > 1.5, "1.5 s")
    blocker.execute("COMMIT")
    blocker.close()
    await asyncio.wait_for(recorder.drained(), 30)
    recorder.close()
    assert stored_probe_ids(path, s.session_id) == [probe(s, i).probe_id for i in range(6)]
    assert reports == ["Not saved yet"]  # told once, while it retried
    assert recorder.problems == [] and recorder.unsaved == []


async def test_writes_that_fail_for_a_few_attempts_lose_no_probe(tmp_path, monkeypatch):
    path = tmp_path / "r.db"
    failures = {"disk": 3, "odd": 2}
    save = Store.save_probe

    def flaky(self, session_id, result):
        if failures["disk"]:  # the whole store: the round stops, later probes wait
            failures["disk"] -= 1
            raise StoreError(f"{self.path}: could not write: the disk is full (0 bytes free)",
                             sqlite_code=sqlite3.SQLITE_FULL)
        if result.seq == 2 and failures["odd"]:  # this probe alone: the others go on
            failures["odd"] -= 1
            raise ValueError("a value this store cannot take")
        return save(self, session_id, result)

    monkeypatch.setattr(Store, "save_probe", flaky)
    recorder = BackgroundRecorder(path)
    s = session()
    sink = recorder.sink(s)
    sink(SessionStarted(s.session_id, (TARGET,), 5))
    for i in range(5):
        sink(ProbeFinished(probe(s, i)))
    sink(SessionFinished(s.session_id, cancelled=False))
    await asyncio.wait_for(recorder.drained(), 30)
    recorder.close()
    assert failures == {"disk": 0, "odd": 0}
    assert recorder.problems == [] and recorder.unsaved == []
    assert sorted(stored_probe_ids(path, s.session_id)) == [probe(s, i).probe_id
                                                            for i in range(5)]


async def test_a_store_that_never_works_gives_up_with_a_rescue_file(tmp_path):
    reports = []
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    recorder = BackgroundRecorder(blocker / "r.db", retry_for=0.3,
                                  rescue_dirs=[blocker / "no", tmp_path / "rescue"],
                                  report=lambda title, msg: reports.append((title, msg)))
    s = session()
    sink = recorder.sink(s)
    sink(SessionStarted(s.session_id, (TARGET,), 2))
    for i in range(2):
        result = probe(s, i)
        s.probes.append(result)
        sink(ProbeFinished(result))
    sink(SessionFinished(s.session_id, cancelled=False))
    await asyncio.wait_for(recorder.drained(), 30)
    recorder.close()
    assert [title for title, _ in reports] == ["Results store unavailable", "Not saved"]
    [unsaved] = recorder.unsaved
    reason = f"could not create {blocker / 'r.db'}: {blocker} is a file, not a directory"
    assert unsaved.reason == reason
    assert [(p.probe_id, p.reason) for p in unsaved.probes] == [
        (probe(s, i).probe_id, reason) for i in range(2)]
    assert unsaved.rescue_path == tmp_path / "rescue" / f"infertui-session-{s.session_id}.json"
    doc = json.loads(unsaved.rescue_path.read_text())
    assert doc["session_id"] == s.session_id and len(doc["probes"]) == 2
    assert reports[1][1] == "\n".join(unsaved.lines())
    assert recorder.problems == [f"2 of 2 probes of session {s.session_id} were not saved: "
                                 f"{reason}"]


@pytest.mark.parametrize("unsaved_hook", [True, False])
async def test_a_session_given_up_is_told_to_its_own_hook(tmp_path, unsaved_hook):
    heard, reports = [], []
    blocker = tmp_path / "file"
    blocker.write_text("x")
    recorder = BackgroundRecorder(blocker / "r.db", retry_for=0, rescue_dirs=[tmp_path],
                                  report=lambda title, msg: reports.append(title))
    s = session()
    sink = recorder.sink(s, on_unsaved=heard.append if unsaved_hook else None)
    sink(SessionStarted(s.session_id, (TARGET,), 1))
    sink(ProbeFinished(probe(s, 0)))
    sink(SessionFinished(s.session_id, cancelled=True))
    await asyncio.wait_for(recorder.drained(), 30)
    recorder.close()
    assert heard == (recorder.unsaved if unsaved_hook else [])
    assert reports == ["Results store unavailable"] + ([] if unsaved_hook else ["Not saved"])


def test_a_disk_full_for_a_while_loses_no_probe(tmp_path):
    """A real failing write: the process may not grow any file (RLIMIT_FSIZE,
    as a full disk refuses) while three probes finish, then may again."""
    path = tmp_path / "r.db"
    done = subprocess.run([sys.executable, "-m", "tests.store.full_file_proc", str(path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)
    assert outcome["failing"] == f"{path}: could not write: disk I/O error (SQLITE_IOERR_WRITE)"
    assert outcome["stored"] == [f"p{i}" for i in range(6)]
    assert outcome["problems"] == [] and len(outcome["reports"]) == 1
