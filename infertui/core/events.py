"""What the runner tells its consumers, as it happens.

The CLI's live table, the TUI's panes and the tests all subscribe to this one
stream. Events are small immutable records; timing offsets are ns from the
probe's request sent, measured where the bytes arrived.
"""

from __future__ import annotations

from dataclasses import dataclass

from infertui.core.result import ChunkKind, ProbeResult
from infertui.core.targets import Target


@dataclass(frozen=True, slots=True)
class SessionStarted:
    session_id: str
    targets: tuple[Target, ...]
    total_probes: int


@dataclass(frozen=True, slots=True)
class ProbeQueued:
    probe_id: str
    target: Target
    seq: int
    warmup: bool


@dataclass(frozen=True, slots=True)
class ProbeSent:
    """The request's last byte went out; offsets below count from here."""

    probe_id: str
    target: Target
    seq: int
    warmup: bool


@dataclass(frozen=True, slots=True)
class ProbeHeaders:
    probe_id: str
    http_status: int
    offset_ns: int


@dataclass(frozen=True, slots=True)
class ProbeChunk:
    probe_id: str
    kind: ChunkKind
    text: str
    offset_ns: int


@dataclass(frozen=True, slots=True)
class ProbeFinished:
    result: ProbeResult


@dataclass(frozen=True, slots=True)
class SessionFinished:
    session_id: str
    cancelled: bool


RunEvent = SessionStarted | ProbeQueued | ProbeSent | ProbeHeaders | ProbeChunk | ProbeFinished | SessionFinished
