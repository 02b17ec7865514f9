"""Replay: a past session's text streamed again, side by side, at the pace it
was recorded.

A session is replayed round by round: round k holds every target's probe with
sequence number k (warm-ups first, as they ran), and all of them start
together, so each round is a fair race from *request sent*. Inside a probe,
every chunk appears at its stored offset (`Chunk.offset_ns`) divided by the
speed; the probe finishes at its recorded end. Between rounds the finished
panes stay up for a short pause. Nothing is measured here: the panes show the
stored offsets and the stored result.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Header, Static

from infertui.core import metrics
from infertui.core.result import ChunkKind, ProbeResult, Status
from infertui.core.session import Session
from infertui.core.targets import Target
from infertui.textsafe import one_line
from infertui.tui.history_rows import summary_line
from infertui.tui.widgets.footer import AppFooter
from infertui.tui.widgets.pane import ProbePane
from infertui.tui.widgets.panegrid import PaneGrid
from infertui.tui.widgets.summary import SummaryTable

FRAME_S = 1 / 25
ROUND_PAUSE_NS = 800_000_000  # recorded time between two rounds (scaled by the speed)
INSTANT = float("inf")
SPEEDS = (1.0, 4.0, INSTANT)


def speed_label(speed: float) -> str:
    return "instant" if speed == INSTANT else f"{speed:g}x"


def probe_end_ns(p: ProbeResult) -> int:
    """When a stored probe ended, from its request sent: its recorded end, or
    the latest moment it has a record of."""
    times = [t for t in (p.end_ns, p.last_token_ns, p.headers_ns, p.first_byte_ns) if t is not None]
    if p.chunks:
        times.append(p.chunks[-1].offset_ns)
    return max(times, default=0)


@dataclass
class Round:
    seq: int
    warmup: bool
    probes: dict[str, ProbeResult]  # by target label
    start_ns: int = 0  # on the replay's timeline
    duration_ns: int = 0

    @property
    def end_ns(self) -> int:
        return self.start_ns + self.duration_ns


@dataclass
class ReplayPlan:
    targets: list[Target]
    rounds: list[Round] = field(default_factory=list)

    @property
    def duration_ns(self) -> int:
        """Recorded time of the whole replay: every round plus the pauses."""
        return self.rounds[-1].end_ns if self.rounds else 0

    @classmethod
    def of(cls, session: Session) -> ReplayPlan:
        targets = list(session.targets)
        known = {t.label for t in targets}
        for p in session.probes:  # a probe for a target the session did not list
            if p.target.label not in known:
                known.add(p.target.label)
                targets.append(p.target)
        by_seq: dict[int, Round] = {}
        for p in session.probes:
            rnd = by_seq.setdefault(p.seq, Round(p.seq, p.warmup, {}))
            rnd.probes.setdefault(p.target.label, p)
            rnd.warmup = rnd.warmup and p.warmup
        rounds = [by_seq[k] for k in sorted(by_seq)]
        at = 0
        for i, rnd in enumerate(rounds):
            if i:
                at += ROUND_PAUSE_NS
            rnd.start_ns = at
            rnd.duration_ns = max((probe_end_ns(p) for p in rnd.probes.values()), default=0)
            at = rnd.end_ns
        return cls(targets, rounds)

    def round_at(self, position_ns: float) -> int:
        """The round playing (or pausing after it) at a point of the timeline."""
        index = 0
        for i, rnd in enumerate(self.rounds):
            if position_ns >= rnd.start_ns:
                index = i
        return index


class _Cursor:
    """How far one probe of the current round has been delivered to its pane."""

    __slots__ = ("probe", "pane", "next_chunk", "finished")

    def __init__(self, probe: ProbeResult, pane: ProbePane) -> None:
        self.probe, self.pane = probe, pane
        self.next_chunk = 0
        self.finished = False


class ReplayScreen(Screen):
    """Re-stream a stored session; speeds 1x, 4x and instant."""

    BINDINGS = [
        Binding("escape", "close", "Back", id="replay.close"),
        # One key, named for what it does now: the footer says Pause while
        # playing and Play while paused (check_action shows one of the two).
        Binding("space", "pause", "Pause", id="replay.pause"),
        Binding("space", "play", "Play", id="replay.pause"),
        Binding("1", "speed(1)", "1x", id="replay.speed_1x"),
        Binding("4", "speed(4)", "4x", id="replay.speed_4x"),
        Binding("i", "speed(0)", "Instant", id="replay.instant"),
        Binding("s", "cycle_speed", "Speed", id="replay.cycle_speed", show=False),
        Binding("left_square_bracket", "round(-1)", "Prev round", id="replay.prev_round"),
        Binding("right_square_bracket", "round(1)", "Next round", id="replay.next_round"),
        Binding("home", "restart", "Restart", id="replay.restart"),
    ]
    DEFAULT_CSS = """
    ReplayScreen #replay-status { height: 1; padding: 0 1; background: $boost; }
    ReplayScreen #replay-summary { height: auto; max-height: 8; }
    """

    def __init__(self, session: Session, speed: float = 1.0) -> None:
        super().__init__()
        self.session = session
        self.plan = ReplayPlan.of(session)
        self.speed = INSTANT if speed <= 0 or speed == INSTANT else float(speed)
        self.position_ns = 0.0  # on the recorded timeline
        self.paused = False
        self.done = asyncio.Event()  # set whenever the replay reaches its end
        self.current = -1
        self._cursors: list[_Cursor] = []
        # (recorded offset, target label) of this round's first token and finish
        self._first_token: tuple[int, str] | None = None
        self._first_finish: tuple[int, str] | None = None
        self._last_tick: float | None = None
        self._panes: dict[str, ProbePane] = {}
        self._finished: list[ProbeResult] = []  # replayed to their end, for the summary
        self._summary_dirty = False
        # Wall-clock (monotonic) start of playing and when the end was reached.
        self.started_at: float | None = None
        self.ended_at: float | None = None

    # -- layout -----------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="replay-status", markup=False)
        with PaneGrid(id="replay-panes"):
            for i, target in enumerate(self.plan.targets):
                # Seconds in a pane header count on the recorded timeline (4x: 4 s a second).
                pane = ProbePane(target, clock=self._timeline_ns, id=f"replay-pane-{i}")
                self._panes[target.label] = pane
                yield pane
        yield SummaryTable(id="replay-summary")
        yield AppFooter()

    def on_mount(self) -> None:
        self.title = f"replay · session {one_line(self.session.session_id[:12])}"
        self.sub_title = summary_line(self.session.params.prompt, 60)
        if not self.plan.rounds:
            self.notify("this session has no probes to replay", severity="warning")
            self.done.set()
            self._render_status()
            return
        # Panes lay out first, so text wraps at their real width.
        self.call_after_refresh(self._start)

    def _start(self) -> None:
        self._enter_round(0)
        self._last_tick = self.started_at = time.monotonic()
        if self.speed == INSTANT:
            self._advance_to(self.plan.duration_ns)
        self._frame()
        self.set_interval(FRAME_S, self._tick, name="replay-frame")

    # -- the timeline -------------------------------------------------------------
    def _timeline_ns(self) -> int:
        return int(self.position_ns)

    @property
    def panes(self) -> list[ProbePane]:
        return [self._panes[t.label] for t in self.plan.targets]

    @property
    def at_end(self) -> bool:
        return bool(self.plan.rounds) and self.position_ns >= self.plan.duration_ns and all(
            c.finished for c in self._cursors)

    def _enter_round(self, index: int) -> None:
        """Start round `index` on every pane that has a probe in it."""
        self.current = index
        rnd = self.plan.rounds[index]
        self.position_ns = max(self.position_ns, rnd.start_ns)
        self._cursors = []
        self._first_token = self._first_finish = None
        for label, probe in rnd.probes.items():
            pane = self._panes[label]
            pane.begin(probe.probe_id, probe.seq, probe.warmup)
            pane.set_badges(False, False)
            pane.note = f"round {index + 1}/{len(self.plan.rounds)}"
            self._cursors.append(_Cursor(probe, pane))

    def _advance_to(self, position_ns: float) -> None:
        self.position_ns = min(position_ns, float(self.plan.duration_ns))
        while True:
            rnd = self.plan.rounds[self.current]
            self._deliver(self.position_ns - rnd.start_ns)
            nxt = self.current + 1
            if nxt < len(self.plan.rounds) and self.position_ns >= self.plan.rounds[nxt].start_ns:
                self._enter_round(nxt)
                continue
            break

    def _deliver(self, local_ns: float) -> None:
        """Hand every chunk and finish due by `local_ns` (from the round's
        start) to its pane."""
        for cur in self._cursors:
            probe, chunks = cur.probe, cur.probe.chunks
            while cur.next_chunk < len(chunks) and chunks[cur.next_chunk].offset_ns <= local_ns:
                chunk = chunks[cur.next_chunk]
                cur.pane.append(chunk.kind, chunk.text, chunk.offset_ns)
                cur.next_chunk += 1
                # One frame may deliver several panes' chunks: the badge goes
                # to the earliest recorded offset, not the first pane served.
                if chunk.kind is ChunkKind.CONTENT and (
                        self._first_token is None or chunk.offset_ns < self._first_token[0]):
                    self._first_token = (chunk.offset_ns, probe.target.label)
            end_ns = probe_end_ns(probe)
            if not cur.finished and cur.next_chunk == len(chunks) and end_ns <= local_ns:
                cur.finished = True
                cur.pane.finish(probe)
                self._finished.append(probe)
                self._summary_dirty = True
                if probe.status is Status.OK and (self._first_finish is None or end_ns < self._first_finish[0]):
                    self._first_finish = (end_ns, probe.target.label)
        if len(self._cursors) > 1:
            token = self._first_token[1] if self._first_token else None
            finish = self._first_finish[1] if self._first_finish else None
            for cur in self._cursors:
                label = cur.probe.target.label
                cur.pane.set_badges(label == token, label == finish)

    def _tick(self) -> None:
        now = time.monotonic()
        last, self._last_tick = self._last_tick, now
        if self.paused or not self.plan.rounds or last is None:
            return
        # Instant jumps when chosen; afterwards it only moves on a seek.
        if not self.at_end and self.speed != INSTANT:
            self._advance_to(self.position_ns + (now - last) * 1e9 * self.speed)
        self._frame()

    def _frame(self) -> None:
        for pane in self.panes:
            pane.flush()
        if self._summary_dirty:
            self._summary_dirty = False
            order = {t.label: i for i, t in enumerate(self.plan.targets)}
            finished = sorted(self._finished, key=lambda p: (order[p.target.label], p.seq))
            self.query_one(SummaryTable).update_from(metrics.summarize(finished),
                                                     labels=[t.label for t in self.plan.targets],
                                                     probes=finished)
        if self.at_end:
            if not self.done.is_set():
                self.ended_at = time.monotonic()
            self.done.set()
        else:
            self.done.clear()
        self._render_status()

    def _render_status(self) -> None:
        status = self.query_one("#replay-status", Static)
        if not self.plan.rounds:
            status.update(Text("nothing to replay", style="dim"))
            return
        rnd = self.plan.rounds[self.current]
        local = max(0.0, min(self.position_ns - rnd.start_ns, rnd.duration_ns))
        state = "paused" if self.paused else ("finished" if self.at_end else "playing")
        glyph = "‖" if self.paused else ("■" if self.at_end else "▶")
        text = Text()
        text.append(f"{glyph} {speed_label(self.speed)}", style="bold")
        text.append(f"  {state}", style="yellow" if self.paused else ("green" if self.at_end else "cyan"))
        text.append(f"  round {self.current + 1}/{len(self.plan.rounds)}")
        text.append(f" (#{rnd.seq}{' warm-up' if rnd.warmup else ''})", style="dim")
        text.append(f"  {local / 1e9:.2f} s / {rnd.duration_ns / 1e9:.2f} s recorded", style="")
        text.append(f"  · whole session {self.plan.duration_ns / 1e9:.2f} s at 1x", style="dim")
        status.update(text)

    # -- actions ------------------------------------------------------------------
    def action_speed(self, speed: float) -> None:
        self.speed = INSTANT if speed <= 0 else float(speed)
        self._last_tick = time.monotonic()
        if self.speed == INSTANT and self.plan.rounds:
            self.paused = False
            self._advance_to(self.plan.duration_ns)
            self._frame()
        self._render_status()
        self.refresh_bindings()
        self.notify(f"replay speed {speed_label(self.speed)}", timeout=1.5)

    def action_cycle_speed(self) -> None:
        index = SPEEDS.index(self.speed) if self.speed in SPEEDS else -1
        nxt = SPEEDS[(index + 1) % len(SPEEDS)]
        self.action_speed(0 if nxt == INSTANT else nxt)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "pause":
            return not self.paused
        if action == "play":
            return self.paused
        return True

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        self._last_tick = time.monotonic()
        self._render_status()
        self.refresh_bindings()

    def action_pause(self) -> None:
        if not self.paused:
            self.action_toggle_pause()

    def action_play(self) -> None:
        if self.paused:
            self.action_toggle_pause()

    def action_round(self, step: int) -> None:
        if not self.plan.rounds:
            return
        self.seek_round(max(0, min(len(self.plan.rounds) - 1, self.current + step)))

    def action_restart(self) -> None:
        if self.plan.rounds:
            if self.speed == INSTANT:
                self.speed = 1.0
            self.seek_round(0)

    def seek_round(self, index: int) -> None:
        """Play round `index` from its start (at instant speed: show its end)."""
        rnd = self.plan.rounds[index]
        self.seek(rnd.end_ns if self.speed == INSTANT else rnd.start_ns)

    def seek(self, position_ns: float) -> None:
        """Show the replay as it is `position_ns` into the recorded timeline
        (its round begun again, everything due by then delivered)."""
        if not self.plan.rounds:
            return
        position_ns = max(0.0, min(float(position_ns), float(self.plan.duration_ns)))
        index = self.plan.round_at(position_ns)
        self.position_ns = float(self.plan.rounds[index].start_ns)
        self._finished = [p for rnd in self.plan.rounds[:index] for p in rnd.probes.values()]
        self._summary_dirty = True
        self._enter_round(index)
        self._last_tick = time.monotonic()
        self._advance_to(position_ns)
        self._frame()

    def action_close(self) -> None:
        self.app.pop_screen()
