"""One monotonic nanosecond clock for every timestamp infertui takes.

`time.perf_counter_ns` is CLOCK_MONOTONIC on Linux, so a simulator in another
process on the same machine stamps its send times on the same clock, which is
what the TTFT-error benchmark relies on.
"""

from __future__ import annotations

import time
from typing import Callable

Clock = Callable[[], int]

monotonic_ns: Clock = time.perf_counter_ns


class ManualClock:
    """A clock that only moves when told to; for tests."""

    def __init__(self, start_ns: int = 0) -> None:
        self.now_ns = start_ns

    def __call__(self) -> int:
        return self.now_ns

    def advance_ms(self, ms: float) -> None:
        self.now_ns += int(ms * 1_000_000)
