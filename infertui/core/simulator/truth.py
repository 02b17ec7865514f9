"""What the simulator really did for each request, on its own clock.

A benchmark compares a client's measured TTFT with `first_content_ns -
received_ns` here. Times are nanoseconds on the simulator's clock
(`time.perf_counter_ns` unless one was injected), which is CLOCK_MONOTONIC on
Linux and so comparable with a client's perf_counter_ns in another process on
the same machine.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from infertui.core.simulator.engine import CONTENT

_ID_PREFIXES = ("req_", "chatcmpl-", "msg_")


def bare_request_id(request_id: str) -> str:
    """The simulator's id from any form a client saw: `req_ID` (x-request-id,
    request-id), `chatcmpl-ID`, `msg_ID`, or the bare ID (Gemini's responseId,
    x-sim-request-id)."""
    for prefix in _ID_PREFIXES:
        if request_id.startswith(prefix):
            return request_id[len(prefix):]
    return request_id


@dataclass
class GroundTruth:
    request_id: str
    provider: str
    model: str
    api: str
    profile: str
    http_status: int
    # When the whole request had arrived (the transport: httpx's "request
    # body sent"; the server: the body read off the socket).
    received_ns: int
    # The plan's delays times the time scale, in ns. Behind hidden reasoning
    # it is known only once the first visible step is generated: None until
    # then (and for good if the stream breaks before it).
    planned_ttft_ns: int | None = None
    finish_reason: str | None = None
    failure: str | None = None  # "error", "truncate", "disconnect"
    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cold: bool = False
    headers_ns: int | None = None
    # One entry per content or reasoning event, when its bytes were handed
    # to the client (transport) or written and drained (server).
    event_ns: list[int] = field(default_factory=list)
    event_kinds: list[str] = field(default_factory=list)
    event_tokens: list[int] = field(default_factory=list)
    end_ns: int | None = None
    complete: bool = False  # False while streaming, or if the client left early
    clock: str = "perf_counter_ns"

    def mark(self, kind: str, tokens: int, now_ns: int) -> None:
        self.event_ns.append(now_ns)
        self.event_kinds.append(kind)
        self.event_tokens.append(tokens)

    @property
    def first_token_ns(self) -> int | None:
        return self.event_ns[0] if self.event_ns else None

    @property
    def first_content_ns(self) -> int | None:
        for t, kind in zip(self.event_ns, self.event_kinds, strict=True):
            if kind == CONTENT:
                return t
        return None

    @property
    def ttft_ns(self) -> int | None:
        """From request received to the first visible content."""
        first = self.first_content_ns
        return None if first is None else first - self.received_ns

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["first_token_ns"] = self.first_token_ns
        data["first_content_ns"] = self.first_content_ns
        data["ttft_ns"] = self.ttft_ns
        return data


class GroundTruthLog(Mapping[str, GroundTruth]):
    """The most recent records by request id; any id form a client saw works
    as a key."""

    def __init__(self, limit: int = 10_000) -> None:
        self._records: OrderedDict[str, GroundTruth] = OrderedDict()
        self._limit = limit

    def add(self, record: GroundTruth) -> None:
        self._records[record.request_id] = record
        self._records.move_to_end(record.request_id)
        while len(self._records) > self._limit:
            self._records.popitem(last=False)

    def __getitem__(self, request_id: str) -> GroundTruth:
        return self._records[bare_request_id(request_id)]

    def __contains__(self, request_id: object) -> bool:
        return isinstance(request_id, str) and bare_request_id(request_id) in self._records

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._records))

    def __len__(self) -> int:
        return len(self._records)
