import asyncio

from infertui.core.events import ProbeFinished, SessionFinished, SessionStarted
from infertui.core.result import ProbeResult, Status
from infertui.core.session import RunSettings, Session
from infertui.core.targets import Api, ProbeParams, Provider, Target
from infertui.store.background import BackgroundRecorder
from infertui.store.repository import Store

TARGET = Target(Provider("p", Api.OPENAI, "http://x/v1"), "m")


def session() -> Session:
    return Session("01aaaaaaaaaa0000000001", "2026-01-01T00:00:00.000Z", ProbeParams("hi"), [TARGET],
                   RunSettings(repeat=2))


async def test_events_are_saved_from_the_writer_thread(tmp_path):
    db = tmp_path / "r.db"
    recorder = BackgroundRecorder(db)
    s = session()
    sink = recorder.sink(s)
    sink(SessionStarted(s.session_id, (TARGET,), 2))
    for i in range(2):
        sink(ProbeFinished(ProbeResult(f"{s.session_id}.0.{i}", TARGET, seq=i, status=Status.OK)))
    sink(SessionFinished(s.session_id, cancelled=False))
    await recorder.drained()
    recorder.close()
    assert recorder.problems == []
    with Store.open(db) as store:
        loaded = store.load_session(s.session_id)
    assert [p.seq for p in loaded.probes] == [0, 1]


async def test_an_unusable_store_is_reported_once_and_nothing_raises(tmp_path):
    reports = []
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    recorder = BackgroundRecorder(blocker / "r.db", report=lambda title, msg: reports.append(title))
    s = session()
    sink = recorder.sink(s)
    sink(SessionStarted(s.session_id, (TARGET,), 1))
    sink(ProbeFinished(ProbeResult(f"{s.session_id}.0.0", TARGET, status=Status.OK)))
    await asyncio.wait_for(recorder.drained(), 10)
    recorder.close()
    assert reports == ["Results store unavailable"] and len(recorder.problems) == 1
