"""How the app's memory moves over many runs in one session.

    .venv/bin/python scripts/app_memory.py [--runs 8] [--tracemalloc]

Drives the app with Textual's Pilot (160x45, the built-in simulator at 20x
speed, three targets, repeat 3) and runs the comparison `--runs` times. After
each run it prints the process's resident size (VmRSS), the objects the cyclic
GC tracks, how many sit frozen in its permanent generation, and with
`--tracemalloc` the bytes Python has allocated. Config and data directories
are temporary.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import tempfile
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def measure(runs: int, trace: bool) -> None:
    from infertui.tui.app import create_app

    work = Path(tempfile.mkdtemp(prefix="infertui-memory-"))
    app = create_app(None, work / "results.db", sim_time_scale=0.05, detect_local_servers=False)
    async with app.run_test(size=(160, 45)) as pilot:
        compare = app.compare
        compare.query_one("#repeat").value = "3"
        await pilot.pause()
        print("run  rss_mib  gc_tracked  gc_frozen  traced_mib  gc_threshold")
        for run in range(runs + 1):
            if run:
                await pilot.press("ctrl+r")
                for _ in range(10_000):
                    await pilot.pause(0.05)
                    if not compare.running and compare.session is not None \
                            and compare.session.finished_at is not None:
                        break
                await pilot.pause()
            gc.collect()
            traced = tracemalloc.get_traced_memory()[0] / 2**20 if trace else float("nan")
            print(f"{run:3d}  {rss_mib():7.1f}  {len(gc.get_objects()):10d}  {gc.get_freeze_count():9d}"
                  f"  {traced:10.1f}  {gc.get_threshold()}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--tracemalloc", action="store_true", help="also trace Python allocations (slower)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        os.environ["INFERTUI_CONFIG_DIR"] = str(Path(home) / "config")
        os.environ["INFERTUI_DATA_DIR"] = str(Path(home) / "data")
        if args.tracemalloc:
            tracemalloc.start()
        asyncio.run(measure(args.runs, args.tracemalloc))


if __name__ == "__main__":
    main()
