"""Statistics of a campaign's cells and targets, from its probes alone.

Everything here is computed from stored fields (phase, chain, status, the
timings, sent_at), so a live run, `campaign show` from the store and an
import from another machine give the same numbers. Statistics use ok probes
of the measured phase only; errors are counted apart, by kind; warm-ups and
cold-start probes never enter latency figures (cold-start probes have their
own block).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Sequence

from infertui.core import metrics
from infertui.core.campaign.spec import CampaignSpec
from infertui.core.result import ErrorKind, ProbeResult, Status
from infertui.core.stats import Distribution, bootstrap_percentiles, seeded_rng

MEASURED = "measured"
COLD = "cold"
METRICS = (("ttft_ms", metrics.ttft_ms), ("e2e_ms", metrics.e2e_ms),
           ("decode_tps", metrics.decode_tps))


def _round(x: float | None, digits: int = 3) -> float | None:
    return None if x is None else round(x, digits)


def _epoch(iso: str | None) -> float | None:
    if not iso:
        return None
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def measured(probes: Iterable[ProbeResult]) -> list[ProbeResult]:
    """The probes statistics are about: the measured phase, finished."""
    return [p for p in probes if p.phase == MEASURED and p.status is not Status.CANCELLED]


def span_s(probes: Sequence[ProbeResult]) -> float | None:
    """Wall time from the first request sent to the last one ended."""
    starts, ends = [], []
    for p in probes:
        sent = _epoch(p.sent_at)
        if sent is None:
            continue
        starts.append(sent)
        ends.append(sent + (p.end_ns or 0) / 1e9)
    if not starts:
        return None
    return max(ends) - min(starts)


def distribution_json(values: list[float], rng_key: tuple | None) -> dict[str, Any]:
    d = Distribution.of(values)
    out: dict[str, Any] = {k: _round(v) for k, v in d.to_json().items()}
    out["cv"] = _round(d.cv, 4)
    ci: dict[str, Any] = {"p50": None, "p95": None}
    if rng_key is not None and len(values) >= 2:
        found = bootstrap_percentiles(values, (50, 95), seeded_rng(*rng_key))
        ci = {f"p{q}": [_round(lo), _round(hi)] for q, (lo, hi) in
              ((q, v) for q, v in found.items() if v is not None)}
    out["ci95"] = ci
    return out


@dataclass(frozen=True)
class Good:
    """Requests meeting every SLO, among the measured ones."""

    good: int
    n: int


def slo_good(spec: CampaignSpec, probes: Sequence[ProbeResult]) -> Good:
    slo = spec.slo
    assert slo is not None
    good = 0
    for p in probes:
        if p.status is not Status.OK:
            continue
        ttft, e2e = metrics.ttft_ms(p), metrics.e2e_ms(p)
        if slo.ttft_ms is not None and (ttft is None or ttft > slo.ttft_ms):
            continue
        if slo.e2e_ms is not None and (e2e is None or e2e > slo.e2e_ms):
            continue
        good += 1
    return Good(good, len(probes))


def measure(spec: CampaignSpec, probes: Sequence[ProbeResult], rng_key: tuple | None,
            spans: Sequence[float | None] | None = None) -> dict[str, Any]:
    """The fields a cell and a target row share. `probes`: every probe of the
    cell (or the target); `spans`: the wall time of each cell they come from
    (for goodput), default their own span. `rng_key`: seeds the bootstrap;
    None leaves the intervals out."""
    ms = measured(probes)
    ok = [p for p in ms if p.status is Status.OK]
    errors = [p for p in ms if p.status is Status.ERROR]
    kinds: dict[str, int] = {}
    for p in errors:
        if p.error is not None:
            kinds[str(p.error.kind)] = kinds.get(str(p.error.kind), 0) + 1
    limited = sum(1 for p in errors if p.error and p.error.kind is ErrorKind.RATE_LIMITED)
    waited = sum(p.backoff_ns or 0 for p in probes) / 1e9
    out: dict[str, Any] = {
        "n": len(ms), "ok": len(ok), "errors": len(errors), "error_kinds": kinds,
        "cancelled": sum(1 for p in probes if p.phase == MEASURED
                         and p.status is Status.CANCELLED),
        "availability": _round(len(ok) / len(ms), 4) if ms else None,
        "rate_limited": {"n": limited, "waited_s": _round(waited)},
        "stalls": sum(1 for p in ms if p.max_gap_ns is not None
                      and p.max_gap_ns / 1e6 > spec.stall_ms),
    }
    for name, fn in METRICS:
        values = [v for v in (fn(p) for p in ok) if v is not None]
        out[name] = distribution_json(values, None if rng_key is None else (*rng_key, name))
    p50, p95, p99 = (out["ttft_ms"][k] for k in ("p50", "p95", "p99"))
    out["ttft_p95_over_p50"] = _round(p95 / p50, 3) if p50 and p95 is not None else None
    out["ttft_p99_over_p50"] = _round(p99 / p50, 3) if p50 and p99 is not None else None
    if spec.slo is not None:
        good = slo_good(spec, ms)
        total_s = sum(s for s in (spans if spans is not None else [span_s(ms)]) if s)
        out["slo"] = {"ttft_ms": spec.slo.ttft_ms, "e2e_ms": spec.slo.e2e_ms,
                      "good": good.good,
                      "attainment": _round(good.good / good.n, 4) if good.n else None,
                      "goodput_rps": _round(good.good / total_s, 4) if total_s else None}
    costs = [c for c in (metrics.cost_usd(p) for p in ms) if c is not None]
    out["cost_per_ok_usd"] = (sum(costs) / len(ok)) if ok and costs else None
    return out


def cold_start(probes: Sequence[ProbeResult], warm: Sequence[ProbeResult]) -> dict[str, Any]:
    """Cold-start probes against the warm TTFT (ok measured probes of the
    lowest concurrency level)."""
    cold = [p for p in probes if p.phase == COLD and p.status is not Status.CANCELLED]
    cold_ttft = Distribution.of(metrics.ttft_ms(p) for p in cold if p.status is Status.OK)
    warm_ttft = Distribution.of(metrics.ttft_ms(p) for p in warm if p.status is Status.OK)
    penalty = (cold_ttft.p50 - warm_ttft.p50) if cold_ttft.p50 is not None \
        and warm_ttft.p50 is not None else None
    return {"n": len(cold), "ok": sum(1 for p in cold if p.status is Status.OK),
            "ttft_ms_p50": _round(cold_ttft.p50), "warm_ttft_ms_p50": _round(warm_ttft.p50),
            "penalty_ms": _round(penalty)}


def chain_totals(probes: Iterable[tuple[str, ProbeResult]], length: int) -> tuple[list[float], int]:
    """(total ms of each complete chain, chains that failed). A chain is the
    K calls one lane sent back to back (same session, same chain id); its
    total is what each call took from taking its slot to its end: an agent's
    task time. A chain with an error, or cut short by a stop, is not a total."""
    chains: dict[tuple[str, int], list[ProbeResult]] = {}
    for session_id, p in probes:
        if p.chain is not None and p.phase == MEASURED:
            chains.setdefault((session_id, p.chain), []).append(p)
    totals, failed = [], 0
    for calls in chains.values():
        if any(p.status is Status.ERROR for p in calls):
            failed += 1
            continue
        if len(calls) != length or any(p.status is not Status.OK for p in calls):
            continue
        totals.append(sum((p.queue_ns or 0) + (p.pre_send_ns or 0) + (p.end_ns or 0)
                          for p in calls) / 1e6)
    return totals, failed


def chains_json(probes: Iterable[tuple[str, ProbeResult]], length: int) -> dict[str, Any]:
    totals, failed = chain_totals(probes, length)
    d = Distribution.of(totals)
    return {"length": length, "n": len(totals), "failed": failed,
            "total_ms": {"p50": _round(d.p50), "p95": _round(d.p95), "mean": _round(d.mean)}}
