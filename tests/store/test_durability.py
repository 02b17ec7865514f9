"""Each finished probe is its own commit: SIGKILL keeps them all and leaves a
sound file; two processes write to one store at the same time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from infertui.store.repository import Store
from tests.store.factories import CLAUDE, full_probe, session

ROOT = Path(__file__).resolve().parents[2]


def start_writer(db: Path, session_id: str, count: int) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tests.store.writer_proc", str(db), session_id,
                             str(count)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=os.environ.copy())


def test_sigkill_keeps_every_committed_probe_and_a_sound_file(tmp_path):
    db = tmp_path / "results.db"
    writer = start_writer(db, "0190dead", 0)
    assert writer.stdout is not None
    assert writer.stdout.readline().strip() == "begun"
    committed = [writer.stdout.readline().strip() for _ in range(12)]
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=30)
    assert writer.returncode == -signal.SIGKILL
    with Store.open(db) as store:
        assert store.integrity_check() == "ok"
        stored = [p.probe_id for p in store.load_session("0190dead").probes]
        assert stored[:len(committed)] == committed
        assert len(stored) - len(committed) in (0, 1)  # one more may commit before its print
        for probe in store.load_session("0190dead").probes:
            assert len(probe.chunks) == 4000
        [row] = store.list_sessions()
        assert row.finished_at is None and row.probe_count == len(stored)


def test_two_processes_and_this_one_write_at_the_same_time(tmp_path):
    db = tmp_path / "results.db"
    with Store.open(db):
        pass  # migrated once, so the writers race on probes, not on the schema
    writers = [start_writer(db, f"0190w{k}", 15) for k in range(2)]
    with Store.open(db) as store:
        s = session("0190main", targets=[CLAUDE])
        store.create_session(s)
        for i in range(15):
            store.save_probe(s.session_id, full_probe(CLAUDE, seq=i, probe_id=f"m{i}", seed=i,
                                                      count=2000))
    for writer in writers:
        out, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
        assert len(out.split()) == 16
    with Store.open(db) as store:
        counts = {r.session_id: r.probe_count for r in store.list_sessions()}
        assert counts == {"0190w0": 15, "0190w1": 15, "0190main": 15}
        assert store.integrity_check() == "ok"


def test_two_connections_in_one_process_do_not_block_each_other_for_long(tmp_path):
    db = tmp_path / "results.db"
    stores = [Store.open(db), Store.open(db)]
    errors: list[BaseException] = []

    def work(store: Store, name: str) -> None:
        try:
            s = session(name, targets=[CLAUDE])
            store.create_session(s)
            for i in range(20):
                store.save_probe(name, full_probe(CLAUDE, probe_id=f"{name}{i}", seed=i))
                store.list_sessions(limit=5)
        except BaseException as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(st, f"0190t{k}")) for k, st in
               enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(r.probe_count for r in stores[0].list_sessions()) == [20, 20]
    for st in stores:
        st.close()
