import asyncio

import pytest

from infertui.core.clients import ClientPool
from infertui.core.events import ProbeChunk, ProbeFinished, ProbeQueued, SessionFinished, SessionStarted
from infertui.core.result import Status
from infertui.core.runner import Runner
from infertui.core.session import RunSettings
from infertui.core.targets import Api, ProbeParams, Provider, Target
from tests.fakes import Script, ScriptedTransport
from tests.layering import import_without_ui

OK_PARTS = [
    (0.02, b'data: {"choices":[{"delta":{"content":"Hi"}}]}\n\n'),
    (0.01, b'data: {"choices":[{"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'),
]


def make(name, script, max_concurrency=16):
    provider = Provider(name, Api.OPENAI, f"http://{name}.test/v1", max_concurrency=max_concurrency)
    return Target(provider, "m"), ScriptedTransport(script)


def pool(*pairs):
    transports = {t.provider.name: tr for t, tr in pairs}
    return ClientPool(lambda p: transports[p.name])


async def test_runs_targets_side_by_side_with_warmups_excluded():
    a = make("a", Script(parts=OK_PARTS))
    b = make("b", Script(status=500, parts=[(0, b'{"error":{"message":"boom"}}')]))
    events = []
    runner = Runner([a[0], b[0]], ProbeParams("hi"), RunSettings(repeat=3, concurrency=2, warmup=1),
                    clients=pool(a, b))
    session = await runner.run(events.append)
    assert isinstance(events[0], SessionStarted) and events[0].total_probes == 8
    assert isinstance(events[-1], SessionFinished) and not events[-1].cancelled
    assert len(session.probes) == 8
    assert sum(1 for e in events if isinstance(e, ProbeQueued)) == 8
    by_target = {row.target_label: row for row in session.summary()}
    assert by_target["a/m"].ok == 3 and by_target["a/m"].n == 3
    assert by_target["b/m"].errors == 3 and by_target["b/m"].error_kinds == {"server_error": 3}
    warm = [p for p in session.probes if p.warmup]
    assert len(warm) == 2 and all(p.seq == 0 for p in warm)
    # Warm-ups finish before any measured probe of the same target starts.
    a_order = [p for p in session.probes if p.target.provider.name == "a"]
    assert a_order[0].warmup and not any(p.warmup for p in a_order[1:])
    assert len({p.probe_id for p in session.probes}) == 8


async def test_concurrency_limit_is_respected_and_queue_time_recorded():
    target, transport = make("a", Script(parts=OK_PARTS))
    in_flight = peak = 0
    original = transport.handle_async_request

    async def counting(request):
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            response = await original(request)
            await response.aread()
            return response
        finally:
            in_flight -= 1

    transport.handle_async_request = counting
    session = await Runner([target], ProbeParams("hi"), RunSettings(repeat=6, concurrency=2),
                           clients=pool((target, transport))).run()
    assert peak == 2
    queued = sorted(p.queue_ns for p in session.probes)
    # The last two probes waited for two rounds of ~30 ms each.
    assert queued[-1] >= 50_000_000


async def test_cancel_keeps_finished_and_marks_running_cancelled():
    fast = make("fast", Script(parts=OK_PARTS))
    slow = make("slow", Script(parts=[(0.0, b'data: {"choices":[{"delta":{"content":"x"}}]}\n\n'), (30, b"")]))
    events = []
    runner = Runner([fast[0], slow[0]], ProbeParams("hi"), RunSettings(repeat=1), clients=pool(fast, slow))

    def sink(event):
        events.append(event)
        if isinstance(event, ProbeFinished) and event.result.target.provider.name == "fast":
            asyncio.get_running_loop().call_soon(runner.cancel)

    session = await asyncio.wait_for(runner.run(sink), timeout=5)
    statuses = {p.target.provider.name: p.status for p in session.probes}
    assert statuses == {"fast": Status.OK, "slow": Status.CANCELLED}
    assert isinstance(events[-1], SessionFinished) and events[-1].cancelled
    assert runner.cancelled


async def test_nonce_makes_every_prompt_unique_and_a_bad_sink_harms_nothing():
    target, transport = make("a", Script(parts=OK_PARTS))

    def broken_sink(event):
        if isinstance(event, ProbeChunk):
            raise RuntimeError("consumer bug")

    runner = Runner([target], ProbeParams("hi"), RunSettings(repeat=3, nonce=True), clients=pool((target, transport)))
    session = await runner.run(broken_sink)
    bodies = [r.content.decode() for r in transport.requests]
    assert len(set(bodies)) == 3
    assert all(p.nonce and p.nonce in body for p, body in zip(
        sorted(session.probes, key=lambda p: p.seq), bodies))
    assert all(p.status is Status.OK for p in session.probes)
    assert runner.sink_errors and isinstance(runner.sink_errors[0], RuntimeError)


async def test_events_iterator():
    target, transport = make("a", Script(parts=OK_PARTS))
    runner = Runner([target], ProbeParams("hi"), RunSettings(repeat=2), clients=pool((target, transport)))
    kinds = [type(e).__name__ async for e in runner.events()]
    assert kinds[0] == "SessionStarted" and kinds[-1] == "SessionFinished"
    assert kinds.count("ProbeFinished") == 2


def test_bad_settings_rejected():
    target, _ = make("a", Script())
    with pytest.raises(ValueError):
        Runner([target], ProbeParams("hi"), RunSettings(repeat=0))
    with pytest.raises(ValueError):
        Runner([], ProbeParams("hi"))


def test_core_and_store_never_import_textual_or_rich():
    done = import_without_ui("infertui.core", "infertui.store", "infertui.textsafe")
    assert done.returncode == 0, done.stdout + done.stderr


async def test_a_huge_repeat_creates_nothing_up_front_and_absurd_settings_are_refused():
    """Jobs are made as lanes take them: a run of a million repeats, cancelled
    after a few probes, never built a million of anything."""
    target, transport = make("a", Script(parts=OK_PARTS))
    events = []
    runner = Runner([target], ProbeParams("hi"), RunSettings(repeat=1_000_000, concurrency=2),
                    clients=pool((target, transport)))

    def sink(event):
        events.append(event)
        if sum(1 for e in events if isinstance(e, ProbeFinished)) == 6:
            runner.cancel()

    session = await asyncio.wait_for(runner.run(sink), 30)
    assert runner.cancelled
    assert 6 <= len(session.probes) <= 8
    assert sum(1 for e in events if isinstance(e, ProbeQueued)) <= 8
    for bad in (RunSettings(repeat=10**20), RunSettings(concurrency=0), RunSettings(warmup=-1),
                RunSettings(concurrency=100_000)):
        with pytest.raises(ValueError, match="must be between"):
            Runner([target], ProbeParams("hi"), bad)
