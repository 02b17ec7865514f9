"""Fires probes concurrently across targets and streams every event to its
consumer as it happens.

Per target: `warmup` probes first (run and marked, excluded from statistics),
then `repeat` measured probes, with at most `concurrency` in flight (a
closed loop of N users). Targets run side by side. Cancel keeps every finished
probe; running ones end `cancelled`; queued ones never start.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from typing import AsyncIterator, Callable, Iterator, Mapping

from infertui.core.clients import ClientPool, preload_http_stack
from infertui.core.clock import Clock, monotonic_ns
from infertui.core.events import (
    ProbeFinished,
    ProbeQueued,
    RunEvent,
    SessionFinished,
    SessionStarted,
)
from infertui.core.loopmon import LoopMonitor
from infertui.core.net import start_receiver
from infertui.core.probe import run_probe
from infertui.core.result import ProbeResult
from infertui.core.session import RunSettings, Session, new_session_id, utc_now_iso
from infertui.core.targets import ProbeParams, Target

Sink = Callable[[RunEvent], None]

# Beyond these a run is a typo, not a plan (and 256 streams already load a
# laptop's event loop; see BENCHMARKS.md).
MAX_REPEAT = 1_000_000
MAX_CONCURRENCY = 1024
MAX_WARMUP = 10_000


def check_settings(settings: RunSettings) -> None:
    """ValueError with a one-line reason for settings no run can have."""
    s = settings
    if not 1 <= s.repeat <= MAX_REPEAT:
        raise ValueError(f"repeat must be between 1 and {MAX_REPEAT:,}, got {s.repeat:,}")
    if not 1 <= s.concurrency <= MAX_CONCURRENCY:
        raise ValueError(f"concurrency must be between 1 and {MAX_CONCURRENCY:,}, got {s.concurrency:,}")
    if not 0 <= s.warmup <= MAX_WARMUP:
        raise ValueError(f"warm-up must be between 0 and {MAX_WARMUP:,}, got {s.warmup:,}")


class Runner:
    def __init__(
        self,
        targets: list[Target],
        params: ProbeParams,
        settings: RunSettings | None = None,
        *,
        clients: ClientPool | None = None,
        clock: Clock = monotonic_ns,
        session_id: str | None = None,
        environ: Mapping[str, str] | None = None,
        monitor_loop: bool = True,
    ) -> None:
        if not targets:
            raise ValueError("no targets")
        self.settings = settings or RunSettings()
        check_settings(self.settings)
        self.session = Session(
            session_id=session_id or new_session_id(),
            started_at=utc_now_iso(),
            params=params,
            targets=list(dict.fromkeys(targets)),
            settings=self.settings,
            host=os.uname().nodename if hasattr(os, "uname") else None,
        )
        self._owns_clients = clients is None
        self.clients = clients or ClientPool(clock=clock)
        self.clock = clock
        self.environ = environ
        self.monitor = LoopMonitor(clock=clock) if monitor_loop else None
        self.sink_errors: list[BaseException] = []
        self._task: asyncio.Task[None] | None = None
        self._cancelled = False
        self._sinks: list[Sink] = []
        self._index: dict[str, int] = {}

    # -- consumers ------------------------------------------------------------
    def _emit(self, event: RunEvent) -> None:
        if isinstance(event, ProbeFinished):
            self.session.probes.append(event.result)
        for sink in self._sinks:
            try:
                sink(event)
            except Exception as exc:  # a consumer's bug never disturbs a probe
                self.sink_errors.append(exc)

    async def run(self, *sinks: Sink) -> Session:
        """Run the whole session; returns it with every finished probe."""
        self._sinks = list(sinks)
        total = len(self.session.targets) * (self.settings.repeat + self.settings.warmup)
        self._emit(SessionStarted(self.session.session_id, tuple(self.session.targets), total))
        # Build every client (TLS contexts, pools) before the first probe, so
        # that work never blocks the loop while another target is streaming.
        preload_http_stack()
        if self.clock is monotonic_ns and any(not t.provider.simulated for t in self.session.targets):
            start_receiver()
        for target in self.session.targets:
            for slot in range(self._limit(target)):
                self.clients.client(target.provider, lane=(target.label, slot))
        if self.monitor is not None:
            self.monitor.start()
        self._task = asyncio.current_task()
        try:
            async with asyncio.TaskGroup() as group:
                for target in self.session.targets:
                    group.create_task(self._run_target(target))
        except asyncio.CancelledError:
            if not self._cancelled:
                raise
            # Our own cancel(): swallow it so the caller gets the session.
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
        finally:
            if self.monitor is not None:
                await self.monitor.stop()
            if self._owns_clients:
                await self.clients.aclose()
            self.session.finished_at = utc_now_iso()
        self._emit(SessionFinished(self.session.session_id, self._cancelled))
        return self.session

    async def events(self) -> AsyncIterator[RunEvent]:
        """The same stream as an async iterator (runs the session itself)."""
        queue: asyncio.Queue[RunEvent | None] = asyncio.Queue()
        task = asyncio.create_task(self.run(queue.put_nowait))
        task.add_done_callback(lambda _t: queue.put_nowait(None))
        try:
            while (event := await queue.get()) is not None:
                yield event
        finally:
            if not task.done():
                self.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def cancel(self) -> None:
        """Stop everything: finished probes are kept, running ones end cancelled."""
        if self._task is not None and not self._task.done() and not self._cancelled:
            self._cancelled = True
            self._task.cancel()

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    # -- scheduling -----------------------------------------------------------
    async def _run_target(self, target: Target) -> None:
        s = self.settings
        limit = self._limit(target)
        counter = itertools.count()
        if s.warmup:
            await self._phase(target, limit, True, s.warmup, counter)
        await self._phase(target, limit, False, s.repeat, counter)

    async def _phase(self, target: Target, limit: int, warmup: bool, count: int,
                     counter: Iterator[int]) -> None:
        """`count` probes through `limit` lanes. Jobs are made as lanes take
        them (a million repeats cost nothing up front); every one of them was
        queued when the phase began, so waiting for a lane is `queue_ms`."""
        queued_at = self.clock()
        jobs = iter(range(count))

        async def worker(slot: int) -> None:
            client = self.clients.client(target.provider, lane=(target.label, slot))
            for _ in jobs:
                seq = next(counter)
                probe_id = self._probe_id(target, seq)
                self._emit(ProbeQueued(probe_id, target, seq, warmup))
                await run_probe(
                    client, target, self.session.params,
                    probe_id=probe_id, seq=seq, warmup=warmup,
                    nonce=os.urandom(6).hex() if self.settings.nonce else None,
                    clock=self.clock, emit=self._emit, queued_at_ns=queued_at,
                    monitor=self.monitor, environ=self.environ,
                )

        async with asyncio.TaskGroup() as group:
            for slot in range(min(limit, count)):
                group.create_task(worker(slot))

    def _limit(self, target: Target) -> int:
        return min(self.settings.concurrency, max(1, target.provider.max_concurrency))

    def _probe_id(self, target: Target, seq: int) -> str:
        index = self._index.get(target.label)
        if index is None:
            index = self._index[target.label] = self.session.targets.index(target)
        return f"{self.session.session_id}.{index}.{seq}"


async def run_session(targets: list[Target], params: ProbeParams, settings: RunSettings | None = None,
                      *sinks: Sink, **kwargs) -> Session:
    return await Runner(targets, params, settings, **kwargs).run(*sinks)


__all__ = ["Runner", "run_session", "ProbeResult"]
