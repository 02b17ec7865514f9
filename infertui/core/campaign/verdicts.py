"""Pairwise verdicts between targets of the same model, and rankings per model.

A verdict compares two targets on one metric over all their measured ok
probes: the difference A - B, its bootstrap 95% interval, and words. When the
interval excludes zero, one is faster (or more available); otherwise the
difference is "within noise". Rankings order the providers of each model;
a pair of providers whose order differs between two models is a flip.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any, Mapping, Sequence

from infertui.core import metrics
from infertui.core.campaign.analysis import measured
from infertui.core.result import ProbeResult, Status
from infertui.core.stats import (
    bootstrap_quantile_difference,
    bootstrap_share_difference,
    percentile,
    seeded_rng,
)

# (metric, percentile, lower is better)
QUANTILE_VERDICTS = (("ttft_ms", 50, True), ("ttft_ms", 95, True), ("e2e_ms", 95, True),
                     ("decode_tps", 50, False))
RANKED = (("ttft_ms", 50), ("e2e_ms", 50), ("decode_tps", 50))
_FN = {"ttft_ms": metrics.ttft_ms, "e2e_ms": metrics.e2e_ms, "decode_tps": metrics.decode_tps}


def _r(x: float | None, digits: int = 3) -> float | None:
    return None if x is None else round(x, digits)


def _values(probes: Sequence[ProbeResult], metric: str) -> list[float]:
    fn = _FN[metric]
    return [v for v in (fn(p) for p in probes if p.status is Status.OK) if v is not None]


def verdict_words(interval: tuple[float, float] | None, lower_is_better: bool,
                  better: str = "faster") -> str:
    if interval is None:
        return "not enough data"
    low, high = interval
    if low > 0:  # A - B is surely positive
        return f"B {better}" if lower_is_better else f"A {better}"
    if high < 0:
        return f"A {better}" if lower_is_better else f"B {better}"
    return "within noise"


def compare_pair(a: str, b: str, probes_a: Sequence[ProbeResult], probes_b: Sequence[ProbeResult],
                 model: str, seed: int) -> list[dict[str, Any]]:
    ma, mb = measured(probes_a), measured(probes_b)
    rows = []
    for metric, q, lower in QUANTILE_VERDICTS:
        va, vb = _values(ma, metric), _values(mb, metric)
        pa, pb = percentile(va, q), percentile(vb, q)
        ci = bootstrap_quantile_difference(va, vb, q, seeded_rng(seed, "verdict", a, b, metric, q))
        rows.append({"model": model, "a": a, "b": b, "metric": f"{metric}.p{q}",
                     "a_value": _r(pa), "b_value": _r(pb),
                     "difference": _r(pa - pb) if pa is not None and pb is not None else None,
                     "ci95": [_r(ci[0]), _r(ci[1])] if ci else None,
                     "verdict": verdict_words(ci, lower)})
    oka = sum(1 for p in ma if p.status is Status.OK)
    okb = sum(1 for p in mb if p.status is Status.OK)
    ci = bootstrap_share_difference(oka, len(ma), okb, len(mb),
                                    seeded_rng(seed, "verdict", a, b, "availability"))
    av_a = oka / len(ma) if ma else None
    av_b = okb / len(mb) if mb else None
    rows.append({"model": model, "a": a, "b": b, "metric": "availability",
                 "a_value": _r(av_a, 4), "b_value": _r(av_b, 4),
                 "difference": _r(av_a - av_b, 4) if av_a is not None and av_b is not None else None,
                 "ci95": [_r(ci[0], 4), _r(ci[1], 4)] if ci else None,
                 "verdict": verdict_words(ci, False, "more available")})
    return rows


def comparisons(by_target: Mapping[str, Sequence[ProbeResult]], models: Mapping[str, str],
                seed: int) -> list[dict[str, Any]]:
    """Every pair of targets serving the same model, in target order."""
    out: list[dict[str, Any]] = []
    labels = list(by_target)
    for model in dict.fromkeys(models.get(label, label) for label in labels):
        same = [label for label in labels if models.get(label, label) == model]
        for a, b in combinations(same, 2):
            out += compare_pair(a, b, by_target[a], by_target[b], model, seed)
    return out


def _provider(label: str) -> str:
    return label.split("/", 1)[0]


def rankings(by_target: Mapping[str, Sequence[ProbeResult]], models: Mapping[str, str]
             ) -> list[dict[str, Any]]:
    """One table per ranked metric: models x providers, each cell the
    provider's rank among the model's providers (1 is best) and its value,
    and the flips: pairs of providers ordered one way on one model and the
    other way on another."""
    model_names = list(dict.fromkeys(models.get(label, label) for label in by_target))
    providers = list(dict.fromkeys(_provider(label) for label in by_target))
    tables = []
    for metric, q in RANKED:
        lower = metric != "decode_tps"
        values: dict[str, dict[str, float]] = {}
        for label, probes in by_target.items():
            v = percentile(_values(measured(probes), metric), q)
            if v is not None:
                values.setdefault(models.get(label, label), {})[_provider(label)] = v
        ranks: dict[str, dict[str, int]] = {}
        for model, row in values.items():
            ordered = sorted(row, key=lambda p: row[p] if lower else -row[p])
            ranks[model] = {p: i + 1 for i, p in enumerate(ordered)}
        flips = []
        for p, q2 in combinations(providers, 2):
            orders = {}
            for model in model_names:
                r = ranks.get(model, {})
                if p in r and q2 in r:
                    orders[model] = r[p] < r[q2]
            if len(set(orders.values())) > 1:
                ahead = [m for m, first in orders.items() if first]
                behind = [m for m, first in orders.items() if not first]
                flips.append({"providers": [p, q2], "first_ahead_on": ahead,
                              "second_ahead_on": behind})
        tables.append({"metric": f"{metric}.p{q}", "models": model_names, "providers": providers,
                       "ranks": ranks,
                       "values": {m: {p: _r(v) for p, v in row.items()} for m, row in values.items()},
                       "flips": flips})
    return tables
