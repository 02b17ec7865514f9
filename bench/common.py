"""Shared by the benchmarks: machine notes, medians, and writing one section of
BENCHMARKS.md between its markers without touching the others."""

from __future__ import annotations

import os
import platform
import sqlite3
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "BENCHMARKS.md"
HEADER = (
    "# Benchmarks\n\n"
    "Every figure here comes from `bench/run` (or the single script named in its\n"
    "section), on the machine described in that section. Machines are noisy:\n"
    "figures are medians and ratios measured side by side in one run.\n"
)


def machine_notes() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}")


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def write_section(name: str, body: str) -> None:
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = BENCHMARKS.read_text() if BENCHMARKS.exists() else HEADER
    block = f"{start}\n{body.rstrip()}\n{end}"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        _, after = rest.split(end, 1)
        text = before + block + after
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    BENCHMARKS.write_text(text)
    print(f"wrote section {name} of {BENCHMARKS}", file=sys.stderr)
