"""Campaigns against simulator profiles whose true distributions are known, on
virtual time: every delay the simulator plans is measured exactly, so what
these tests compare is infertui's bookkeeping and statistics with the truth."""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime
from itertools import pairwise
from statistics import NormalDist

import httpx
import pytest

from infertui.core import metrics
from infertui.core.campaign import events as ce
from infertui.core.campaign.document import build
from infertui.core.campaign.spec import ColdStart, Schedule, Slo
from infertui.core.events import ProbeFinished
from infertui.core.result import ErrorKind, Status
from tests.campaign.helpers import STEADY, resolved, run_campaign

Z = {50: 0.0, 95: NormalDist().inv_cdf(0.95), 99: NormalDist().inv_cdf(0.99)}


def lognormal_quantile(median: float, sigma: float, q: int) -> float:
    return median * math.exp(sigma * Z[q])


def row(doc, label):
    return next(r for r in doc["targets"] if r["target"] == label)


def epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def test_reported_percentiles_match_the_profiles_true_distribution():
    # TTFT is lognormal(median 200 ms, sigma 0.3); decoding 15 gaps at exactly
    # 100 tok/s adds exactly 150 ms. 300 measured requests over two levels.
    overrides = {"sim-alpha/fast": {**STEADY, "ttft_ms": 200, "ttft_sigma": 0.3,
                                    "tokens_per_s": 100, "answer_tokens": 16}}
    campaign = resolved(["sim-alpha/fast"], concurrency=(1, 4), requests=150, warmup=2)
    record, _, _ = run_campaign(campaign, overrides)
    doc = build(record)
    target = row(doc, "sim-alpha/fast")
    assert target["n"] == 300 and target["ok"] == 300
    ttft = target["ttft_ms"]
    # Stated tolerances, about 3 standard errors of each sample quantile at n=300.
    for q, tolerance in ((50, 0.06), (95, 0.10), (99, 0.18)):
        truth = lognormal_quantile(200, 0.3, q)
        assert ttft[f"p{q}"] == pytest.approx(truth, rel=tolerance), q
    lo, hi = ttft["ci95"]["p50"]
    assert lo <= 200 <= hi
    assert target["decode_tps"]["p50"] == pytest.approx(100, rel=1e-3)
    # e2e is TTFT + 150 ms for every probe, so each of its percentiles is too.
    for q in ("p50", "p95", "p99"):
        assert target["e2e_ms"][q] == pytest.approx(ttft[q] + 150, abs=0.01)
    assert target["ttft_p99_over_p50"] == pytest.approx(ttft["p99"] / ttft["p50"], abs=1e-3)
    # Warm-ups ran (2 per cell) and are out of every figure.
    warm = [p for r in record.rounds for s in r.sessions for p in s.probes if p.warmup]
    assert len(warm) == 4 and all(p.phase == "warmup" for p in warm)
    cells = {(c["concurrency"]): c for c in doc["cells"]}
    assert set(cells) == {1, 4} and all(c["n"] == 150 for c in cells.values())


def test_the_public_study_profile_at_its_own_settings():
    """Model A: TTFT p50 ~300 ms, 21 tok/s; model B: ~1.2 s, 86 tok/s. 75
    requests per cell at concurrency 1, 5 and 20, max_tokens 64, temperature 0."""
    campaign = resolved(["sim-alpha/study-a", "sim-alpha/study-b"], concurrency=(1, 5, 20),
                        requests=75, max_tokens=64, params={"temperature": 0.0})
    record, _, _ = run_campaign(campaign)
    doc = build(record)
    assert len(doc["cells"]) == 6 and all(c["n"] == 75 and c["ok"] == 75 for c in doc["cells"])
    a, b = row(doc, "sim-alpha/study-a"), row(doc, "sim-alpha/study-b")
    assert a["ttft_ms"]["p50"] == pytest.approx(300, rel=0.10)
    assert b["ttft_ms"]["p50"] == pytest.approx(1200, rel=0.10)
    assert a["decode_tps"]["p50"] == pytest.approx(21, rel=0.05)
    assert b["decode_tps"]["p50"] == pytest.approx(86, rel=0.05)
    # 64 tokens: B answers first although it starts four times later.
    assert b["e2e_ms"]["p50"] < a["e2e_ms"]["p50"]
    # A heavy tail: p99 several times the median, as the study reports.
    assert a["ttft_p99_over_p50"] > 2.5 and b["ttft_p99_over_p50"] > 2.5


def test_cold_start_probes_are_kept_apart_and_show_the_penalty():
    overrides = {"sim-beta/cold-start": {**STEADY, "ttft_ms": 200, "ttft_sigma": 0.1,
                                         "cold_start_ms": 3000, "cold_idle_s": 30}}
    campaign = resolved(["sim-beta/cold-start"], concurrency=(1,), requests=20, warmup=1,
                        cold_start=ColdStart(idle_s=40, probes=3))
    record, _, elapsed = run_campaign(campaign, overrides)
    doc = build(record)
    target = row(doc, "sim-beta/cold-start")
    cold = target["cold_start"]
    assert cold["n"] == 3
    assert cold["warm_ttft_ms_p50"] == pytest.approx(200, rel=0.05)
    assert cold["penalty_ms"] == pytest.approx(3000, rel=0.05)
    # Cold probes never enter the latency figures.
    assert target["n"] == 20 and target["ttft_ms"]["p99"] < 400
    assert elapsed >= 3 * 40  # each cold probe waited for its silence
    kinds = {s.campaign["kind"] for s in record.rounds[0].sessions}
    assert kinds == {"cells", "cold"}


def test_a_chain_total_is_the_sum_of_its_calls():
    # Every call: 100 ms to the first token, then 10 gaps at 50 tok/s: 300 ms.
    exact = {**STEADY, "ttft_ms": 100, "ttft_sigma": 0.0, "tokens_per_s": 50,
             "answer_tokens": 11}
    campaign = resolved(["sim-alpha/fast"], concurrency=(1, 2), requests=12, chain=4)
    record, _, _ = run_campaign(campaign, {"sim-alpha/fast": exact})
    doc = build(record)
    chains = row(doc, "sim-alpha/fast")["chains"]
    assert chains["n"] == 6 and chains["failed"] == 0  # 3 chains per cell
    assert chains["total_ms"]["p50"] == pytest.approx(4 * 300, abs=1.0)
    assert chains["total_ms"]["p95"] == pytest.approx(4 * 300, abs=1.0)
    # One lane sends a chain's calls one after another, in order.
    session = record.rounds[0].session("cells", 2)
    by_chain: dict[int, list] = {}
    for p in session.probes:
        by_chain.setdefault(p.chain, []).append(p)
    for calls in by_chain.values():
        assert [p.chain_pos for p in calls] == [0, 1, 2, 3]
        starts = [epoch(p.sent_at) for p in calls]
        ends = [s + p.end_ns / 1e9 for s, p in zip(starts, calls, strict=True)]
        assert all(nxt >= end - 1e-3 for end, nxt in zip(ends, starts[1:], strict=False))


def test_slo_attainment_and_goodput():
    overrides = {"sim-alpha/fast": {**STEADY, "ttft_ms": 200, "ttft_sigma": 0.5,
                                    "tokens_per_s": 100, "answer_tokens": 8}}
    campaign = resolved(["sim-alpha/fast"], concurrency=(1,), requests=300,
                        slo=Slo(ttft_ms=300))
    record, _, _ = run_campaign(campaign, overrides)
    cell = build(record)["cells"][0]
    truth = NormalDist().cdf(math.log(300 / 200) / 0.5)  # P(TTFT <= 300 ms) = 0.79
    assert cell["slo"]["attainment"] == pytest.approx(truth, abs=0.06)
    probes = [p for p in record.rounds[0].sessions[0].probes if p.phase == "measured"]
    good = sum(1 for p in probes if p.ok and metrics.ttft_ms(p) <= 300)
    assert cell["slo"]["good"] == good
    starts = [epoch(p.sent_at) for p in probes]
    span = max(s + p.end_ns / 1e9 for s, p in zip(starts, probes, strict=True)) - min(starts)
    assert cell["slo"]["goodput_rps"] == pytest.approx(good / span, rel=1e-3)


def test_retry_after_pauses_the_target_and_is_never_latency():
    campaign = resolved(["sim-gamma/rate-limited", "sim-alpha/fast"], concurrency=(3,),
                        requests=40)
    paused = []
    record, _, _ = run_campaign(campaign, sinks=(lambda e: isinstance(e, ce.TargetPaused)
                                                 and paused.append(e),))
    probes = [p for p in record.rounds[0].sessions[0].probes
              if p.target.label == "sim-gamma/rate-limited"]
    limited = [p for p in probes if p.error and p.error.kind is ErrorKind.RATE_LIMITED]
    assert limited and all(p.error.retry_after == 3 for p in limited)
    assert len(paused) == len(limited) and {e.seconds for e in paused} == {3}
    # Nothing was sent to that target while a Retry-After ran (from the 429's
    # answer on; requests already on their way then are not held back).
    for hit in limited:
        answered = epoch(hit.sent_at) + hit.end_ns / 1e9
        early = [p for p in probes if p.sent_at and answered < epoch(p.sent_at)
                 < answered + 3 - 1e-3]
        assert early == [], hit.probe_id
    doc = build(record)
    target = row(doc, "sim-gamma/rate-limited")
    assert target["rate_limited"]["n"] == len(limited)
    assert target["rate_limited"]["waited_s"] >= 3
    waited = [p for p in probes if p.backoff_ns]
    assert waited and all(p.queue_ns < 1_000_000 for p in probes)  # never queue time
    # Never latency either: the profile's TTFT is ~150 ms, its tail near it.
    assert target["ttft_ms"]["p99"] < 300
    # The other target never waited.
    fast = [p for p in record.rounds[0].sessions[0].probes if p.target.label == "sim-alpha/fast"]
    assert not any(p.backoff_ns for p in fast)


def test_targets_run_side_by_side_and_never_queue_behind_each_other():
    campaign = resolved(["sim-alpha/slow-ttft", "sim-beta/fast"], concurrency=(1, 2),
                        requests=10)
    record, _, _ = run_campaign(campaign)
    fast = [p for r in record.rounds for s in r.sessions for p in s.probes
            if p.target.label == "sim-beta/fast"]
    slow = [p for r in record.rounds for s in r.sessions for p in s.probes
            if p.target.label == "sim-alpha/slow-ttft"]
    fast_end = max(epoch(p.sent_at) + p.end_ns / 1e9 for p in fast)
    slow_start = min(epoch(p.sent_at) for p in slow)
    busy = sum((p.pre_send_ns + p.end_ns) / 1e9 for p in fast if p.chain_pos in (None, 0))
    # The fast target's 20 requests took their own time, not the slow one's.
    assert fast_end - slow_start <= busy + 0.05
    assert all(p.queue_ns < 1_000_000 for p in fast + slow)


def test_jobs_are_created_only_when_a_lane_takes_them():
    campaign = resolved(["sim-alpha/fast"], concurrency=(1,), requests=75, max_tokens=4)
    seen = []

    def watch(event):
        if isinstance(event, ProbeFinished):
            cell = ex_ref[0].progress.cells["r0/c1/sim-alpha/fast"]
            seen.append((cell.done, ex_ref[0].progress.in_flight))

    ex_ref = []
    from tests.campaign.helpers import executor
    from tests.campaign.virtual import run_virtual

    async def main(loop):
        ex = executor(loop, campaign)
        ex_ref.append(ex)
        await ex.run(watch)
        return ex

    run_virtual(main)
    from infertui.core.campaign import plan

    jobs = plan.CellJobs(75, 0, None)
    first = jobs.next_batch()
    assert len(first) == 1 and jobs.remaining == 74  # one at a time, not 75 objects
    assert len(seen) == 75 and max(f for _, f in seen) <= 1


def test_resume_after_a_stop_repeats_no_request():
    campaign = resolved(["sim-alpha/fast", "sim-beta/fast"], concurrency=(1, 3), requests=20)
    finished = Counter()

    def stop_when(ex, event):
        if isinstance(event, ProbeFinished):
            finished["n"] += 1
        return finished["n"] == 45

    first, ex1, _ = run_campaign(campaign, stop_when=stop_when)
    assert first.status == "stopped" and ex1.stopped
    before = {p.probe_id: p for r in first.rounds for s in r.sessions for p in s.probes}
    kept = {pid for pid, p in before.items() if p.status is not Status.CANCELLED}
    assert 40 <= len(kept) < 80

    second, _, _ = run_campaign(campaign, record=first)
    assert second.status == "finished"
    probes = [p for r in second.rounds for s in r.sessions for p in s.probes]
    ids = [p.probe_id for p in probes]
    assert len(ids) == len(set(ids))  # no probe id twice
    for pid in kept:  # what finished before is there, unchanged, and was not sent again
        assert any(p is before[pid] for p in probes)
    doc = build(second)
    assert all(c["n"] == 20 for c in doc["cells"]) and len(doc["cells"]) == 4
    finished_measured = [p for p in probes if p.phase == "measured"
                         and p.status is not Status.CANCELLED]
    assert len(finished_measured) == 4 * 20


def test_identical_profiles_are_within_noise_and_different_ones_are_not():
    same = resolved(["sim-alpha/fast", "sim-beta/fast"], concurrency=(1, 5), requests=75,
                    max_tokens=8)
    doc = build(run_campaign(same)[0])
    verdicts = {c["metric"]: c["verdict"] for c in doc["comparisons"]}
    assert set(verdicts) == {"ttft_ms.p50", "ttft_ms.p95", "e2e_ms.p95", "decode_tps.p50",
                             "availability"}
    assert set(verdicts.values()) == {"within noise"}

    differ = resolved(["sim-alpha/fast", "sim-beta/slow-ttft"], concurrency=(1,), requests=75,
                      max_tokens=8, models={"sim-alpha/fast": "m", "sim-beta/slow-ttft": "m"})
    doc = build(run_campaign(differ)[0])
    verdicts = {c["metric"]: c for c in doc["comparisons"]}
    assert verdicts["ttft_ms.p50"]["verdict"] == "A faster"
    assert verdicts["ttft_ms.p95"]["verdict"] == "A faster"
    lo, hi = verdicts["ttft_ms.p50"]["ci95"]
    assert hi < 0 and lo <= verdicts["ttft_ms.p50"]["difference"] <= hi


def test_rankings_per_model_show_a_flip():
    overrides = {"sim-alpha/fast": {"ttft_ms": 100}, "sim-beta/fast": {"ttft_ms": 400},
                 "sim-alpha/slow-ttft": {"ttft_ms": 900, "ttft_sigma": 0.1},
                 "sim-beta/slow-ttft": {"ttft_ms": 300, "ttft_sigma": 0.1}}
    campaign = resolved(["sim-alpha/fast", "sim-beta/fast", "sim-alpha/slow-ttft",
                         "sim-beta/slow-ttft"], concurrency=(1,), requests=20, max_tokens=4)
    doc = build(run_campaign(campaign, overrides)[0])
    ttft = next(r for r in doc["rankings"] if r["metric"] == "ttft_ms.p50")
    assert ttft["ranks"] == {"fast": {"sim-alpha": 1, "sim-beta": 2},
                             "slow-ttft": {"sim-beta": 1, "sim-alpha": 2}}
    assert ttft["flips"] == [{"providers": ["sim-alpha", "sim-beta"],
                              "first_ahead_on": ["fast"], "second_ahead_on": ["slow-ttft"]}]
    # Pairs are compared within a model only.
    assert {(c["a"], c["b"]) for c in doc["comparisons"]} == {
        ("sim-alpha/fast", "sim-beta/fast"), ("sim-alpha/slow-ttft", "sim-beta/slow-ttft")}


class _Outage(httpx.AsyncBaseTransport):
    """The simulator, refusing connections for one provider while `down` says so."""

    def __init__(self, inner, provider: str, down) -> None:
        self.inner, self.provider, self.down = inner, provider, down

    async def handle_async_request(self, request):
        if request.url.host.startswith(self.provider) and self.down():
            raise httpx.ConnectError("connection refused (simulated outage)", request=request)
        return await self.inner.handle_async_request(request)


def test_rounds_on_a_schedule_survive_a_provider_failing_for_hours():
    from infertui.core.campaign.executor import CampaignExecutor
    from infertui.core.clients import ClientPool
    from infertui.core.simulator import SimTransport
    from tests.campaign.virtual import run_virtual

    campaign = resolved(["sim-alpha/fast", "sim-beta/fast"], concurrency=(1,), requests=10,
                        max_tokens=4, schedule=Schedule(every_s=3600, for_s=6 * 3600))

    async def main(loop):
        # sim-beta is down for three hours, over rounds 1 to 4.
        outage = _Outage(SimTransport(clock=loop.clock_ns), "sim-beta",
                         lambda: 1800 <= loop.time() < 4.5 * 3600)
        ex = CampaignExecutor(campaign, clients=ClientPool(lambda _p: outage, clock=loop.clock_ns),
                              clock=loop.clock_ns, wall=loop.wall, monitor_loop=False)
        return await ex.run(), loop.time()

    record, elapsed = run_virtual(main)
    assert record.status == "finished" and len(record.rounds) == 6
    assert elapsed >= 5 * 3600
    doc = build(record)
    starts = [epoch(r["slot_at"]) for r in doc["rounds"]]
    assert [b - a for a, b in pairwise(starts)] == [3600] * 5
    beta = [next(t for t in r["targets"] if t["target"] == "sim-beta/fast")["availability"]
            for r in doc["rounds"]]
    alpha = [next(t for t in r["targets"] if t["target"] == "sim-alpha/fast")["availability"]
             for r in doc["rounds"]]
    assert beta == [1.0, 0.0, 0.0, 0.0, 0.0, 1.0] and alpha == [1.0] * 6
    assert row(doc, "sim-beta/fast")["error_kinds"] == {"connect": 40}
    # Errors never enter latency: sim-beta's TTFT comes from its 20 good requests.
    assert row(doc, "sim-beta/fast")["ttft_ms"]["p50"] is not None
