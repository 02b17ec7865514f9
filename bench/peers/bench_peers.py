"""infertui beside guidellm and aiperf, against the same servers, in one run.

Run: bench/peers/run [--rounds N] [--burn] [--no-write]
(bench/peers/run installs the tools and builds the servers first, then runs
this with their paths in the environment.)

Two servers: the simulator in a process of its own, whose first token
leaves exactly 250 ms after it has read the request and which logs the truth
per request; and llama.cpp's llama-server with the tests' tiny Llama. At 1,
16 and 64 concurrent streams, for each round, each tool runs once, in an
order that rotates from round to round, so none always runs first or last.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path[:0] = [str(HERE), str(HERE.parent), str(ROOT)]

import report  # noqa: E402 - after the sys.path setup above
import tools  # noqa: E402 - after the sys.path setup above
import truth  # noqa: E402 - after the sys.path setup above
from common import machine_notes, write_section  # noqa: E402 - after the sys.path setup above

from tests.e2e import servers, timings  # noqa: E402 - after the sys.path setup above

LEVELS = [(1, 6), (16, 32), (64, 128)]  # (concurrent streams, requests per tool run)
SIM_MAX_TOKENS = 64  # the simulator's answer is 40 tokens whatever is asked
LLAMA_MAX_TOKENS = 32


@dataclass
class Cell:
    """Everything one tool measured at one level on one server, over all rounds."""

    server: str
    concurrency: int
    tool: str
    sent: int = 0
    ok: int = 0
    ttft: list[float] = field(default_factory=list)
    errors: list[float] = field(default_factory=list)  # TTFT - truth, ms
    decode: list[float] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)
    truth_decode: list[float] = field(default_factory=list)
    truth_tokens: list[int] = field(default_factory=list)
    truth_ttft: list[float] = field(default_factory=list)
    truth_prompt: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    unmatched_runs: int = 0
    cpu_s: float = 0.0
    runs: int = 0
    methods: set[str] = field(default_factory=set)
    impossible: int = 0
    # sim only: server's read - the tool's start stamp, ms (same CLOCK_MONOTONIC
    # via the wall offset), and the same error with that wait taken out
    read_wait: list[float] = field(default_factory=list)
    error_after_read: list[float] = field(default_factory=list)
    # sim only: per run, ms from the first to the last start of its first C requests
    first_wave_ms: list[float] = field(default_factory=list)


def start_sim(work: Path) -> tuple[subprocess.Popen, str]:
    port_file = work / "sim.port"
    process = subprocess.Popen([sys.executable, str(HERE / "sim_serve.py"), str(port_file)],
                               stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while not (port_file.exists() and port_file.read_text()):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the simulator did not start")
        time.sleep(0.1)
    return process, f"http://127.0.0.1:{port_file.read_text()}"


def run_tool(name: str, target: tools.Target, concurrency: int, requests: int,
             work: Path) -> tools.Run:
    work.mkdir(parents=True, exist_ok=True)
    if name == "infertui":
        return tools.run_infertui(target, concurrency, requests, work)
    if name == "guidellm":
        return tools.run_guidellm(os.environ["GUIDELLM"], target, concurrency, requests, work)
    return tools.run_aiperf(os.environ["AIPERF"], target, concurrency, requests, work)


def add_records(cell: Cell, run: tools.Run) -> None:
    cell.sent += len(run.records)
    cell.ok += sum(r.ok for r in run.records)
    cell.cpu_s += run.cpu_s
    cell.runs += 1
    for r in run.records:
        if not r.ok:
            cell.failures.append(r.error or "unknown")
            continue
        if r.ttft_ms is not None:
            cell.ttft.append(r.ttft_ms)
        if r.decode_tps is not None:
            cell.decode.append(r.decode_tps)
        if r.output_tokens is not None:
            cell.tokens.append(r.output_tokens)


def measure_sim(cell: Cell, target: tools.Target, name: str, concurrency: int, requests: int,
                work: Path) -> None:
    before = set(truth.sim_ids(target.origin))
    offset = truth.wall_minus_monotonic_s()
    run = run_tool(name, target, concurrency, requests, work)
    new_ids = [i for i in truth.sim_ids(target.origin) if i not in before]
    add_records(cell, run)
    pairs, method, impossible = truth.match_sim(target.origin, [r for r in run.records if r.ok],
                                                new_ids, offset)
    cell.methods.add(method)
    cell.impossible += impossible
    starts = sorted(r.start_s for r in run.records if r.start_s is not None)
    if len(starts) >= concurrency:
        cell.first_wave_ms.append((starts[concurrency - 1] - starts[0]) * 1000)
    for record, t in pairs:
        if record.start_s is not None and record.ttft_ms is not None and method == "server id":
            wait = (t.received_ns / 1e9 + offset - record.start_s) * 1000
            cell.read_wait.append(wait)
            cell.error_after_read.append(record.ttft_ms - t.ttft_ms - wait)
        cell.truth_ttft.append(t.ttft_ms)
        cell.truth_tokens.append(t.output_tokens)
        cell.truth_prompt.append(t.input_tokens)
        if t.decode_tps is not None:
            cell.truth_decode.append(t.decode_tps)
        if record.ttft_ms is not None:
            cell.errors.append(record.ttft_ms - t.ttft_ms)


def measure_llama(cell: Cell, target: tools.Target, server: servers.Server, name: str,
                  concurrency: int, requests: int, work: Path) -> None:
    start = len(server.log())
    run = run_tool(name, target, concurrency, requests, work)
    add_records(cell, run)
    deadline = time.monotonic() + 30
    while len(logged := timings.from_log(server.log()[start:])) < cell_ok_of(run):
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    for t in logged:
        cell.truth_prompt.append(t.prompt_n)
        cell.truth_ttft.append(t.prompt_ms)
        cell.truth_tokens.append(t.predicted_n)
        cell.truth_decode.append(t.predicted_per_second)
    if concurrency == 1:
        # One at a time: the log's order is the send order, as long as every
        # request the log has is one the tool reports as completed.
        sent = sorted((r for r in run.records if r.ok and r.start_s is not None),
                      key=lambda r: r.start_s)
        if len(sent) != len(logged):
            cell.unmatched_runs += 1
            return
        cell.methods.add("send order")
        for record, t in zip(sent, logged, strict=True):
            if record.ttft_ms is not None:
                cell.errors.append(record.ttft_ms - t.prompt_ms)


def cell_ok_of(run: tools.Run) -> int:
    return sum(r.ok for r in run.records)


def burn(cores: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"],
                             stdin=subprocess.DEVNULL, start_new_session=True)
            for _ in range(cores)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--burn", action="store_true", help="load both cores with busy loops")
    parser.add_argument("--servers", default="sim,llama-server")
    parser.add_argument("--levels", default="1,16,64")
    parser.add_argument("--no-write", action="store_true", help="print, write nothing")
    args = parser.parse_args()
    wanted_servers = args.servers.split(",")
    levels = [(c, n) for c, n in LEVELS if str(c) in args.levels.split(",")]
    cells: dict[tuple[str, int, str], Cell] = {}
    t_start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="infertui-peers-") as tmp:
        work = Path(tmp)
        model_dir = work / "model"
        model = servers.make_model(os.environ["MODEL_PYTHON"], model_dir)
        tokenizer = model_dir / "tokenizer"
        sim_process, sim_origin = start_sim(work)
        llama = None
        burners: list[subprocess.Popen] = []
        try:
            if "llama-server" in wanted_servers:
                llama = servers.start_llama_server(os.environ["LLAMA_SERVER"], model, work,
                                                   parallel=64)
            burners = burn(os.cpu_count() or 2) if args.burn else []
            for server_name in wanted_servers:
                if server_name == "sim":
                    target = tools.Target("sim", sim_origin, "fast", tokenizer, SIM_MAX_TOKENS)
                else:
                    target = tools.Target("llama-server", llama.origin, servers.MODEL_NAME,
                                          tokenizer, LLAMA_MAX_TOKENS)
                for concurrency, requests in levels:
                    for round_no in range(args.rounds):
                        order = tools.TOOLS[round_no % 3:] + tools.TOOLS[:round_no % 3]
                        for name in order:
                            key = (server_name, concurrency, name)
                            cell = cells.setdefault(key, Cell(server_name, concurrency, name))
                            run_dir = work / f"{server_name}-c{concurrency}-r{round_no}-{name}"
                            t0 = time.monotonic()
                            if server_name == "sim":
                                measure_sim(cell, target, name, concurrency, requests, run_dir)
                            else:
                                measure_llama(cell, target, llama, name, concurrency, requests,
                                              run_dir)
                            print(f"{server_name} c={concurrency} round {round_no + 1} {name}: "
                                  f"{time.monotonic() - t0:.0f} s", file=sys.stderr)
        finally:
            for p in burners:
                p.kill()
                p.wait()
            if llama is not None:
                llama.stop()
            sim_process.send_signal(signal.SIGTERM)
            sim_process.wait(20)
    minutes = (time.monotonic() - t_start) / 60
    body = report.section(list(cells.values()), rounds=args.rounds, burn=args.burn,
                          minutes=minutes, machine=machine_notes(), levels=levels)
    print(body)
    if not args.no_write:
        write_section("bench_peers", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
