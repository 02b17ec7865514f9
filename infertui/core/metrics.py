"""Every number infertui reports, as a pure function over a finished probe.

Definitions (all from *request sent*, the moment the request's last byte went
to the socket; README "Metrics" repeats them):

- ttft: to the first visible content token. A role-only chunk, an empty delta,
  a usage-only chunk or an SSE comment is not a token.
- ttft_any: to the first reasoning-or-content token.
- ttfb: to the response headers.
- e2e: to the last token (reasoning or content).
- itl: (t_last_token - t_first_token) / (output_tokens - 1), 1000 / decode_tps.
- decode_tps: (decode_tokens - 1) / (t_last_token - t_first_token), where
  t_first_token is the first reasoning-or-content token. decode_tokens are the
  output tokens (the server's usage when it reported them; the limit itself
  after a `length` finish; else an estimate), less reasoning tokens the
  server counted but never streamed (hidden thoughts take no part in the
  streamed span, so dividing them by it would inflate the speed).
- stall: the longest gap between two reads of the body that carried events.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, Iterable

from infertui.core.result import ChunkKind, ProbeResult, Status
from infertui.core.stats import Distribution, percentile  # noqa: F401 - percentile re-exported

NS_PER_MS = 1_000_000
_TOKENISH = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def _ms(ns: int | None) -> float | None:
    return None if ns is None else ns / NS_PER_MS


def ttft_ms(r: ProbeResult) -> float | None:
    return _ms(r.first_content_ns)


def ttft_any_ms(r: ProbeResult) -> float | None:
    firsts = [t for t in (r.first_content_ns, r.first_reasoning_ns) if t is not None]
    return _ms(min(firsts)) if firsts else None


def ttfb_ms(r: ProbeResult) -> float | None:
    return _ms(r.headers_ns)


def e2e_ms(r: ProbeResult) -> float | None:
    return _ms(r.last_token_ns)


def queue_ms(r: ProbeResult) -> float | None:
    return _ms(r.queue_ns)


def connect_ms(r: ProbeResult) -> float | None:
    return _ms(r.connect_ns)


def stall_ms(r: ProbeResult) -> float | None:
    return _ms(r.max_gap_ns)


def estimate_tokens(text: str) -> int:
    """A tokenizer-free estimate: one token per word or punctuation mark, words
    longer than 6 characters one per 4 characters. Always labelled `estimate`."""
    count = 0
    for piece in _TOKENISH.findall(text):
        count += math.ceil(len(piece) / 4) if len(piece) > 6 else 1
    return count


LENGTH_FINISHES = frozenset({"length", "max_tokens", "MAX_TOKENS"})


def output_tokens(r: ProbeResult) -> tuple[int | None, str | None]:
    """(count, source): "usage" (the server's count), "length" (no usage,
    but the answer stopped at the limit, so it has exactly max_tokens), or
    "estimate" (see estimate_tokens; shown with a `~`)."""
    if r.usage.output_tokens is not None:
        return r.usage.output_tokens, "usage"
    if not r.chunks:
        return None, None
    if r.finish_reason in LENGTH_FINISHES and r.max_tokens:
        return r.max_tokens, "length"
    return estimate_tokens(r.text) + estimate_tokens(r.reasoning_text), "estimate"


def hidden_reasoning_tokens(r: ProbeResult) -> int:
    """Reasoning tokens the server counted but never streamed (Gemini's
    thoughts unless asked for, some reasoning models behind gateways)."""
    counted = r.usage.reasoning_tokens or 0
    if counted <= 0 or any(c.kind is ChunkKind.REASONING for c in r.chunks):
        return 0
    return counted


def decode_tokens(r: ProbeResult) -> int | None:
    """The tokens that were streamed: output tokens less hidden reasoning."""
    count, source = output_tokens(r)
    if count is None:
        return None
    if source != "estimate":  # an estimate only ever counted streamed text
        count -= hidden_reasoning_tokens(r)
    return max(count, 0)


def decode_tps(r: ProbeResult) -> float | None:
    count = decode_tokens(r)
    first = ttft_any_ms(r)
    last = e2e_ms(r)
    if count is None or count < 2 or first is None or last is None:
        return None
    span_s = (last - first) / 1000.0
    if span_s <= 0:
        return None
    return (count - 1) / span_s


def itl_ms(r: ProbeResult) -> float | None:
    """Mean inter-token latency: (t_last_token - t_first_token) /
    (decode_tokens - 1), the inverse of decode_tps. Tokens come from the count,
    so a chunk carrying several tokens does not inflate it."""
    tps = decode_tps(r)
    return None if not tps else 1000.0 / tps


def chunk_gaps_ms(r: ProbeResult) -> list[float]:
    """Gaps between consecutive text chunks (for sparklines), in ms."""
    offsets = [c.offset_ns for c in r.chunks]
    return [(b - a) / NS_PER_MS for a, b in pairwise(offsets)]


def cost_usd(r: ProbeResult) -> float | None:
    p = r.target.provider
    if p.price_input_per_mtok is None or p.price_output_per_mtok is None:
        return None
    count, _ = output_tokens(r)
    if r.usage.input_tokens is None or count is None:
        return None
    return (r.usage.input_tokens * p.price_input_per_mtok + count * p.price_output_per_mtok) / 1e6


# --- statistics over many probes -------------------------------------------------
# Percentiles and distributions live in core.stats, shared with campaigns.

@dataclass(frozen=True)
class TargetSummary:
    target_label: str
    target: dict[str, Any]
    n: int  # non-warm-up probes
    ok: int
    errors: int
    cancelled: int
    error_kinds: dict[str, int]
    ttft_ms: Distribution
    ttft_any_ms: Distribution
    e2e_ms: Distribution
    decode_tps: Distribution
    cost_per_ok_usd: float | None

    @property
    def availability(self) -> float | None:
        finished = self.ok + self.errors
        return None if finished == 0 else self.ok / finished

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "n": self.n,
            "ok": self.ok,
            "errors": self.errors,
            "cancelled": self.cancelled,
            "error_kinds": self.error_kinds,
            "availability": self.availability,
            "ttft_ms": self.ttft_ms.to_json(),
            "ttft_any_ms": self.ttft_any_ms.to_json(),
            "e2e_ms": self.e2e_ms.to_json(),
            "decode_tps": self.decode_tps.to_json(),
            "cost_per_ok_usd": self.cost_per_ok_usd,
        }


def summarize(results: Iterable[ProbeResult], order: Iterable[str] = ()) -> list[TargetSummary]:
    """One row per target, in `order` (target labels) then first-seen order.
    Statistics use ok, non-warm-up probes only; errors are counted apart, by
    kind."""
    groups: dict[str, list[ProbeResult]] = {label: [] for label in order}
    for r in results:
        if r.phase == "check":  # compliance and fidelity probes: never latency statistics
            continue
        groups.setdefault(r.target.label, []).append(r)
    rows = []
    for label, rs in groups.items():
        if not rs:
            continue
        measured = [r for r in rs if not r.warmup]
        ok = [r for r in measured if r.status is Status.OK]
        errs = [r for r in measured if r.status is Status.ERROR]
        kinds: dict[str, int] = {}
        for r in errs:
            if r.error is not None:
                kinds[str(r.error.kind)] = kinds.get(str(r.error.kind), 0) + 1
        costs = [c for c in (cost_usd(r) for r in ok) if c is not None]
        # Cost per completed answer: what every attempt cost (failed ones that
        # billed tokens included) divided by the answers that completed.
        all_costs = [c for c in (cost_usd(r) for r in measured) if c is not None]
        cost_per_ok = (sum(all_costs) / len(ok)) if ok and costs else None
        rows.append(
            TargetSummary(
                target_label=label,
                target=rs[0].target.to_json(),
                n=len(measured),
                ok=len(ok),
                errors=len(errs),
                cancelled=len(measured) - len(ok) - len(errs),
                error_kinds=kinds,
                ttft_ms=Distribution.of(ttft_ms(r) for r in ok),
                ttft_any_ms=Distribution.of(ttft_any_ms(r) for r in ok),
                e2e_ms=Distribution.of(e2e_ms(r) for r in ok),
                decode_tps=Distribution.of(decode_tps(r) for r in ok),
                cost_per_ok_usd=cost_per_ok,
            )
        )
    return rows
