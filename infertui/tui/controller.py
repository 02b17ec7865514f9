"""A comparison run, apart from any screen.

`RunController` owns what one run needs: the client pool, the core's
`Runner`, the `RunFeed` the screen draws from, the store's recorder sink and
the process-wide GC settings a run uses. The compare screen drives it (start,
run in a worker, cancel) and only draws; a test drives it with no app at all.

No Textual here.
"""

from __future__ import annotations

import asyncio
import gc
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping

from infertui.core.clients import ClientPool, TransportFactory
from infertui.core.clock import Clock, monotonic_ns
from infertui.core.events import RunEvent
from infertui.core.runner import Runner
from infertui.core.session import RunSettings, Session
from infertui.core.targets import ProbeParams, Target
from infertui.tui.feed import RunFeed

if TYPE_CHECKING:
    from infertui.store.background import BackgroundRecorder

RUN_GC_THRESHOLD0 = 10_000  # allocations between young GC passes during a run (Python's: 700)


class RunGcPolicy:
    """The cyclic GC's settings for the length of a run, and back after it.

    While probes stream, a full GC pass over everything the app has built
    (Textual's widgets and styles, the panes) stalls the loop 100 ms and more,
    and delays reading the bytes being timed; so at the start of a run what
    exists is frozen out of the GC's passes. Young passes run less often:
    Textual's strips (one per drawn line) hold cycles; each young pass promotes
    the ones on screen, which die a frame later as garbage only a full pass
    frees. Rarer young passes find most strips already dead.

    Both are process-wide, so both are undone when the run ends: what was
    frozen goes back to the GC (the panes of a run whose targets changed are
    garbage by then, and stay garbage for good if they stay frozen), and the
    thresholds are the ones found at the start.
    """

    def __init__(self, threshold0: int = RUN_GC_THRESHOLD0) -> None:
        self.threshold0 = threshold0
        self._saved: tuple[int, int, int] | None = None

    @property
    def active(self) -> bool:
        return self._saved is not None

    def enter(self) -> None:
        if self._saved is not None:
            return
        # Garbage first: what is frozen is never collected, and the last run's
        # cycles may still be waiting.
        gc.collect()
        gc.freeze()
        saved = gc.get_threshold()
        self._saved = saved
        gc.set_threshold(max(saved[0], self.threshold0), *saved[1:])

    def leave(self) -> None:
        saved, self._saved = self._saved, None
        if saved is None:
            return
        gc.set_threshold(*saved)
        gc.unfreeze()


@dataclass
class RunOutcome:
    """A run is over: every finished probe, whether it was cancelled, and what
    went wrong on the way that the user should hear about."""

    session: Session
    cancelled: bool
    problems: list[str] = field(default_factory=list)


class RunController:
    """One run at a time: `start` builds it (ValueError for what cannot run),
    `run` runs it to the end, `cancel` stops it (finished probes are kept)."""

    def __init__(self, environ: Mapping[str, str] | None = None, *, clock: Clock = monotonic_ns,
                 transport_factory: TransportFactory | None = None, sim_seed: int = 0,
                 sim_time_scale: float = 1.0, recorder: BackgroundRecorder | None = None,
                 gc_policy: RunGcPolicy | None = None) -> None:
        self.environ = environ
        self.clock = clock
        self.transport_factory = transport_factory
        self.sim_seed = sim_seed
        self.sim_time_scale = sim_time_scale
        self.recorder = recorder
        self.gc_policy = gc_policy or RunGcPolicy()
        self.runner: Runner | None = None
        self.feed: RunFeed | None = None
        self.session: Session | None = None  # the last run, finished or not
        self._recorder_sink: Callable[[RunEvent], None] | None = None
        self._cancel_asked = False

    @property
    def running(self) -> bool:
        """From `start` until `run` has returned."""
        return self.runner is not None

    def start(self, targets: list[Target], params: ProbeParams, settings: RunSettings,
              on_unsaved: Callable[[Any], None] | None = None) -> Session:
        """Build the run (nothing is sent yet); its session, or ValueError.
        `on_unsaved` is called from the store's writer thread when it gives
        up saving probes of this run (what, why, and the rescue file)."""
        if self.runner is not None:
            raise ValueError("a run is in progress")
        pool = ClientPool(self.transport_factory, clock=self.clock, sim_seed=self.sim_seed,
                          sim_time_scale=self.sim_time_scale)
        runner = Runner(targets, params, settings, clients=pool, clock=self.clock, environ=self.environ)
        self.runner = runner
        self._cancel_asked = False
        self.session = runner.session
        self.feed = RunFeed(runner.session.targets, settings.repeat + settings.warmup, clock=self.clock)
        self._recorder_sink = (self.recorder.sink(runner.session, on_unsaved=on_unsaved)
                               if self.recorder is not None else None)
        return runner.session

    async def run(self) -> RunOutcome:
        """Run what `start` built to its end (or its cancel)."""
        runner, feed = self.runner, self.feed
        if runner is None or feed is None:
            raise RuntimeError("start() first")
        sinks = [feed] + ([self._recorder_sink] if self._recorder_sink is not None else [])
        self.gc_policy.enter()
        try:
            if self._cancel_asked:
                session = await self._run_cancelled(runner, sinks)
            else:
                session = await runner.run(*sinks)
        finally:
            try:
                await runner.clients.aclose()
            finally:
                self.gc_policy.leave()
                self.runner = None
                self._recorder_sink = None
        problems = [f"a consumer failed: {exc!r}" for exc in runner.sink_errors]
        return RunOutcome(session, runner.cancelled, problems)

    @staticmethod
    async def _run_cancelled(runner: Runner, sinks: list) -> Session:
        # Cancelled between start and run (the screen waits for its panes
        # before sending): the runner can only be cancelled once it runs, so
        # it is started and stopped at once; every probe ends `cancelled` and
        # the session is saved as such.
        task = asyncio.ensure_future(runner.run(*sinks))
        try:
            while not runner.cancelled and not task.done():
                await asyncio.sleep(0)
                runner.cancel()
            return await task
        except asyncio.CancelledError:
            task.cancel()
            raise

    def cancel(self) -> bool:
        """Stop every probe; finished ones are kept. False when nothing runs."""
        if self.runner is None:
            return False
        self._cancel_asked = True
        self.runner.cancel()
        return True
