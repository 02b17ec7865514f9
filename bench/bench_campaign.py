"""Does a campaign take the time its simulated latencies imply, and what does
it cost infertui per request?

Run: .venv/bin/python bench/bench_campaign.py [--no-write]

3 targets x 3 concurrency levels (1, 5, 20) x 75 requests, max_tokens 64,
against `infertui sim` in its own process over loopback (time scale 0.25).
The implied time is computed from the simulator's own plans (the same seed,
the same request numbers): each cell replayed as its lanes would run it if
every request took exactly its planned duration (each request to the first
free lane, in order), a target's cells one after another, targets side by
side. The campaign must finish within that plus 10%. infertui's CPU per
request is the benchmark process's CPU time (the simulator runs elsewhere)
over the requests sent.
"""

from __future__ import annotations

import asyncio
import heapq
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, machine_notes, write_section

from infertui.core.campaign.executor import CampaignExecutor
from infertui.core.campaign.spec import CampaignSpec, ResolvedCampaign
from infertui.core.simulator import get_profile, plan_stream
from infertui.core.targets import Api, ProbeParams, Provider, Target

SEED = 11
TIME_SCALE = 0.25  # keeps the run near a minute; all the same to the comparison
MODELS = ("fast", "multi-token", "jittery")
LEVELS = (1, 5, 20)
REQUESTS = 75
MAX_TOKENS = 64
PROMPT = "In three sentences, explain why the sky is blue."
ALLOWED = 1.10


def start_server() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "infertui", "sim", "--port", "0", "--seed",
                             str(SEED), "--time-scale", str(TIME_SCALE)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        found = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
        if found:
            return proc, found[1]
    proc.kill()
    raise SystemExit("the simulator did not start")


def makespan(durations: list[float], lanes: int) -> float:
    """Requests in order, each to the lane that frees up first."""
    free = [0.0] * min(lanes, len(durations))
    heapq.heapify(free)
    for d in durations:
        heapq.heappush(free, heapq.heappop(free) + d)
    return max(free)


def implied_seconds(prompt: str) -> tuple[float, dict[str, float]]:
    per_target = {}
    for model in MODELS:
        profile = get_profile(model)
        number, total = 0, 0.0
        for level in LEVELS:
            durations = []
            for _ in range(REQUESTS):
                plan = plan_stream(profile, seed=SEED, provider="sim-alpha", model=model,
                                   request_number=number, prompt=prompt, max_tokens=MAX_TOKENS,
                                   idle_s=0.0)
                durations.append(plan.duration_s * TIME_SCALE)
                number += 1
            total += makespan(durations, level)
        per_target[model] = total
    return max(per_target.values()), per_target


async def run_campaign(origin: str) -> tuple[float, float, int, object]:
    provider = Provider(name="sim-alpha", api=Api.OPENAI, base_url=f"{origin}/sim-alpha/v1",
                        max_concurrency=64)
    targets = tuple(Target(provider, m) for m in MODELS)
    spec = CampaignSpec(name="bench", targets=tuple(t.label for t in targets), prompt=PROMPT,
                        concurrency=LEVELS, requests=REQUESTS)
    campaign = ResolvedCampaign(spec, targets, {}, (PROMPT,), None,
                                ProbeParams(PROMPT, max_tokens=MAX_TOKENS, temperature=0.0))
    executor = CampaignExecutor(campaign, vantage="bench")
    cpu0, wall0 = time.process_time(), time.perf_counter()
    record = await executor.run()
    return time.perf_counter() - wall0, time.process_time() - cpu0, \
        executor.progress.requests_done, record


def main() -> int:
    write = "--no-write" not in sys.argv[1:]
    proc, origin = start_server()
    try:
        wall, cpu, requests, record = asyncio.run(run_campaign(origin))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    implied, per_target = implied_seconds(PROMPT)
    probes = [p for r in record.rounds for s in r.sessions for p in s.probes]
    errors = sum(1 for p in probes if not p.ok)
    ratio = wall / implied
    cpu_ms = cpu / requests * 1000
    print(f"wall {wall:.2f} s, implied {implied:.2f} s ({ratio:.3f}x), {requests} requests, "
          f"{errors} errors, CPU {cpu_ms:.2f} ms/request", file=sys.stderr)
    body = "\n".join([
        "## Campaign: wall time against the simulated latencies",
        "",
        f"`bench/bench_campaign.py` on {machine_notes()}.",
        "",
        f"3 targets x 3 concurrency levels ({', '.join(map(str, LEVELS))}) x {REQUESTS} requests, "
        f"max_tokens {MAX_TOKENS}, against `infertui sim` in its own process over loopback "
        f"(time scale {TIME_SCALE:g}). Implied time: each cell replayed with every request "
        "taking exactly the simulator's planned duration, a target's cells in a row, targets "
        "side by side.",
        "",
        "| | value |",
        "| --- | --- |",
        f"| requests | {requests} ({errors} errors) |",
        *[f"| implied, {m} | {s:.2f} s |" for m, s in per_target.items()],
        f"| implied (slowest target) | {implied:.2f} s |",
        f"| wall time | {wall:.2f} s |",
        f"| wall / implied | {ratio:.3f} (allowed: {ALLOWED:.2f}) |",
        f"| infertui CPU per request | {cpu_ms:.2f} ms |",
    ])
    if write:
        write_section("campaign", body)
    else:
        print(body)
    return 0 if ratio <= ALLOWED and errors == 0 else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
