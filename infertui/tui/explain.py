"""What a probe's numbers rest on, in words: for the key that asks why a
probe or a summary row carries ⚠ (or a `~`).

Plain functions of what the core recorded (ProbeResult, metrics); no Textual.
"""

from __future__ import annotations

from infertui.core import metrics
from infertui.core.loopmon import SATURATED_LAG_MS
from infertui.core.result import ProbeResult
from infertui.textsafe import one_line
from infertui.tui import fmt

LAG_EFFECT = ("its TTFT, e2e and tok/s include infertui's own delay, not only the provider's. Run "
              "fewer targets at once or on a less busy machine, and compare again.")


def probe_reasons(p: ProbeResult) -> list[str]:
    """Why this probe's numbers are marked: client lag, estimated tokens."""
    reasons = []
    if p.client_saturated:
        lag = fmt.ms(p.loop_lag_ms) if p.loop_lag_ms is not None else f"over {SATURATED_LAG_MS:g} ms"
        reasons.append(f"⚠ infertui's event loop was late by up to {lag} while this probe ran "
                       f"(the threshold is {SATURATED_LAG_MS:g} ms): {LAG_EFFECT}")
    count, source = metrics.output_tokens(p)
    if source == "estimate":
        reasons.append(f"~ the server sent no token count: {count} tokens is infertui's estimate "
                       "(one per word or punctuation mark), so tok/s is one too.")
    return reasons


def probe_details(p: ProbeResult) -> str:
    """A probe's numbers and what they rest on, for a notification."""
    title = f"{one_line(p.target.label, 60)} #{p.seq}{' (warm-up)' if p.warmup else ''}: {p.status}"
    reasons = probe_reasons(p)
    if not reasons:
        count, _ = metrics.output_tokens(p)
        lag = "" if p.loop_lag_ms is None else f"; infertui's loop lag stayed at {fmt.ms(p.loop_lag_ms)}"
        tokens = "no tokens" if count is None else f"{count} tokens from the server's usage"
        reasons.append(f"nothing to flag: {tokens}{lag}.")
    return "\n".join([title, *reasons])
