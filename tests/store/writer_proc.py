"""A process that records probes into a store one commit at a time and says so
on stdout after each commit, for the durability tests. Not a test module.

    python -m tests.store.writer_proc DB SESSION_ID COUNT   (COUNT 0: until killed)
"""

from __future__ import annotations

import sys
from pathlib import Path

from infertui.store.recorder import SessionRecorder
from infertui.store.repository import Store
from tests.store.factories import GROQ, full_probe, session


def main() -> int:
    db, session_id, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    store = Store.open(db)
    recorder = SessionRecorder(store)
    s = session(session_id, targets=[GROQ])
    recorder.begin(s)
    print("begun", flush=True)
    i = 0
    while count == 0 or i < count:
        probe = full_probe(GROQ, seq=i, probe_id=f"{session_id}-{i}", count=4000, seed=i)
        recorder.probe_finished(session_id, probe)
        print(probe.probe_id, flush=True)
        i += 1
    recorder.end(s)
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
