"""core.stats: the percentiles the session summary and campaigns share, and
the seeded bootstrap intervals."""

from __future__ import annotations

import math
import random
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infertui.core import metrics, stats
from infertui.core.simulator import get_profile, plan_stream


@given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=2, max_size=60))
@settings(max_examples=60, deadline=None)
def test_percentiles_are_the_stdlib_inclusive_quantiles(xs):
    cuts = statistics.quantiles(xs, n=100, method="inclusive")
    for q in (50, 90, 95, 99):
        assert stats.percentile(xs, q) == pytest.approx(cuts[q - 1], rel=1e-9, abs=1e-9)


def test_the_session_summary_uses_the_shared_module():
    assert metrics.percentile is stats.percentile
    assert metrics.Distribution is stats.Distribution


def test_distribution_reports_the_coefficient_of_variation():
    d = stats.Distribution.of([1.0, 2.0, 3.0, None])
    assert d.n == 3 and d.cv == pytest.approx(statistics.stdev([1, 2, 3]) / 2)
    assert stats.Distribution.of([]).cv is None


def test_the_direct_bootstrap_equals_resampling_and_sorting():
    rng = random.Random(3)
    xs = [rng.lognormvariate(5, 0.4) for _ in range(75)]
    fast = stats.bootstrap_percentiles(xs, (50, 95), stats.seeded_rng("x"), resamples=4000)
    slow = {50: [], 95: []}
    brute = random.Random(9)
    for _ in range(4000):
        drawn = sorted(brute.choices(xs, k=len(xs)))
        for q, values in slow.items():
            values.append(stats.percentile_sorted(drawn, q))
    spread = stats.percentile(xs, 75) - stats.percentile(xs, 25)
    for q in (50, 95):
        lo, hi = stats._interval(slow[q], 0.95)
        assert fast[q][0] == pytest.approx(lo, abs=0.05 * spread)
        assert fast[q][1] == pytest.approx(hi, abs=0.05 * spread)


def test_bootstrap_intervals_are_reproducible_from_their_seed():
    xs = [float(x) for x in range(1, 80)]
    a = stats.bootstrap_percentiles(xs, (50, 95), stats.seeded_rng(0, "cell", "t"))
    b = stats.bootstrap_percentiles(xs, (50, 95), stats.seeded_rng(0, "cell", "t"))
    c = stats.bootstrap_percentiles(xs, (50, 95), stats.seeded_rng(1, "cell", "t"))
    assert a == b and a != c
    assert stats.bootstrap_percentiles([1.0], (50,), stats.seeded_rng(0)) == {50: None}


def _simulated_ttfts(profile_name: str, run: int, n: int) -> list[float]:
    """TTFTs as the simulator draws them for `n` requests of one run (the
    true distribution is the profile's lognormal)."""
    profile = get_profile(profile_name).with_overrides({"prefill_ms_per_ktok": 0})
    return [plan_stream(profile, seed=run, provider="sim", model=profile_name, request_number=i,
                        prompt="hi", max_tokens=8).first_delay_s * 1000 for i in range(n)]


def test_the_p50_interval_covers_the_true_median_about_95_percent_of_the_time():
    """400 repeated runs of 75 requests from the `jittery` profile (TTFT
    lognormal, median 300 ms, sigma 0.6). The percentile bootstrap of a median
    is a little narrow at n=75; coverage must fall in 0.90..0.985."""
    truth = 300.0
    runs, covered = 400, 0
    for run in range(runs):
        xs = _simulated_ttfts("jittery", run, 75)
        lo, hi = stats.bootstrap_percentiles(xs, (50,), stats.seeded_rng("coverage", run),
                                             resamples=400)[50]
        covered += lo <= truth <= hi
    assert 0.90 <= covered / runs <= 0.985


def test_the_p95_interval_covers_the_true_p95_most_of_the_time():
    """The same runs for the p95 (truth 300 * e^(0.6 * 1.645)); the percentile
    bootstrap of a tail quantile at n=75 under-covers, so the stated band is
    0.85..0.985."""
    truth = 300.0 * math.exp(0.6 * statistics.NormalDist().inv_cdf(0.95))
    runs, covered = 400, 0
    for run in range(runs):
        xs = _simulated_ttfts("jittery", run, 75)
        lo, hi = stats.bootstrap_percentiles(xs, (95,), stats.seeded_rng("coverage95", run),
                                             resamples=400)[95]
        covered += lo <= truth <= hi
    assert 0.85 <= covered / runs <= 0.985


def test_share_difference_interval_and_binomial_draws():
    rng = stats.seeded_rng("binomial")
    draws = [stats._binomial(rng, 200, 0.03) for _ in range(3000)]
    assert statistics.fmean(draws) == pytest.approx(6.0, rel=0.05)
    assert statistics.pvariance(draws) == pytest.approx(200 * 0.03 * 0.97, rel=0.1)
    assert stats._binomial(rng, 50, 1.0) == 50 and stats._binomial(rng, 50, 0.0) == 0
    lo, hi = stats.bootstrap_share_difference(100, 100, 80, 100, stats.seeded_rng("s"))
    assert 0 < lo < 0.2 < hi
