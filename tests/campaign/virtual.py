"""A virtual-time event loop for campaign tests.

Time moves only when nothing is ready to run: where the real loop would
block in `select` until its next timer, this one jumps its clock straight to
that timer. Against the in-process simulator (no sockets), every delay the
simulator plans is then measured exactly, a campaign of hours runs in
seconds of CPU, and no result depends on how busy the machine is. Waiting on
a thread (the store's writer) still blocks for real.
"""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, TypeVar

T = TypeVar("T")
EPOCH = 1_750_000_000.0  # the wall clock's value at virtual time 0 (June 2025, UTC)


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        super().__init__()
        self._virtual_now = 0.0
        real_select = self._selector.select

        def select(timeout: float | None = None) -> Any:
            if timeout is None:
                return real_select(None)  # nothing scheduled: only a thread can wake us
            ready = real_select(0)
            if not ready and timeout > 0:
                self._virtual_now += timeout
            return ready

        self._selector.select = select  # type: ignore[method-assign]

    def time(self) -> float:
        return self._virtual_now

    def clock_ns(self) -> int:
        return round(self._virtual_now * 1e9)

    def wall(self) -> float:
        return EPOCH + self._virtual_now


def run_virtual(make: Callable[[VirtualTimeLoop], Awaitable[T]]) -> T:
    """Run `make(loop)` to completion on a fresh virtual-time loop."""
    loop = VirtualTimeLoop()
    try:
        return loop.run_until_complete(make(loop))
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
