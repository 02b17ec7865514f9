"""Watches infertui's own event loop while probes run.

A timestamp is taken when the loop gets round to the read that delivered the
bytes; if the loop was busy, that is late. The monitor sleeps a short interval
and records how late it woke. A probe whose window saw more lag than the
threshold is flagged `client_saturated`: its timings include infertui's delay.
"""

from __future__ import annotations

import asyncio
import bisect

from infertui.core.clock import Clock, monotonic_ns

SATURATED_LAG_MS = 10.0


class LoopMonitor:
    def __init__(self, interval_ms: float = 5.0, clock: Clock = monotonic_ns) -> None:
        self.interval_ns = int(interval_ms * 1_000_000)
        self.clock = clock
        self._times: list[int] = []
        self._lags: list[int] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._watch(), name="infertui-loop-monitor")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    async def _watch(self) -> None:
        interval_s = self.interval_ns / 1e9
        while True:
            before = self.clock()
            await asyncio.sleep(interval_s)
            after = self.clock()
            self._times.append(after)
            self._lags.append(max(0, after - before - self.interval_ns))

    def lag_at_ms(self, stamps_ns: list[int]) -> float | None:
        """Largest lag that could have delayed any of these timestamps.

        A wake-up at T that was L late means the loop ran other work during
        [T - L - interval, T]; a timestamp taken inside that stretch may be
        up to L late. A stretch with no timestamp in it delayed nothing that
        was measured. None when the monitor saw no wake-up after a stamp."""
        times, lags, interval = self._times, self._lags, self.interval_ns
        worst: int | None = None
        for stamp in stamps_ns:
            i = bisect.bisect_left(times, stamp)
            if i == len(times):
                continue
            lag = lags[i] if times[i] - lags[i] - interval <= stamp else 0
            if worst is None or lag > worst:
                worst = lag
        return None if worst is None else worst / 1e6
