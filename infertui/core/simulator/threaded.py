"""The loopback simulator server for synchronous callers: its own event loop
in a daemon thread (an SDK in a benchmark, a script)."""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from infertui.core.simulator.server import SimServer
    from infertui.core.simulator.truth import GroundTruthLog


class ThreadedSimServer:
    """A SimServer on its own loop in a daemon thread."""

    def __init__(self, server: SimServer) -> None:
        self.server = server
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def port(self) -> int:
        return self.server.port

    def url_for(self, provider: str) -> str:
        return self.server.url_for(provider)

    @property
    def ground_truth(self) -> GroundTruthLog:
        return self.server.ground_truth

    def start(self) -> ThreadedSimServer:
        self._thread = threading.Thread(target=self._run, name="infertui-sim", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            self._thread.join()
            raise self._error
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            try:
                loop.run_until_complete(self.server.start())
            except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
                self._error = exc
                return
            finally:
                self._ready.set()
            loop.run_forever()
            loop.run_until_complete(self.server.stop())
        finally:
            loop.close()

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()

    def __enter__(self) -> ThreadedSimServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
