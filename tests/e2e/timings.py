"""llama-server's own account of each request, read from its log and /metrics.

For every finished request llama-server logs the figures it also puts in the
`timings` object of the last streamed chunk (tools/server: print_timings and
server_slot_stats::to_json, the same fields):

    prompt eval time =      31.04 ms /    12 tokens (...)
           eval time =     181.09 ms /    32 tokens (...)

`prompt_ms` runs from the slot starting the prompt to the first token sampled;
`predicted_ms` from the first token sampled to the last, over `predicted_n - 1`
decode steps, so `predicted_per_second = (n - 1) / predicted_ms`: the same
definition as infertui's decode_tps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TIMING = re.compile(r"(prompt )?eval time =\s+([\d.]+) ms /\s+(\d+) tokens")
_METRIC = re.compile(r"^(llamacpp:[a-z_]+)(?:\{[^}]*\})? ([\d.eE+-]+)$", re.MULTILINE)


@dataclass
class ServerTimings:
    prompt_ms: float
    prompt_n: int
    predicted_ms: float
    predicted_n: int

    @property
    def predicted_per_second(self) -> float:
        return (self.predicted_n - 1) / self.predicted_ms * 1000.0


def from_log(text: str) -> list[ServerTimings]:
    """Every finished request's timings in `text`, in the order they finished."""
    found: list[ServerTimings] = []
    prompt: tuple[float, int] | None = None
    for match in _TIMING.finditer(text):
        ms, n = float(match.group(2)), int(match.group(3))
        if match.group(1):
            prompt = (ms, n)
        elif prompt is not None:
            found.append(ServerTimings(prompt[0], prompt[1], ms, n))
            prompt = None
    return found


def from_chunk(timings: dict) -> ServerTimings:
    return ServerTimings(timings["prompt_ms"], timings["prompt_n"], timings["predicted_ms"],
                         timings["predicted_n"])


def metrics(text: str) -> dict[str, float]:
    """llama-server's /metrics (Prometheus text) as name -> value."""
    return {m.group(1): float(m.group(2)) for m in _METRIC.finditer(text)}
