"""Statistics shared by the session summary and campaigns.

Percentiles use linear interpolation between closest ranks (NumPy's default,
'linear'; `statistics.quantiles(method="inclusive")` gives the same numbers):
rank = q/100 * (n - 1). Bootstrap intervals are percentile intervals drawn
from a `random.Random` seeded from a caller's key, so the same data gives the
same interval on any machine.
"""

from __future__ import annotations

import hashlib
import math
import random
import statistics
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

BOOTSTRAP_RESAMPLES = 1000


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks: rank = q/100 * (n-1)."""
    if not values:
        return None
    ordered = sorted(values)
    return percentile_sorted(ordered, q)


def percentile_sorted(ordered: Sequence[float], q: float) -> float | None:
    """`percentile` of values already in ascending order (no copy, no sort)."""
    if not ordered:
        return None
    if len(ordered) == 1:
        return float(ordered[0])
    rank = (q / 100.0) * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    frac = rank - low
    return ordered[low] + (ordered[high] - ordered[low]) * frac


@dataclass(frozen=True)
class Distribution:
    p50: float | None
    p90: float | None
    p95: float | None
    p99: float | None
    mean: float | None
    stdev: float | None
    min: float | None
    max: float | None
    n: int

    @classmethod
    def of(cls, values: Iterable[float | None]) -> Distribution:
        xs = sorted(float(v) for v in values if v is not None)
        if not xs:
            return cls(None, None, None, None, None, None, None, None, 0)
        return cls(
            p50=percentile_sorted(xs, 50),
            p90=percentile_sorted(xs, 90),
            p95=percentile_sorted(xs, 95),
            p99=percentile_sorted(xs, 99),
            mean=statistics.fmean(xs),
            stdev=statistics.stdev(xs) if len(xs) > 1 else 0.0,
            min=xs[0],
            max=xs[-1],
            n=len(xs),
        )

    @property
    def cv(self) -> float | None:
        """Coefficient of variation, stdev / mean."""
        if self.mean is None or self.stdev is None or self.mean == 0:
            return None
        return self.stdev / self.mean

    def to_json(self) -> dict[str, Any]:
        return {
            "p50": self.p50, "p90": self.p90, "p95": self.p95, "p99": self.p99,
            "mean": self.mean, "stdev": self.stdev,
        }


# --- bootstrap ---------------------------------------------------------------------
#
# A bootstrap resample of n values draws n indices uniformly; its sorted
# values are the sample's values at the sorted indices. A percentile of the
# resample needs only the order statistics at two ranks, and the k-th
# smallest of n uniform draws can be drawn directly (a Beta variate, each
# next one conditioned on the previous), which gives exactly the distribution
# drawing and sorting n indices would give, at a cost independent of n.

def seeded_rng(*key: object) -> random.Random:
    """A generator whose draws depend only on `key` (not on the process, the
    order of calls or PYTHONHASHSEED)."""
    digest = hashlib.sha256(repr(key).encode("utf-8")).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _ranks(n: int, q: float) -> tuple[int, int, float]:
    rank = (q / 100.0) * (n - 1)
    low = math.floor(rank)
    return low, min(low + 1, n - 1), rank - low


def _resampled_indices(rng: random.Random, n: int, ranks: list[int]) -> dict[int, int]:
    """For 0-based ranks in ascending order: the index into the sorted sample
    that a sorted bootstrap resample holds at each rank."""
    out: dict[int, int] = {}
    u, taken = 0.0, 0  # the last uniform order statistic drawn, and its 1-based rank
    for rank in ranks:
        k = rank + 1
        u = u + (1.0 - u) * rng.betavariate(k - taken, n - k + 1)
        taken = k
        out[rank] = min(n - 1, int(u * n))
    return out


def _bootstrap_quantiles(rng: random.Random, ordered: Sequence[float], qs: Sequence[float]
                         ) -> list[float]:
    n = len(ordered)
    spots = [_ranks(n, q) for q in qs]
    at = _resampled_indices(rng, n, sorted({r for lo, hi, _ in spots for r in (lo, hi)}))
    out = []
    for lo, hi, frac in spots:
        a = ordered[at[lo]]
        out.append(a + (ordered[at[hi]] - a) * frac)
    return out


def _interval(estimates: list[float], level: float) -> tuple[float, float]:
    estimates.sort()
    tail = (1.0 - level) / 2.0 * 100.0
    low = percentile_sorted(estimates, tail)
    high = percentile_sorted(estimates, 100.0 - tail)
    assert low is not None and high is not None
    return low, high


def bootstrap_percentiles(values: Sequence[float], qs: Sequence[float], rng: random.Random,
                          resamples: int = BOOTSTRAP_RESAMPLES, level: float = 0.95
                          ) -> dict[float, tuple[float, float] | None]:
    """Percentile-bootstrap intervals of several percentiles of one sample,
    from the same resamples. None for fewer than 2 values."""
    if len(values) < 2:
        return dict.fromkeys(qs)
    ordered = sorted(values)
    estimates: list[list[float]] = [[] for _ in qs]
    for _ in range(resamples):
        for bucket, value in zip(estimates, _bootstrap_quantiles(rng, ordered, qs), strict=True):
            bucket.append(value)
    return {q: _interval(est, level) for q, est in zip(qs, estimates, strict=True)}


def bootstrap_quantile_difference(a: Sequence[float], b: Sequence[float], q: float,
                                  rng: random.Random, resamples: int = BOOTSTRAP_RESAMPLES,
                                  level: float = 0.95) -> tuple[float, float] | None:
    """Interval of percentile_q(A) - percentile_q(B), each sample resampled on
    its own. None when either has fewer than 2 values."""
    if len(a) < 2 or len(b) < 2:
        return None
    sa, sb = sorted(a), sorted(b)
    diffs = [_bootstrap_quantiles(rng, sa, (q,))[0] - _bootstrap_quantiles(rng, sb, (q,))[0]
             for _ in range(resamples)]
    return _interval(diffs, level)


def _binomial(rng: random.Random, n: int, p: float) -> int:
    """A Binomial(n, p) draw: by geometric skips over the rarer outcome, or
    for large expected counts the normal approximation (the bootstrap of a
    share over thousands of requests)."""
    if p <= 0.0 or n == 0:
        return 0
    if p >= 1.0:
        return n
    if p > 0.5:
        return n - _binomial(rng, n, 1.0 - p)
    if n * p > 200:
        draw = round(rng.gauss(n * p, math.sqrt(n * p * (1 - p))))
        return max(0, min(n, draw))
    log_q = math.log1p(-p)
    count, pos = 0, 0
    while True:
        pos += int(math.log(1.0 - rng.random()) / log_q) + 1
        if pos > n:
            return count
        count += 1


def bootstrap_share_difference(ok_a: int, n_a: int, ok_b: int, n_b: int, rng: random.Random,
                               resamples: int = BOOTSTRAP_RESAMPLES, level: float = 0.95
                               ) -> tuple[float, float] | None:
    """Interval of ok_a/n_a - ok_b/n_b (availability), each resampled on its own."""
    if n_a < 2 or n_b < 2:
        return None
    pa, pb = ok_a / n_a, ok_b / n_b
    diffs = [_binomial(rng, n_a, pa) / n_a - _binomial(rng, n_b, pb) / n_b
             for _ in range(resamples)]
    return _interval(diffs, level)
