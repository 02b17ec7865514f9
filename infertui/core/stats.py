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
from typing import Any, Callable, Iterable, Sequence

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
    def of(cls, values: Iterable[float | None]) -> "Distribution":
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

def seeded_rng(*key: object) -> random.Random:
    """A generator whose draws depend only on `key` (not on the process, the
    order of calls or PYTHONHASHSEED)."""
    digest = hashlib.sha256(repr(key).encode("utf-8")).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _resample_sorted(rng: random.Random, values: Sequence[float]) -> list[float]:
    drawn = rng.choices(values, k=len(values))
    drawn.sort()
    return drawn


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
    from the same resamples (one sort each). None for fewer than 2 values."""
    if len(values) < 2:
        return {q: None for q in qs}
    estimates: dict[float, list[float]] = {q: [] for q in qs}
    for _ in range(resamples):
        drawn = _resample_sorted(rng, values)
        for q in qs:
            estimates[q].append(percentile_sorted(drawn, q))  # type: ignore[arg-type]
    return {q: _interval(est, level) for q, est in estimates.items()}


Statistic = Callable[[Sequence[float]], float | None]


def bootstrap_difference(a: Sequence[float], b: Sequence[float], statistic: Statistic,
                         rng: random.Random, resamples: int = BOOTSTRAP_RESAMPLES,
                         level: float = 0.95) -> tuple[float, float] | None:
    """Interval of statistic(A) - statistic(B), each sample resampled on its
    own. None when either sample has fewer than 2 values."""
    if len(a) < 2 or len(b) < 2:
        return None
    diffs: list[float] = []
    for _ in range(resamples):
        sa = statistic(_resample_sorted(rng, a))
        sb = statistic(_resample_sorted(rng, b))
        if sa is not None and sb is not None:
            diffs.append(sa - sb)
    if not diffs:
        return None
    return _interval(diffs, level)


def quantile_of_sorted(q: float) -> Statistic:
    return lambda ordered: percentile_sorted(ordered, q)


def mean_of(values: Sequence[float]) -> float | None:
    return statistics.fmean(values) if values else None
