import math
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infertui.core import metrics
from infertui.core.result import Chunk, ChunkKind, ErrorKind, ProbeError, ProbeResult, Status, Usage
from infertui.core.session import probe_from_json, probe_to_json
from infertui.core.targets import Api, Provider, Target

TARGET = Target(Provider("p", Api.OPENAI, "http://x/v1", price_input_per_mtok=1.0, price_output_per_mtok=2.0), "m")
MS = 1_000_000


def result(ttft=100, gaps=(10, 10, 10), reasoning=0, status=Status.OK, usage_out=None, warmup=False, **kw):
    chunks = []
    t = ttft
    for i in range(reasoning):
        chunks.append(Chunk(t * MS, ChunkKind.REASONING, f"r{i} "))
        t += 5
    chunks.append(Chunk(t * MS, ChunkKind.CONTENT, "a"))
    for g in gaps:
        t += g
        chunks.append(Chunk(t * MS, ChunkKind.CONTENT, " b"))
    first_content = next(c.offset_ns for c in chunks if c.kind is ChunkKind.CONTENT)
    first_reasoning = chunks[0].offset_ns if reasoning else None
    return ProbeResult(
        probe_id=kw.pop("probe_id", "x"), target=TARGET, status=status, warmup=warmup,
        headers_ns=50 * MS, first_byte_ns=60 * MS, first_content_ns=first_content,
        first_reasoning_ns=first_reasoning, last_token_ns=chunks[-1].offset_ns, end_ns=chunks[-1].offset_ns + MS,
        chunks=chunks, usage=Usage(input_tokens=10, output_tokens=usage_out), **kw)


def test_percentile_linear_interpolation():
    xs = [1, 2, 3, 4]
    assert metrics.percentile(xs, 50) == 2.5
    assert metrics.percentile(xs, 90) == pytest.approx(3.7)
    assert metrics.percentile([5], 99) == 5
    assert metrics.percentile([], 50) is None
    assert metrics.percentile(list(range(101)), 95) == 95


@given(st.lists(st.floats(min_value=-1e6, max_value=1e6), min_size=1, max_size=50),
       st.floats(min_value=0, max_value=100))
def test_percentile_is_bounded_and_monotonic(xs, q):
    p = metrics.percentile(xs, q)
    assert min(xs) - 1e-6 <= p <= max(xs) + 1e-6
    assert metrics.percentile(xs, min(100, q + 1)) >= p - 1e-6
    assert metrics.percentile(xs, 50) == pytest.approx(statistics.median(xs))


def test_ttft_e2e_and_ttft_any_with_reasoning():
    r = result(ttft=200, reasoning=3)
    assert metrics.ttft_any_ms(r) == 200
    assert metrics.ttft_ms(r) == 215
    assert metrics.ttfb_ms(r) == 50
    assert metrics.e2e_ms(r) == 245


def test_decode_tps_from_usage_and_estimate():
    r = result(ttft=100, gaps=(100, 100), usage_out=21)
    # (21 - 1) tokens over 200 ms.
    assert metrics.decode_tps(r) == pytest.approx(100.0)
    assert metrics.itl_ms(r) == pytest.approx(10.0)
    assert metrics.output_tokens(r) == (21, "usage")
    est = result(ttft=100, gaps=(100, 100))
    count, source = metrics.output_tokens(est)
    assert source == "estimate" and count == 3


def test_summary_excludes_warmups_and_errors_from_statistics():
    ok = [result(ttft=t, probe_id=str(t), usage_out=10) for t in (100, 200, 300)]
    warm = result(ttft=5000, warmup=True, usage_out=10)
    err = ProbeResult("e", TARGET, status=Status.ERROR, error=ProbeError(ErrorKind.RATE_LIMITED, "slow", 429, 2.0))
    cancelled = ProbeResult("c", TARGET, status=Status.CANCELLED)
    (row,) = metrics.summarize(ok + [warm, err, cancelled])
    assert (row.n, row.ok, row.errors, row.cancelled) == (5, 3, 1, 1)
    assert row.error_kinds == {"rate_limited": 1}
    assert row.ttft_ms.p50 == 200 and row.ttft_ms.n == 3
    assert row.availability == pytest.approx(0.75)
    # 10 input tokens at $1/M and 10 output at $2/M per ok probe = $0.00003.
    assert row.cost_per_ok_usd == pytest.approx(3e-5)
    js = row.to_json()
    assert set(js["ttft_ms"]) == {"p50", "p90", "p95", "p99", "mean", "stdev"}


def test_probe_json_round_trip():
    r = result(ttft=123, reasoning=2, usage_out=7, request_id="req-1", sent_at="2026-01-01T00:00:00.000Z")
    r.error = None
    back = probe_from_json(probe_to_json(r))
    assert probe_to_json(back) == probe_to_json(r)
    assert back.text == r.text and back.reasoning_text == r.reasoning_text
    assert [c.offset_ns for c in back.chunks] == [c.offset_ns for c in r.chunks]


def test_estimate_tokens_is_reasonable():
    assert metrics.estimate_tokens("Hello, world!") == 4
    assert metrics.estimate_tokens("") == 0
    assert math.isclose(metrics.estimate_tokens("internationalization"), 5)


def test_hidden_reasoning_is_not_divided_by_the_streamed_span():
    """Gemini counts thoughts it never streams: 150 output tokens of which 120
    hidden, 31 content chunks over 300 ms. Dividing 149 by the span would give
    ~497 tok/s; the streamed 30 tokens give (30 - 1) / 0.3 s."""
    r = result(gaps=(10,) * 30, usage_out=150)
    r.usage.reasoning_tokens = 120
    assert metrics.hidden_reasoning_tokens(r) == 120
    assert metrics.decode_tokens(r) == 30
    assert metrics.decode_tps(r) == pytest.approx(29 / 0.3)
    # Streamed reasoning is part of the span: nothing is taken away.
    streamed = result(gaps=(10,) * 30, reasoning=5, usage_out=150)
    streamed.usage.reasoning_tokens = 120
    assert metrics.decode_tokens(streamed) == 150


def test_a_length_finish_gives_the_exact_count_when_usage_is_missing():
    r = result(gaps=(10,) * 9)
    r.finish_reason, r.max_tokens = "length", 64
    assert metrics.output_tokens(r) == (64, "length")
    r.finish_reason = "stop"
    assert metrics.output_tokens(r)[1] == "estimate"
