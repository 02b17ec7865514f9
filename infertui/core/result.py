"""The record of one probe: what happened, when, and what came back.

All times inside a finished result are nanosecond offsets from *request sent*
(the moment the request's last byte went to the socket), so a result means the
same thing in any process and can be stored, exported and replayed as is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from infertui.core.targets import Target


class Status(StrEnum):
    OK = "ok"
    ERROR = "error"
    CANCELLED = "cancelled"


class ErrorKind(StrEnum):
    AUTH = "auth"  # 401/403
    NOT_FOUND = "not_found"  # 404: model or endpoint unknown
    BAD_REQUEST = "bad_request"  # 400/413/422 and other 4xx
    RATE_LIMITED = "rate_limited"  # 429 (Retry-After kept)
    SERVER_ERROR = "server_error"  # 5xx
    CONNECT = "connect"  # DNS, refused, TLS
    DISCONNECTED = "disconnected"  # the request went out; the server closed without answering
    TIMEOUT = "timeout"  # connect, headers, stall or total
    PROVIDER_ERROR = "provider_error"  # an error inside a 200 stream
    PROTOCOL = "protocol"  # undecodable stream
    TRUNCATED = "truncated"  # stream ended without a finish


ERROR_KIND_HELP: dict[ErrorKind, str] = {
    ErrorKind.AUTH: "HTTP 401/403: key missing, wrong or without access",
    ErrorKind.NOT_FOUND: "HTTP 404: unknown model or endpoint",
    ErrorKind.BAD_REQUEST: "HTTP 400/413/422 or another 4xx: the provider refused the request "
                           "(also a 3xx redirect, which is not followed)",
    ErrorKind.RATE_LIMITED: "HTTP 429: rate limited (Retry-After kept when sent)",
    ErrorKind.SERVER_ERROR: "HTTP 5xx: the provider failed",
    ErrorKind.CONNECT: "no connection: DNS, refused, TLS",
    ErrorKind.DISCONNECTED: "the request was sent, then the server closed the connection "
                            "without a response",
    ErrorKind.TIMEOUT: "connect, headers, stall between chunks, or total time exceeded",
    ErrorKind.PROVIDER_ERROR: "an error reported inside an HTTP 200 stream",
    ErrorKind.PROTOCOL: "the answer was not a stream infertui can decode, or broke a limit "
                        "(line, event or body size, runaway output)",
    ErrorKind.TRUNCATED: "the stream ended without a finish",
}


@dataclass
class ProbeError:
    kind: ErrorKind
    message: str
    http_status: int | None = None
    retry_after: float | None = None  # seconds, from Retry-After

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": str(self.kind),
            "message": self.message,
            "http_status": self.http_status,
            "retry_after": self.retry_after,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> ProbeError | None:
        if not data:
            return None
        return cls(
            kind=ErrorKind(data["kind"]),
            message=data.get("message", ""),
            http_status=data.get("http_status"),
            retry_after=data.get("retry_after"),
        )


class ChunkKind(StrEnum):
    CONTENT = "content"
    REASONING = "reasoning"


@dataclass(slots=True)
class Chunk:
    """One piece of visible or reasoning text and when its bytes arrived."""

    offset_ns: int  # from request sent
    kind: ChunkKind
    text: str


@dataclass
class Usage:
    """Token counts as the server reported them (None where it did not)."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None
    cached_tokens: int | None = None

    def merge(self, other: Usage) -> None:
        """Take every count `other` has; later reports replace earlier ones
        (Anthropic's and Gemini's usage is cumulative, never summed)."""
        for name in ("input_tokens", "output_tokens", "reasoning_tokens", "cached_tokens"):
            value = getattr(other, name)
            if value is not None:
                setattr(self, name, value)

    def any(self) -> bool:
        return any(
            v is not None
            for v in (self.input_tokens, self.output_tokens, self.reasoning_tokens, self.cached_tokens)
        )


@dataclass
class ProbeResult:
    probe_id: str
    target: Target
    seq: int = 0  # repeat index within the session, per target
    warmup: bool = False
    status: Status = Status.CANCELLED
    error: ProbeError | None = None
    http_status: int | None = None

    # Wall-clock time (ISO 8601, UTC) when the request was sent, for history.
    sent_at: str | None = None
    # Before the send, in ns: waiting for infertui's own concurrency slot, and
    # connecting (DNS/TCP/TLS; 0 on a reused connection, None when unknown).
    queue_ns: int | None = None
    connect_ns: int | None = None
    # From slot acquired to request sent: building, pool wait, connect, send.
    pre_send_ns: int | None = None
    # Where "request sent" came from: "socket" (infertui's own network
    # backend read the clock immediately before handing the request's last
    # bytes to the kernel), "trace" (an in-process transport reported the
    # request received) or "fallback" (a transport that reports neither; the
    # moment the request was handed to it).
    sent_source: str | None = None
    # Where arrival times came from: "read-callback" (stamped in the event
    # loop's read callback for the socket, before any parsing) or "coroutine"
    # (an in-process transport: stamped when the probe got the bytes).
    recv_source: str | None = None
    # Sends repeated because the first provably never reached the server
    # (a reused connection the server had closed), and why.
    retries: int = 0
    retry_reason: str | None = None
    # The output limit the request carried (max_tokens as sent), so a
    # `length` finish gives the exact output count when usage is missing.
    max_tokens: int | None = None

    # "Request sent" on this process's monotonic clock (CLOCK_MONOTONIC on
    # Linux): only for comparing with another process's stamps on the same
    # machine (the simulator's ground truth); never exported.
    sent_clock_ns: int | None = None

    # Offsets from request sent, in ns; None when it never happened.
    headers_ns: int | None = None
    first_byte_ns: int | None = None
    first_reasoning_ns: int | None = None
    first_content_ns: int | None = None
    last_token_ns: int | None = None
    end_ns: int | None = None

    chunks: list[Chunk] = field(default_factory=list)
    event_count: int = 0  # SSE events, comments included
    max_gap_ns: int | None = None  # longest gap between two reads carrying events

    usage: Usage = field(default_factory=Usage)
    finish_reason: str | None = None
    server_model: str | None = None
    system_fingerprint: str | None = None
    request_id: str | None = None

    # Event-loop lag seen while this probe ran (ms), and whether infertui itself
    # was saturated then (its timings are suspect).
    loop_lag_ms: float | None = None
    client_saturated: bool = False
    nonce: str | None = None

    # Inside a campaign (None elsewhere): the probe's phase ("measured",
    # "warmup" or "cold"), the chain it belongs to and its position in it,
    # and how long its lane waited on a Retry-After before sending it (never
    # latency, never queue time).
    phase: str | None = None
    chain: int | None = None
    chain_pos: int | None = None
    backoff_ns: int | None = None
    # A check probe (phase "check"): its step, like "compliance.stop" or
    # "fidelity.arith-mul", and the request it sent (method, URL without
    # credentials, body; never a key or a header), kept as evidence.
    check: str | None = None
    request: dict[str, Any] | None = None

    def record_chunk(self, offset_ns: int, kind: ChunkKind, text: str) -> None:
        """Add a chunk to the timeline and keep first/last token times."""
        self.chunks.append(Chunk(offset_ns, kind, text))
        if kind is ChunkKind.CONTENT:
            if self.first_content_ns is None:
                self.first_content_ns = offset_ns
        elif self.first_reasoning_ns is None:
            self.first_reasoning_ns = offset_ns
        self.last_token_ns = offset_ns

    @property
    def text(self) -> str:
        return "".join(c.text for c in self.chunks if c.kind is ChunkKind.CONTENT)

    @property
    def reasoning_text(self) -> str:
        return "".join(c.text for c in self.chunks if c.kind is ChunkKind.REASONING)

    @property
    def ok(self) -> bool:
        return self.status is Status.OK
