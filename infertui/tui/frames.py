"""Drawing a run's feed into its panes, a frame at a time.

The compare screen's frame timer calls `PaneDrawer.draw` about 25 times a
second. Drawing is rationed: when the previous frame came late (the loop was
busy drawing or receiving), fewer panes are drawn per frame, in turn; the
others keep their text buffered for the next one. So the app degrades to a
lower frame rate per pane, never to a stalled loop.
"""

from __future__ import annotations

import time
from typing import Callable, Mapping

from infertui.tui.feed import RunFeed
from infertui.tui.widgets.pane import ProbePane

FPS = 25
ENDINGS_PER_FRAME = 3  # finished probes drawn per frame (each restyles its pane)
LATE_FRAME_MS = 15.0  # a frame this late means the loop is busy: draw fewer panes


class PaneDrawer:
    def __init__(self, panes: Mapping[str, ProbePane], feed: RunFeed,
                 wall: Callable[[], float] = time.perf_counter) -> None:
        self.panes = panes
        self.feed = feed
        self.wall = wall  # drawing cadence only, never a measurement
        self.budget = max(1, len(panes))  # panes drawn per frame
        self._next = 0
        self._last_frame_at = 0.0

    def draw(self, final: bool = False) -> None:
        """Hand every pane what arrived since the last frame (all of it and
        every ending when `final`)."""
        feed = self.feed
        self._adapt_budget(final)
        panes = list(self.panes.items())
        budget = len(panes) if final else self.budget
        start = self._next % max(1, len(panes))
        order = panes[start:] + panes[:start]
        drawn = ended = 0
        many = feed.per_target > 1
        for label, pane in order:
            probe = feed.followed(label)
            if probe is None:
                continue
            if pane.probe_id != probe.probe_id:
                pane.begin(probe.probe_id, probe.seq, probe.warmup, sent_ns=probe.sent_ns)
                probe.shown = 0
            if probe.shown < len(probe.texts):
                for kind, text, offset in feed.chunks_since(probe, probe.shown):
                    pane.append(kind, text, offset)
                probe.shown = len(probe.texts)
            if many:
                running, done = feed.progress(label)
                pane.note = f"{done}/{feed.per_target} done" + (f" · {running} running" if running else "")
            result = probe.result
            if (result is not None and pane.result is not result
                    and (final or ended < ENDINGS_PER_FRAME)):
                # A few per frame: when a dozen probes end together, their
                # restyles and redraws would otherwise all land in one frame.
                ended += 1
                pane.finish(result)
            elif drawn < budget:
                drawn += 1
                pane.flush()
                self._next = (self._next + 1) % max(1, len(panes))

    def _adapt_budget(self, final: bool) -> None:
        now = self.wall()
        late_ms = (now - self._last_frame_at) * 1000 - 1000 / FPS if self._last_frame_at else 0.0
        self._last_frame_at = 0.0 if final else now
        if late_ms > LATE_FRAME_MS:
            self.budget = max(1, int(self.budget * 0.7))
        elif late_ms < LATE_FRAME_MS / 3:
            self.budget = min(len(self.panes) or 1, self.budget + 1)
