"""Saving a run without slowing it: the results store is written from a
thread of its own.

A finished probe of a long stream holds thousands of chunks; packing and
committing it takes milliseconds that, on the event loop, would delay the
reads of every probe still streaming (and their timings). The runner's sink
only puts events on a queue; the thread opens its own connection
(`Store.open`), records through `SessionRecorder` (one commit per finished
probe) and reports a failure once, through `report`.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from pathlib import Path
from typing import Callable

from infertui.core.events import ProbeFinished, RunEvent, SessionFinished, SessionStarted
from infertui.core.session import Session

Report = Callable[[str, str], None]  # (title, message), called from the thread

_STOP = object()


class Persister:
    def __init__(self, store_path: Path, report: Report) -> None:
        self.store_path = store_path
        self.report = report
        self.problems: list[str] = []
        self._queue: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._work, name="infertui-store", daemon=True)
        self._thread.start()

    # -- called on the event loop --------------------------------------------------
    def sink(self, session: Session) -> Callable[[RunEvent], None]:
        """The runner's sink for one session: a queue put per event it keeps."""
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
        """Until every event queued so far is written (or failed)."""
        await asyncio.to_thread(self._queue.join)

    def close(self) -> None:
        self._queue.put(_STOP)

    # -- the thread ----------------------------------------------------------------
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
                self._apply(recorder, item)
            except Exception as exc:  # noqa: BLE001 - any store failure becomes one notice
                failed = True
                self._problem("Not saved", f"could not save the session: {exc}\n"
                              "Results stay on screen; export them with ctrl+s.")
            finally:
                self._queue.task_done()

    def _open(self):
        try:
            from infertui.store.recorder import SessionRecorder  # noqa: PLC0415
            from infertui.store.repository import Store  # noqa: PLC0415

            return SessionRecorder(Store.open(self.store_path))
        except Exception as exc:  # noqa: BLE001 - StoreError, OSError
            self._problem("Results store unavailable",
                          f"{exc or type(exc).__name__}\nResults stay on screen but are not saved.")
            return None

    @staticmethod
    def _apply(recorder, item: tuple) -> None:
        what = item[0]
        if what == "begin":
            recorder.begin(item[1])
        elif what == "probe":
            recorder.probe_finished(item[1], item[2])
        elif what == "end":
            recorder.end(item[1], item[2])

    def _problem(self, title: str, message: str) -> None:
        self.problems.append(message)
        try:
            self.report(title, message)
        except Exception:  # noqa: BLE001 - the app may be closing
            pass
