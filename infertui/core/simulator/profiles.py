"""How a simulated model behaves: the distributions its timings and failures
are drawn from, and the named profiles the demo providers are built from.

Times are milliseconds, rates tokens per second, probabilities per request
(`stall_prob` per chunk). Spreads are lognormal sigmas: 0 means every draw is
the median, 0.3 is a modest spread, 1.0 a heavy tail.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, fields
from typing import Any, Mapping


@dataclass(frozen=True)
class SimProfile:
    name: str = "custom"
    description: str = ""

    # Time to first token: lognormal around the median.
    ttft_ms: float = 150.0
    ttft_sigma: float = 0.15
    # Prompt processing on top of it, per 1,000 input tokens.
    prefill_ms_per_ktok: float = 25.0
    # An extra first-token delay when the (provider, model) sat idle longer
    # than `cold_idle_s` (or was never used): a scaled-to-zero replica.
    cold_start_ms: float = 0.0
    cold_idle_s: float = 30.0

    # Decode speed: a per-request rate around the median, then a per-chunk
    # jitter on each gap.
    tokens_per_s: float = 100.0
    rate_sigma: float = 0.05
    gap_sigma: float = 0.10
    # Tokens carried by one streamed chunk, drawn uniformly in [min, max].
    chunk_tokens_min: int = 1
    chunk_tokens_max: int = 1
    # A stall: a chunk held back for about `stall_ms` (0.5x to 1.5x).
    stall_prob: float = 0.0
    stall_ms: float = 0.0

    # How long the answer would be if max_tokens did not cut it.
    answer_tokens: int = 90
    answer_sigma: float = 0.35
    # Reasoning before the answer (0: not a reasoning model). Hidden
    # reasoning takes its time and counts in usage but is only streamed when
    # the request asks for it (like Gemini's includeThoughts).
    reasoning_tokens: int = 0
    reasoning_sigma: float = 0.3
    hide_reasoning: bool = False

    # Failures, per request, checked in this order.
    p_429: float = 0.0
    retry_after_s: int = 2
    p_500: float = 0.0
    p_stream_error: float = 0.0  # an error event inside the 200 stream
    p_truncate: float = 0.0  # the body ends early, without a finish
    p_disconnect: float = 0.0  # the connection drops mid-body
    # Time the server takes to answer with an HTTP error.
    error_ms: float = 40.0

    # How the model treats what it is asked. The defaults honour every
    # parameter; each degraded profile below turns one of these around, so
    # the compliance and fidelity checks have something to catch. Stop
    # sequences and wrong answers apply to the prompts the oracle knows
    # (simulator/oracle.py).
    ignore_max_tokens: bool = False  # answers at full length, finish "stop"
    ignore_stop: bool = False  # stop sequences do not stop it
    ignore_reasoning_off: bool = False  # reasons even when asked not to
    ignore_seed: bool = False  # a seed does not make its sampling repeatable
    json_in_prose: bool = False  # a JSON-output request gets JSON wrapped in prose
    wrong_share: float = 0.0  # share of the fidelity suite answered wrongly

    def __post_init__(self) -> None:
        for f in fields(self):  # 120 means 120.0 for a float field
            value = getattr(self, f.name)
            if f.type == "float" and isinstance(value, int) and not isinstance(value, bool):
                object.__setattr__(self, f.name, float(value))
        problems = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name.startswith("p_") and not 0.0 <= value <= 1.0:
                problems.append(f"{f.name} must be between 0 and 1, not {value!r}")
        if not 0.0 <= self.wrong_share <= 1.0:
            problems.append(f"wrong_share must be between 0 and 1, not {self.wrong_share!r}")
        if not 0.0 <= self.stall_prob <= 1.0:
            problems.append(f"stall_prob must be between 0 and 1, not {self.stall_prob!r}")
        if self.p_429 + self.p_500 + self.p_stream_error + self.p_truncate + self.p_disconnect > 1.0:
            problems.append("the failure probabilities add up to more than 1")
        if self.tokens_per_s <= 0:
            problems.append(f"tokens_per_s must be positive, not {self.tokens_per_s!r}")
        if not 1 <= self.chunk_tokens_min <= self.chunk_tokens_max:
            problems.append("chunk tokens need 1 <= chunk_tokens_min <= chunk_tokens_max, "
                            f"not {self.chunk_tokens_min}..{self.chunk_tokens_max}")
        for name in ("ttft_ms", "prefill_ms_per_ktok", "cold_start_ms", "cold_idle_s",
                     "stall_ms", "error_ms", "ttft_sigma", "rate_sigma", "gap_sigma",
                     "answer_sigma", "reasoning_sigma", "reasoning_tokens", "retry_after_s"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                problems.append(f"{name} must be a finite number >= 0, not {value!r}")
        if self.answer_tokens < 1:
            problems.append(f"answer_tokens must be at least 1, not {self.answer_tokens!r}")
        if problems:
            raise ValueError(f"simulator profile {self.name!r}: " + "; ".join(problems))

    @property
    def error_rate(self) -> float:
        return self.p_429 + self.p_500 + self.p_stream_error + self.p_truncate + self.p_disconnect

    def with_overrides(self, overrides: Mapping[str, Any]) -> SimProfile:
        """A copy with fields replaced, e.g. `{"ttft_ms": 400, "tokens_per_s": 80}`
        from a user's config. Unknown keys and wrong types are a ValueError."""
        known = {f.name: f for f in fields(self)}
        unknown = sorted(k for k in overrides if k not in known)
        if unknown:
            raise ValueError(
                f"unknown simulator setting{'s' if len(unknown) > 1 else ''} "
                f"{', '.join(repr(k) for k in unknown)}; known: {', '.join(sorted(known))}")
        changes = {key: _coerce(key, known[key].type, value) for key, value in overrides.items()}
        return dataclasses.replace(self, **changes)


def _coerce(key: str, kind: object, value: Any) -> Any:
    """Take a config value as the field's declared type: an int field takes
    whole numbers, a float field any number, a bool field only true/false."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "bool" and isinstance(value, bool):
        return value
    if kind == "int" and number and float(value).is_integer():
        return int(value)
    if kind == "float" and number:
        return float(value)
    if kind == "str" and isinstance(value, str):
        return value
    raise ValueError(f"simulator setting {key!r} must be {kind}, not {value!r}")


def _profile(name: str, description: str, **settings: Any) -> SimProfile:
    return SimProfile(name=name, description=description, **settings)


PROFILES: dict[str, SimProfile] = {
    p.name: p
    for p in (
        _profile("fast", "steady: ~120 ms to first token, ~120 tok/s, one token per chunk",
                 ttft_ms=120, ttft_sigma=0.12, tokens_per_s=120, rate_sigma=0.04, gap_sigma=0.08),
        _profile("slow-ttft", "a long queue or prefill: ~1.5 s to first token, then ~80 tok/s",
                 ttft_ms=1500, ttft_sigma=0.3, tokens_per_s=80),
        _profile("cold-start", "+3 s on the first request after 30 s idle, ~200 ms warm",
                 ttft_ms=200, cold_start_ms=3000, cold_idle_s=30, tokens_per_s=90),
        _profile("jittery", "wide TTFT spread, uneven decode, occasional stalls of ~0.8 s",
                 ttft_ms=300, ttft_sigma=0.6, tokens_per_s=60, rate_sigma=0.3, gap_sigma=0.8,
                 stall_prob=0.02, stall_ms=800),
        _profile("flaky", "15% HTTP 429 (Retry-After 2), 8% HTTP 500, 5% errors inside the stream, "
                          "3% cut streams, 2% dropped connections",
                 ttft_ms=250, ttft_sigma=0.3, tokens_per_s=70, p_429=0.15, retry_after_s=2,
                 p_500=0.08, p_stream_error=0.05, p_truncate=0.03, p_disconnect=0.02),
        _profile("reasoning", "~150 reasoning tokens streamed before the answer",
                 ttft_ms=300, tokens_per_s=90, reasoning_tokens=150),
        _profile("multi-token", "3 to 8 tokens per chunk at ~150 tok/s: chunks are not tokens",
                 ttft_ms=150, tokens_per_s=150, chunk_tokens_min=3, chunk_tokens_max=8),
        # Modelled on a public serverless tail-latency study (75 streamed
        # requests per cell at concurrency 1, 5 and 20, max_tokens 64,
        # temperature 0): one model quick to start but slow to decode, the
        # other slow to start and quick to decode; both with tails (p99/p50
        # near 3.7 in the study, here a lognormal TTFT spread of 0.55).
        _profile("study-a", "public-study model A: ~300 ms to first token, ~21 tok/s, heavy TTFT tail",
                 ttft_ms=300, ttft_sigma=0.55, prefill_ms_per_ktok=0, tokens_per_s=21,
                 rate_sigma=0.08, answer_tokens=120),
        _profile("study-b", "public-study model B: ~1.2 s to first token, ~86 tok/s, heavy TTFT tail",
                 ttft_ms=1200, ttft_sigma=0.55, prefill_ms_per_ktok=0, tokens_per_s=86,
                 rate_sigma=0.08, answer_tokens=120),
        _profile("rate-limited", "25% HTTP 429 with Retry-After 3 s, otherwise steady (~150 ms, 100 tok/s)",
                 ttft_ms=150, ttft_sigma=0.1, tokens_per_s=100, p_429=0.25, retry_after_s=3),
        # Providers that do not serve what they were asked (the checks catch
        # each); otherwise steady, like `fast`.
        _profile("ignores-max-tokens", "answers at full length whatever max_tokens says",
                 ttft_ms=120, ttft_sigma=0.12, tokens_per_s=120, ignore_max_tokens=True),
        _profile("ignores-stop", "stop sequences do not stop it",
                 ttft_ms=120, ttft_sigma=0.12, tokens_per_s=120, ignore_stop=True),
        _profile("reasoning-stays-on", "a reasoning model that reasons even when asked not to",
                 ttft_ms=300, tokens_per_s=90, reasoning_tokens=150, ignore_reasoning_off=True),
        _profile("ignores-seed", "a seed does not make its answers repeatable",
                 ttft_ms=120, ttft_sigma=0.12, tokens_per_s=120, ignore_seed=True),
        _profile("json-in-prose", "asked for JSON output, wraps the JSON in prose and a code fence",
                 ttft_ms=120, ttft_sigma=0.12, tokens_per_s=120, json_in_prose=True),
        _profile("quantized", "fast, but answers a quarter of the fidelity suite wrongly",
                 ttft_ms=90, ttft_sigma=0.12, tokens_per_s=160, wrong_share=0.25),
    )
}


def get_profile(name: str) -> SimProfile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown simulator profile {name!r}; known: {', '.join(PROFILES)}") from None
