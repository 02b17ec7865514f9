"""The runner's event stream, held for the screen until the next frame.

`RunFeed` is the runner's sink: every call is a few appends, so the probes'
timing never waits on the UI. The compare screen's frame timer reads it
(about 25 times a second) and hands each pane the text that arrived since.
No Textual here.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field

from infertui.core.clock import Clock, monotonic_ns
from infertui.core.events import (
    ProbeChunk,
    ProbeFinished,
    ProbeQueued,
    ProbeSent,
    RunEvent,
    SessionFinished,
    SessionStarted,
)
from infertui.core.result import ChunkKind, ProbeResult
from infertui.core.targets import Target


@dataclass(slots=True)
class LiveProbe:
    probe_id: str
    target_label: str
    seq: int
    warmup: bool
    # The chunks as the core reported them, in three parallel arrays (no
    # object per chunk: a long run holds tens of thousands, and every tracked
    # object makes the cyclic GC's passes, which stall the loop, longer).
    texts: list[str] = field(default_factory=list)
    reasoning: bytearray = field(default_factory=bytearray)  # 1 where the chunk is reasoning
    offsets: array = field(default_factory=lambda: array("q"))  # ns from request sent
    shown: int = 0  # chunks already handed to a pane
    sent: bool = False
    # When the request went out, on the feed's clock (the core's, in ns): a
    # pane counts its seconds from here, not from the frame that first drew
    # the probe, which in a busy run can come after the first tokens.
    sent_ns: int | None = None
    result: ProbeResult | None = None


class RunFeed:
    def __init__(self, targets: list[Target], per_target: int, clock: Clock = monotonic_ns) -> None:
        self.clock = clock
        self.labels = [t.label for t in targets]
        self.per_target = per_target  # warm-ups + repeats
        self.probes: dict[str, LiveProbe] = {}
        self.started: dict[str, list[LiveProbe]] = {label: [] for label in self.labels}
        self.finished: list[ProbeResult] = []
        self.total = 0
        self.session_id: str | None = None
        self.ended: SessionFinished | None = None
        self.summary_dirty = False
        self.events = 0

    def __call__(self, event: RunEvent) -> None:
        self.events += 1
        # `type(...) is`, not isinstance: the events are final dataclasses and
        # this runs for every chunk.
        if type(event) is ProbeChunk:
            probe = self.probes.get(event.probe_id)
            if probe is not None:
                probe.texts.append(event.text)
                probe.reasoning.append(event.kind is ChunkKind.REASONING)
                probe.offsets.append(event.offset_ns)
        elif type(event) is ProbeSent:
            probe = self.probes.get(event.probe_id)
            if probe is None:
                probe = self._add(event.probe_id, event.target.label, event.seq, event.warmup)
            if not probe.sent:
                probe.sent = True
                probe.sent_ns = self.clock()
                self.started.setdefault(probe.target_label, []).append(probe)
        elif type(event) is ProbeQueued:
            self._add(event.probe_id, event.target.label, event.seq, event.warmup)
        elif type(event) is ProbeFinished:
            result = event.result
            probe = self.probes.get(result.probe_id)
            if probe is None:
                probe = self._add(result.probe_id, result.target.label, result.seq, result.warmup)
            if not probe.sent:  # failed or cancelled before the request went out
                probe.sent = True
                self.started.setdefault(probe.target_label, []).append(probe)
            probe.result = result
            self.finished.append(result)
            self.summary_dirty = True
        elif type(event) is SessionStarted:
            self.session_id = event.session_id
            self.total = event.total_probes
        elif type(event) is SessionFinished:
            self.ended = event

    def chunks_since(self, probe: LiveProbe, start: int):
        """(kind, text, offset) of the chunks from index `start` on."""
        texts, reasoning, offsets = probe.texts, probe.reasoning, probe.offsets
        for i in range(start, len(texts)):
            yield (ChunkKind.REASONING if reasoning[i] else ChunkKind.CONTENT), texts[i], offsets[i]

    def _add(self, probe_id: str, label: str, seq: int, warmup: bool) -> LiveProbe:
        probe = self.probes.get(probe_id)
        if probe is None:
            probe = self.probes[probe_id] = LiveProbe(probe_id, label, seq, warmup)
        return probe

    # -- what a pane shows ------------------------------------------------------
    def followed(self, label: str) -> LiveProbe | None:
        """The probe a target's pane follows: the earliest started one still
        running, else the last one that finished."""
        started = self.started.get(label) or []
        for probe in started:
            if probe.result is None:
                return probe
        return started[-1] if started else None

    def progress(self, label: str) -> tuple[int, int]:
        """(running, finished) probes of a target."""
        started = self.started.get(label) or []
        done = sum(1 for p in started if p.result is not None)
        return len(started) - done, done
