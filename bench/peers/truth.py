"""What the servers really did, matched to the requests each tool reports.

The simulator keeps a record per request (GET /_sim/ground-truth): when it
had read the request and when it wrote each token, on CLOCK_MONOTONIC. A
tool's request is matched to its record by the server's own id when the tool
kept one (every chunk's `id` is `chatcmpl-<record id>`, `x-request-id` is
`req_<record id>`); otherwise by order: the tool's requests sorted by the
time it says it started them, paired with the records of that run in the
order the server read them, and each pairing checked to be possible (the
server read the request after the tool started it).

llama-server's account is its log (tests/e2e/timings.py): prompt time,
decode time and tokens per finished request, in the order they finished.
With one request at a time that is the tools' send order; with several in
flight it is not, so only the distributions are compared there.
"""

from __future__ import annotations

import json
import time
import urllib.request
from dataclasses import dataclass

from tools import Record


@dataclass
class Truth:
    ttft_ms: float  # first content written - request read, by the server
    output_tokens: int
    decode_tps: float | None  # (n - 1) / (last token written - first token written)
    received_ns: int
    input_tokens: int = 0


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


def sim_ids(origin: str) -> list[str]:
    return _get(f"{origin}/_sim/ground-truth")["request_ids"]


def sim_truth(origin: str, request_id: str) -> Truth | None:
    try:
        record = _get(f"{origin}/_sim/ground-truth?request_id={request_id}")
    except OSError:
        return None
    first, times = record.get("first_content_ns"), record.get("event_ns") or []
    if first is None:
        return None
    tokens = sum(record.get("event_tokens") or []) or record.get("output_tokens") or 0
    span = (times[-1] - times[0]) / 1e9 if len(times) > 1 else 0
    return Truth(ttft_ms=(first - record["received_ns"]) / 1e6, output_tokens=tokens,
                 decode_tps=(tokens - 1) / span if span > 0 else None,
                 received_ns=record["received_ns"], input_tokens=record.get("input_tokens") or 0)


def wall_minus_monotonic_s() -> float:
    """CLOCK_REALTIME - CLOCK_MONOTONIC now, the same for every process."""
    a = time.time()
    m = time.monotonic()
    b = time.time()
    return (a + b) / 2 - m


def match_sim(origin: str, records: list[Record], new_ids: list[str],
              offset_s: float) -> tuple[list[tuple[Record, Truth]], str, int]:
    """(pairs, method, impossible pairings). `new_ids`: the records the run
    added, in the order the server read them."""
    if records and all(r.response_id for r in records):
        pairs = [(r, t) for r in records if (t := sim_truth(origin, r.response_id)) is not None]
        return pairs, "server id", 0
    sent = sorted((r for r in records if r.start_s is not None), key=lambda r: r.start_s)
    truths = [t for i in new_ids if (t := sim_truth(origin, i)) is not None]
    truths.sort(key=lambda t: t.received_ns)
    pairs = list(zip(sent, truths, strict=False))  # the counts may differ: pairs as far as both go
    impossible = sum(1 for r, t in pairs if t.received_ns / 1e9 + offset_s < r.start_s)
    return pairs, "send order", impossible
