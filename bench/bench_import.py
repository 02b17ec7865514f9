"""Import beside a run: a large export is imported by `infertui import` in
another process while this one saves a probe every 50 ms into the same
database, as a run in the app or `infertui probe` would. Reports how long the
import took and how long each save waited. Writes its section of
BENCHMARKS.md.

    .venv/bin/python bench/bench_import.py [--probes N] [--no-write]

The import commits in batches of at most 0.2 s with a pause between them
(infertui/store/importer.py), so no save should wait much longer than one
batch; a single transaction would make them wait for the whole import.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, machine_notes, median, write_section  # noqa: E402

sys.path.insert(0, str(ROOT))
from infertui.store.jsonsafe import session_json  # noqa: E402
from infertui.store.repository import Store  # noqa: E402
from tests.store.factories import CLAUDE, GROQ, full_probe, session  # noqa: E402

CHUNKS = 4000


def measure(probes: int, work: Path) -> dict:
    big = session("0190bigimport", targets=[GROQ, CLAUDE], probes=[
        full_probe(GROQ if i % 2 else CLAUDE, seq=i, probe_id=f"b{i}", count=CHUNKS, seed=i)
        for i in range(probes)])
    export = work / "export.json"
    export.write_text(session_json(big))
    db = work / "results.db"
    waits: list[float] = []
    with Store.open(db) as store:
        live = session("0190live", targets=[GROQ])
        store.create_session(live)
        started = time.monotonic()
        importing = subprocess.Popen(
            [sys.executable, "-m", "infertui", "--db", str(db), "import", str(export)],
            cwd=ROOT, env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        i = 0
        while importing.poll() is None:
            before = time.monotonic()
            store.save_probe(live.session_id, full_probe(GROQ, seq=i, probe_id=f"l{i}",
                                                         count=200, seed=i))
            waits.append(time.monotonic() - before)
            i += 1
            time.sleep(0.05)
        took = time.monotonic() - started
        _, err = importing.communicate()
        if importing.returncode != 0:
            raise SystemExit(f"import failed: {err.strip()}")
    waits.sort()
    return {"mb": export.stat().st_size / 1e6, "took": took, "saves": len(waits),
            "p50": median(waits) * 1000, "p99": waits[int(0.99 * (len(waits) - 1))] * 1000,
            "max": waits[-1] * 1000}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probes", type=int, default=600)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="infertui-bench-import-") as tmp:
        r = measure(args.probes, Path(tmp))
    body = (
        "## Import beside a run\n\n"
        f"`.venv/bin/python bench/bench_import.py --probes {args.probes}` on {machine_notes()}.\n\n"
        f"An export of one session with {args.probes} probes of {CHUNKS:,} chunks "
        f"({r['mb']:.0f} MB of JSON) imported by `infertui import` in another process, while "
        "this one saves a 200-chunk probe every 50 ms into the same database.\n\n"
        "| import took | saves meanwhile | save wait p50 | p99 | longest |\n"
        "|---|---|---|---|---|\n"
        f"| {r['took']:.1f} s | {r['saves']} | {r['p50']:.0f} ms | {r['p99']:.0f} ms | "
        f"{r['max']:.0f} ms |\n\n"
        "The import commits in batches of at most 0.2 s, pauses 0.11 s between two (longer "
        "than SQLite's longest sleep while it waits for a lock) and checkpoints the WAL "
        "after each, so a save waits one batch at most and never copies the import back.\n")
    print(body)
    if not args.no_write:
        write_section("bench_import", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
