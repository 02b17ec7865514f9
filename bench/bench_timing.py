"""Is infertui's TTFT exact under load? Measured against a server's truth.

Run: .venv/bin/python bench/bench_timing.py [--burn] [--rounds N] [--levels 1,16,64] [--no-write]

bench/timing_server.py (its own process) writes each stream's first content
event 250 ms after it has read the request, and logs both times on
CLOCK_MONOTONIC. Each client (bench/timing_clients.py, a fresh process per
run) stamps its own send and the first content's arrival on the same clock.
Error = client TTFT - (server's first write - server's read of the request).
A client can only err upward (its send stamp comes before the server reads,
its arrival stamp after the server writes), so a negative error means a
client stamped "sent" after the server already had the request, or stamped
an arrival before it happened: a TTFT below what the server physically did.

Tools run interleaved, in rounds, each level after the other, so the
machine's noise falls on all of them alike. With --burn, one process per core
spins for the whole run (a loaded machine).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine_notes, write_section  # noqa: E402

HERE = Path(__file__).resolve().parent
TOOLS = ("infertui", "lean", "httpx-trace", "openai-sdk")
REQUESTS = {1: 12, 16: 64, 64: 128, 128: 256, 256: 256}


def _has_openai() -> bool:
    try:
        import openai  # noqa: F401
    except ImportError:
        return False
    return True


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    if not xs:
        return float("nan")
    rank = q / 100 * (len(xs) - 1)
    lo = int(rank)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (rank - lo)


def start_server(truth: Path) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen([sys.executable, str(HERE / "timing_server.py"), str(truth)],
                            stdout=subprocess.PIPE, text=True)
    port = int(proc.stdout.readline())
    return proc, port


def start_burners(count: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


def run_client(tool: str, port: int, c: int, n: int) -> dict:
    """One client run; a run that fails is recorded with its last error line
    (and its requests count as unmatched), never the end of the benchmark."""
    try:
        out = subprocess.run([sys.executable, str(HERE / "timing_clients.py"), tool, str(port), str(c),
                              str(n)], capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired:
        return {"tool": tool, "records": [], "cpu_s": 0.0, "failed": "no result within 900 s", "n": n}
    if out.returncode != 0:
        lines = [line for line in out.stderr.strip().splitlines() if line.strip()]
        return {"tool": tool, "records": [], "cpu_s": 0.0, "failed": lines[-1][:200] if lines else "failed",
                "n": n}
    return json.loads(out.stdout)


def read_truth(path: Path) -> dict[str, float]:
    truth = {}
    for line in path.read_text().splitlines():
        rid, read_ns, first_ns = line.split()
        truth[rid] = (int(first_ns) - int(read_ns)) / 1e6
    return truth


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--load", choices=["quiet", "burn", "both"], default="both",
                    help="burn: load every core with a spinning process; both: one table each")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--levels", default="1,16,64,128,256")
    ap.add_argument("--tools", default=",".join(t for t in TOOLS if t != "openai-sdk" or _has_openai()))
    ap.add_argument("--no-write", action="store_true", help="print, do not touch BENCHMARKS.md")
    args = ap.parse_args()
    loads = {"quiet": [False], "burn": [True], "both": [False, True]}[args.load]
    parts = [
        "## Timing: TTFT error against the server's truth",
        "",
        f"Command: `.venv/bin/python bench/bench_timing.py --load {args.load} --rounds {args.rounds} "
        f"--levels {args.levels}` (part of `bench/run`).",
        f"Machine: {machine_notes()}.",
        "",
        "The server (bench/timing_server.py, its own process) writes each stream's first content "
        "event 250 ms after reading the request and logs both times (the write stamped just "
        "before it); error = client TTFT − (server's first write − server's read), in ms. A "
        "correct client's error can only be positive: its send stamp comes before the server "
        "reads, its arrival stamp after the server writes. A server that reads late (its own "
        "loop busy) makes every client's error more positive, never negative. *below truth* "
        "counts TTFTs shorter than what the server did. *lean*: asyncio protocols on raw "
        "sockets, no parsing (the floor for a Python client). *httpx-trace*: infertui's earlier "
        "method (httpx's default transport, sent from the trace callback, arrivals when the "
        "coroutine resumed). *openai-sdk*: the official SDK timed from before `create(...)` to "
        "the first content delta, one warm-up call per lane first (no send stamp: its clock "
        "starts before the request is built). CPU: the client process's CPU time per request, "
        "startup included. Goal (applies to infertui's p99): at most 8 ms or 1.5x the lean "
        "client's worst error in the same run, whichever is larger; no TTFT below truth.",
    ]
    for burn in loads:
        parts += ["", *measure(burn, args)]
    body = "\n".join(parts)
    print(body)
    if not args.no_write:
        write_section("bench_timing", body)


def measure(burn: bool, args: argparse.Namespace) -> list[str]:
    levels = [int(x) for x in args.levels.split(",")]
    tools = args.tools.split(",")
    work = Path(tempfile.mkdtemp(prefix="infertui-timing-"))
    truth_path = work / "truth.txt"
    server, port = start_server(truth_path)
    burners = start_burners(os.cpu_count() or 2) if burn else []
    runs: list[tuple[str, int, dict]] = []
    started = time.time()
    try:
        for rnd in range(args.rounds):
            for c in levels:
                order = tools[rnd % len(tools):] + tools[:rnd % len(tools)]
                for tool in order:
                    doc = run_client(tool, port, c, REQUESTS.get(c, 2 * c))
                    runs.append((tool, c, doc))
                    print(f"{'burn' if burn else 'quiet'} round {rnd + 1} c={c} {tool}: "
                          f"{len(doc['records'])} requests", file=sys.stderr)
    finally:
        for proc in burners:
            proc.kill()
        server.kill()
    elapsed = time.time() - started
    time.sleep(0.2)
    truth = read_truth(truth_path)

    rows = []
    verdicts = []
    failures: list[str] = []
    for c in levels:
        lean_worst = None
        stats = {}
        for tool in tools:
            errors, cpu, n = [], 0.0, 0
            for t, level, doc in runs:
                if t != tool or level != c:
                    continue
                if doc.get("failed"):
                    n += doc["n"]
                    failures.append(f"- c={c} {tool}: a run failed: {doc['failed']}")
                    continue
                cpu += doc["cpu_s"]
                for rec in doc["records"]:
                    n += 1
                    if rec.get("ok") and rec.get("ttft_ms") is not None and rec["id"] in truth:
                        errors.append(rec["ttft_ms"] - truth[rec["id"]])
            stats[tool] = (errors, cpu, n)
            if tool == "lean" and errors:
                lean_worst = max(errors)
        for tool in tools:
            errors, cpu, n = stats[tool]
            below = sum(1 for e in errors if e < 0)
            if not errors:
                rows.append(f"| {c} | {tool} | 0/{n} | — | — | — | — | — | — |")
                continue
            rows.append(f"| {c} | {tool} | {len(errors)}/{n} | {pct(errors, 50):.2f} | {pct(errors, 99):.2f} | "
                        f"{max(errors):.2f} | {min(errors):.2f} | {below} | {1000 * cpu / max(n, 1):.2f} |")
        if "infertui" in stats and lean_worst is not None:
            errors = stats["infertui"][0]
            goal = max(8.0, 1.5 * lean_worst)
            p99 = pct(errors, 99)
            below = sum(1 for e in errors if e < 0)
            verdicts.append(f"- c={c}: infertui p99 {p99:.2f} ms against a goal of {goal:.2f} ms "
                            f"(max of 8 ms and 1.5 x the lean client's worst, {lean_worst:.2f} ms): "
                            f"{'met' if p99 <= goal else 'not met'}; TTFTs below truth: {below}.")

    return [
        f"### {'Every core loaded by a spinning process (one per core) for the whole run' if burn else 'No extra load'}",
        "",
        f"Wall time {elapsed:.0f} s; {args.rounds} rounds, tools interleaved, one fresh process per run.",
        "",
        "| concurrency | client | requests matched | error p50 | p99 | max | min | below truth | CPU ms/request |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *rows,
        "",
        *verdicts,
        *failures,
    ]


if __name__ == "__main__":
    main()
