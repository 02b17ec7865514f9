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

    def max_lag_ms(self, start_ns: int, end_ns: int) -> float | None:
        """Largest lag seen by a wake-up inside [start, end + interval]: a
        wake-up just after the window still covers its last moments."""
        lo = bisect.bisect_left(self._times, start_ns)
        hi = bisect.bisect_right(self._times, end_ns + self.interval_ns)
        if lo >= hi:
            return None
        return max(self._lags[lo:hi]) / 1e6

    def lags_ms(self) -> list[float]:
        return [lag / 1e6 for lag in self._lags]
