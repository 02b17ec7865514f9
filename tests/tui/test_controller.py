"""A comparison run without a screen (RunController), and what a run leaves
behind in the process: GC settings restored, nothing frozen."""

from __future__ import annotations

import gc

import pytest

from infertui.core.clock import ManualClock
from infertui.core.events import ProbeSent
from infertui.core.result import Status
from infertui.core.session import RunSettings
from infertui.core.targets import ProbeParams
from infertui.store.background import BackgroundRecorder
from infertui.store.config import builtin_config
from infertui.store.repository import Store
from infertui.tui.controller import RunController, RunGcPolicy
from infertui.tui.feed import RunFeed
from tests.fakes import Script, ScriptedTransport
from tests.tui.helpers import FAST, SIZE, make_app, wait_run


def sim_targets(*labels: str):
    return builtin_config().resolve_targets(labels)


@pytest.fixture
def restore_gc():
    thresholds = gc.get_threshold()
    yield thresholds
    gc.set_threshold(*thresholds)
    gc.unfreeze()


async def test_a_run_needs_no_screen(tmp_path, restore_gc):
    recorder = BackgroundRecorder(tmp_path / "results.db")
    controller = RunController({}, sim_time_scale=FAST, recorder=recorder)
    session = controller.start(sim_targets("sim-alpha/fast", "sim-beta/fast"),
                               ProbeParams("Why is the sky blue?", max_tokens=16), RunSettings(repeat=2))
    assert controller.running and controller.feed is not None
    outcome = await controller.run()
    assert not controller.running
    assert outcome.session is session and not outcome.cancelled and outcome.problems == []
    assert [p.status for p in session.probes] == [Status.OK] * 4
    feed = controller.feed
    assert len(feed.finished) == 4 and feed.total == 4
    assert all(probe.sent_ns is not None for probe in feed.probes.values())
    await recorder.drained()
    recorder.close()
    with Store.open(tmp_path / "results.db") as store:
        assert len(store.load_session(session.session_id).probes) == 4


async def test_gc_settings_are_back_after_a_run(restore_gc):
    gc.set_threshold(700, 10, 10)
    controller = RunController({}, sim_time_scale=FAST)
    controller.start(sim_targets("sim-alpha/fast"), ProbeParams("hi", max_tokens=8), RunSettings())
    during = []
    controller.feed.__class__ = _Spy  # records the GC state while probes stream
    controller.feed.seen = during
    await controller.run()
    assert during and all(count > 0 for count, _ in during)
    assert all(threshold[0] >= 10_000 for _, threshold in during)
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == (700, 10, 10)


class _Spy(RunFeed):
    seen: list

    def __call__(self, event) -> None:
        if isinstance(event, ProbeSent):
            self.seen.append((gc.get_freeze_count(), gc.get_threshold()))
        super().__call__(event)


async def test_gc_settings_are_back_when_the_run_breaks(restore_gc):
    gc.set_threshold(700, 10, 10)
    controller = RunController({}, sim_time_scale=FAST)
    controller.start(sim_targets("sim-alpha/fast"), ProbeParams("hi", max_tokens=8), RunSettings())

    async def broken(*_sinks):
        raise RuntimeError("a bug")

    controller.runner.run = broken
    with pytest.raises(RuntimeError):
        await controller.run()
    assert not controller.running
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == (700, 10, 10)


def test_gc_policy_enters_once_and_leaves_once(restore_gc):
    gc.set_threshold(700, 10, 10)
    policy = RunGcPolicy(threshold0=5_000)
    policy.enter()
    policy.enter()
    assert policy.active and gc.get_threshold() == (5_000, 10, 10) and gc.get_freeze_count() > 0
    policy.leave()
    policy.leave()
    assert not policy.active and gc.get_threshold() == (700, 10, 10) and gc.get_freeze_count() == 0


async def test_cancel_before_the_run_starts_ends_every_probe_cancelled(restore_gc):
    silent = ScriptedTransport(Script(headers_delay=60.0))
    controller = RunController({}, transport_factory=lambda provider: silent)
    controller.start(sim_targets("sim-alpha/fast", "sim-beta/fast"), ProbeParams("hi"), RunSettings(repeat=2))
    assert controller.cancel()
    outcome = await controller.run()
    assert outcome.cancelled
    assert [p.status for p in outcome.session.probes] == [Status.CANCELLED] * 2
    assert not controller.cancel()  # nothing runs any more


def test_start_refuses_what_cannot_run():
    controller = RunController({})
    with pytest.raises(ValueError):
        controller.start([], ProbeParams("hi"), RunSettings())
    with pytest.raises(ValueError):
        controller.start(sim_targets("sim-alpha/fast"), ProbeParams("hi"), RunSettings(repeat=0))
    assert not controller.running


def test_feed_stamps_when_each_request_went_out():
    clock = ManualClock(1_000)
    (target,) = sim_targets("sim-alpha/fast")
    feed = RunFeed([target], 1, clock=clock)
    clock.advance_ms(5)
    feed(ProbeSent("s.0.0", target, 0, False))
    assert feed.followed(target.label).sent_ns == 1_000 + 5_000_000


async def test_the_app_leaves_nothing_frozen_after_its_runs(tmp_path, restore_gc):
    gc.set_threshold(700, 10, 10)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(2):
            await pilot.press("ctrl+r")
            await wait_run(pilot)
            assert gc.get_freeze_count() == 0
            assert gc.get_threshold() == (700, 10, 10)


async def test_focus_changes_leave_no_footer_keys_behind(tmp_path):
    # Textual's footer rebuilds its keys on every focus change and kept every
    # old one alive (each bound to the footer's `compact`).
    from textual.widgets._footer import FooterKey

    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        gc.collect()
        # Only this app's keys count: other tests' apps may not be collected yet.
        earlier = {id(o) for o in gc.get_objects() if isinstance(o, FooterKey)}
        for _ in range(12):
            await pilot.press("tab")
            await pilot.pause()
        await pilot.pause()
        gc.collect()
        stale = [o for o in gc.get_objects()
                 if isinstance(o, FooterKey) and not o.is_attached and id(o) not in earlier]
        assert stale == []


def test_a_pane_drawn_late_still_counts_from_the_request_sent():
    # In a busy run a pane may first be drawn after its probe's first tokens:
    # its seconds count from when the request went out, not from that frame.
    from infertui.core.events import ProbeChunk
    from infertui.core.result import ChunkKind
    from infertui.tui.frames import PaneDrawer
    from infertui.tui.widgets.pane import ProbePane

    clock = ManualClock(0)
    (target,) = sim_targets("sim-alpha/fast")
    feed = RunFeed([target], 1, clock=clock)
    clock.advance_ms(1000)
    feed(ProbeSent("s.0.0", target, 0, False))
    feed(ProbeChunk("s.0.0", ChunkKind.CONTENT, "Hello", 150_000_000))
    clock.advance_ms(2500)  # the first frame that draws it
    pane = ProbePane(target, clock=clock)
    PaneDrawer({target.label: pane}, feed).draw()
    assert pane.probe_id == "s.0.0" and pane._began_ns == 1_000_000_000
    assert "TTFT 150 ms" in pane.header_text and "2.5 s" in pane.header_text
