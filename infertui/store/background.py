"""Saving a run without slowing it: the store is written from its own thread.

Packing and committing a finished probe of a long stream takes milliseconds;
on the event loop that would delay the reads of every probe still streaming,
and so their timings. The runner's sink here only puts events on a queue; a
thread opens its own connection and records through `SessionRecorder` (one
commit per finished probe). A failure is reported once, through `report`, and
never touches the results the caller holds in memory. The headless CLI and
the app both save this way.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from pathlib import Path
from typing import Callable

from infertui.core.events import ProbeFinished, RunEvent, SessionFinished, SessionStarted
from infertui.core.session import Session

Report = Callable[[str, str], None]  # (title, message), called from the writer thread

_STOP = object()


class BackgroundRecorder:
    def __init__(self, store_path: Path | str | None, report: Report | None = None) -> None:
        self.store_path = store_path
        self.report = report
        self.problems: list[str] = []
        self._queue: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._work, name="infertui-store", daemon=True)
        self._thread.start()

    # -- on the event loop --------------------------------------------------------
    def sink(self, session: Session) -> Callable[[RunEvent], None]:
        """The runner's sink for one session: one queue put per event kept."""
        put = self._queue.put_nowait

        def record(event: RunEvent) -> None:
            kind = type(event)
            if kind is ProbeFinished:
                put(("probe", session.session_id, event.result))
            elif kind is SessionStarted:
                put(("begin", session))
            elif kind is SessionFinished:
                put(("end", session, event.cancelled))

        return record

    async def drained(self) -> None:
        """Until everything queued so far is written (or has failed)."""
        await asyncio.to_thread(self._queue.join)

    def wait(self) -> None:
        """The same, for a caller without an event loop."""
        self._queue.join()

    def close(self) -> None:
        self._queue.put(_STOP)

    # -- the writer thread ----------------------------------------------------------
    def _work(self) -> None:
        recorder = None
        failed = False
        while True:
            item = self._queue.get()
            try:
                if item is _STOP:
                    return
                if item[0] == "begin" and failed:  # a new run tries again
                    failed, recorder = False, None
                if failed:
                    continue
                if recorder is None:
                    recorder = self._open()
                    if recorder is None:
                        failed = True
                        continue
                _apply(recorder, item)
            except Exception as exc:  # noqa: BLE001 - any store failure becomes one notice
                failed = True
                self._problem("Not saved", f"could not save the session: {exc}")
            finally:
                self._queue.task_done()

    def _open(self):
        try:
            from infertui.store.recorder import SessionRecorder  # noqa: PLC0415
            from infertui.store.repository import Store  # noqa: PLC0415

            return SessionRecorder(Store.open(self.store_path))
        except Exception as exc:  # noqa: BLE001 - StoreError, OSError
            self._problem("Results store unavailable", f"{exc or type(exc).__name__}")
            return None

    def _problem(self, title: str, message: str) -> None:
        self.problems.append(message)
        if self.report is not None:
            try:
                self.report(title, message)
            except Exception:  # noqa: BLE001 - the app may be closing
                pass


def _apply(recorder, item: tuple) -> None:
    what = item[0]
    if what == "begin":
        recorder.begin(item[1])
    elif what == "probe":
        recorder.probe_finished(item[1], item[2])
    elif what == "end":
        recorder.end(item[1], item[2])
