"""A process whose files may not grow for a while, as on a full disk: the
writer thread must save every probe once they may again. For test_background;
not a test module.

    python -m tests.store.full_file_proc DB      (prints one JSON line)

RLIMIT_FSIZE makes every write past the limit fail (EFBIG, SIGXFSZ ignored),
for any user, root included, with no file system to fill.
"""

from __future__ import annotations

import json
import resource
import signal
import sys
import time
from pathlib import Path

from infertui.core.events import ProbeFinished, SessionFinished, SessionStarted
from infertui.store.background import BackgroundRecorder
from infertui.store.repository import Store

from tests.store.factories import GROQ, full_probe, session


def until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("timed out")
        time.sleep(0.01)


def main() -> int:
    path = Path(sys.argv[1])
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    reports: list[str] = []
    recorder = BackgroundRecorder(path, report=lambda title, message: reports.append(message))
    s = session("0190full", targets=[GROQ])
    sink = recorder.sink(s)
    sink(SessionStarted(s.session_id, (GROQ,), 6))
    sink(ProbeFinished(full_probe(GROQ, seq=0, probe_id="p0", count=400)))
    recorder.wait()
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    # No file may grow any more: the next commit cannot extend the WAL.
    resource.setrlimit(resource.RLIMIT_FSIZE, (1, hard))
    for i in range(1, 4):
        sink(ProbeFinished(full_probe(GROQ, seq=i, probe_id=f"p{i}", count=400, seed=i)))
    until(lambda: recorder.failing is not None)
    failing = recorder.failing
    for i in range(4, 6):
        sink(ProbeFinished(full_probe(GROQ, seq=i, probe_id=f"p{i}", count=400, seed=i)))
    sink(SessionFinished(s.session_id, cancelled=False))
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))  # room again
    recorder.wait()
    recorder.close()
    with Store.open(path) as store:
        stored = sorted(p.probe_id for p in store.load_session(s.session_id).probes)
    print(json.dumps({"failing": failing, "reports": reports, "problems": recorder.problems,
                      "stored": stored}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
