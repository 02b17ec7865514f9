"""One target's pane: its streamed text, a live header, a sparkline of gaps.

The pane never measures. While a probe streams it keeps a small live record
shaped like a `ProbeResult` (offsets exactly as the core reported them) and
asks `infertui.core.metrics` for the numbers; once the probe has finished, the
header shows the metrics of the finished result. Text is buffered by `append`
and drawn by `flush`, which the app's frame timer calls (about 25 times a
second), so a fast stream never costs one refresh per token.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Collapsible, Sparkline, Static

from infertui.core import metrics
from infertui.core.result import ERROR_KIND_HELP, Chunk, ChunkKind, ProbeResult, Status
from infertui.core.targets import Target
from infertui.tui import fmt
from infertui.tui.widgets.streamtext import StreamText

SPARK_POINTS = 120  # gaps kept for the live sparkline
# While streaming, the text is drawn on every frame; the header's live numbers
# and the sparkline only every this many ns (they change little between frames).
LIVE_STATS_EVERY_NS = 200_000_000

_STATUS_STYLE = {
    "idle": "dim", "waiting": "yellow", "streaming": "cyan", "ok": "green",
    "error": "bold red", "cancelled": "magenta",
}


def _spark_points(gaps: list[float]) -> list[float]:
    """Fewer than two gaps draw as one full-width bar, which says nothing."""
    return gaps if len(gaps) >= 2 else []


def _estimate(value: float | None) -> str:
    return fmt.DASH if value is None else "~" + fmt.num(value)


class ProbePane(Vertical, can_focus=True):
    """The live view of one target's probe (and the static view of a finished one)."""

    def __init__(self, target: Target, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None, disabled: bool = False) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.target = target
        self.probe_id: str | None = None
        self.seq = 0
        self.warmup = False
        self.status = "idle"
        self.result: ProbeResult | None = None
        self.note = ""  # e.g. "2 in flight · 3/5 done", set by the screen
        self._first_token = False
        self._first_finish = False
        self._live = ProbeResult(probe_id="", target=target)
        self._live_tokens = 0
        self._began_ns: int | None = None
        self._pending_reasoning = False
        self._header_cache: str | None = None
        self._gaps_dirty = False
        self._stats_drawn_ns = 0
        self._header_view = Static(self._header(), classes="pane-header", markup=False)
        self._spark = Sparkline([], classes="pane-spark")
        self._reasoning = StreamText(classes="reasoning-text")
        self._reasoning_box = Collapsible(self._reasoning, title="reasoning", collapsed=False,
                                          classes="pane-reasoning")
        self._content = StreamText(classes="content-text")
        self._error_view = Static("", classes="pane-error", markup=False)

    def compose(self) -> ComposeResult:
        yield self._header_view
        yield self._spark
        yield self._reasoning_box
        yield self._content
        yield self._error_view

    def on_mount(self) -> None:
        self.border_title = self.target.label
        self._reasoning_box.display = False
        self._error_view.display = False
        # Text given before the pane was on screen (show_result right after mount).
        self.call_after_refresh(self._catch_up)

    def _catch_up(self) -> None:
        if self.result is not None:
            self.finish(self.result)
        else:
            self.flush()

    # -- the contract -----------------------------------------------------------
    def begin(self, probe_id: str, seq: int, warmup: bool) -> None:
        """A new probe starts in this pane: clear it and wait for text."""
        self.probe_id, self.seq, self.warmup = probe_id, seq, warmup
        self.status = "waiting"
        self.result = None
        self._live = ProbeResult(probe_id=probe_id, target=self.target, seq=seq, warmup=warmup)
        self._live_tokens = 0
        self._began_ns = time.perf_counter_ns()
        self._stats_drawn_ns = 0
        self._gaps_dirty = True
        self.set_class(warmup, "-warmup")
        self.remove_class("-error", "-ok", "-cancelled")
        self._content.clear()
        self._reasoning.clear()
        if self.is_mounted:
            self._reasoning_box.display = False
            self._error_view.display = False
            self._render_header()

    def reset(self) -> None:
        """Back to an empty pane waiting for a run (the same target runs again)."""
        self.begin("", 0, False)
        self.probe_id = None
        self.status = "idle"
        self.set_badges(False, False)
        self.note = ""
        self._header_cache = None
        self._spark.data = []
        self._render_header()

    def append(self, kind: ChunkKind, text: str, offset_ns: int | None = None) -> None:
        """Buffer one chunk. `offset_ns` (from request sent, as the core measured
        it) feeds the live TTFT and gap sparkline; without it only text shows."""
        if self.status in ("waiting", "idle"):
            self.status = "streaming"
        if kind is ChunkKind.REASONING:
            self._reasoning.append(text)
            self._pending_reasoning = True
        else:
            self._content.append(text)
        if offset_ns is not None:
            live = self._live
            live.chunks.append(Chunk(offset_ns, kind, ""))
            if kind is ChunkKind.CONTENT:
                if live.first_content_ns is None:
                    live.first_content_ns = offset_ns
            elif live.first_reasoning_ns is None:
                live.first_reasoning_ns = offset_ns
            live.last_token_ns = offset_ns
            if len(live.chunks) > 2 * SPARK_POINTS:
                del live.chunks[:SPARK_POINTS]
            self._gaps_dirty = True

    def flush(self) -> None:
        """Draw what was buffered since the last flush (the frame timer calls this)."""
        if not self.is_mounted:
            return
        if self._pending_reasoning:
            self._pending_reasoning = False
            box = self._reasoning_box
            if not box.display:
                box.display = True
        delta_reasoning = self._reasoning.pending_text
        delta_content = self._content.pending_text
        if delta_reasoning or delta_content:
            self._live_tokens += (metrics.estimate_tokens(delta_reasoning)
                                  + metrics.estimate_tokens(delta_content))
        self._reasoning.flush()
        self._content.flush()
        now = time.perf_counter_ns()
        if self.result is None and now - self._stats_drawn_ns < LIVE_STATS_EVERY_NS:
            return
        self._stats_drawn_ns = now
        if self._gaps_dirty and self.result is None:
            self._gaps_dirty = False
            self._spark.data = _spark_points(metrics.chunk_gaps_ms(self._live)[-SPARK_POINTS:])
        self._render_header()

    def finish(self, result: ProbeResult) -> None:
        """The probe ended: final numbers from the finished result, error details shown."""
        if self.probe_id is None or self.probe_id != result.probe_id:
            self.probe_id, self.seq, self.warmup = result.probe_id, result.seq, result.warmup
        self.result = result
        self.status = str(result.status)
        self.flush()
        if not self.is_mounted:
            return
        self.set_class(result.status is Status.OK, "-ok")
        self.set_class(result.status is Status.ERROR, "-error")
        self.set_class(result.status is Status.CANCELLED, "-cancelled")
        self._spark.data = _spark_points(metrics.chunk_gaps_ms(result)[-SPARK_POINTS * 4:])
        error_box = self._error_view
        if result.error is not None:
            text = Text(fmt.error_line(result.error), style="bold")
            text.append("\n" + result.error.message, style="")
            text.append("\n" + ERROR_KIND_HELP.get(result.error.kind, ""), style="dim")
            error_box.update(text)
            error_box.display = True
        elif result.status is Status.CANCELLED:
            error_box.update(Text("cancelled: the text so far is kept", style="italic"))
            error_box.display = True
        else:
            error_box.display = False
        self._render_header()

    def show_result(self, result: ProbeResult) -> None:
        """Render a finished probe all at once (history, session view)."""
        self.begin(result.probe_id, result.seq, result.warmup)
        for chunk in result.chunks:
            if chunk.kind is ChunkKind.REASONING:
                self._reasoning.append(chunk.text)
                self._pending_reasoning = True
            else:
                self._content.append(chunk.text)
        if not result.chunks and result.text:
            self._content.append(result.text)
        self.finish(result)

    def set_badges(self, first_token: bool, first_finish: bool) -> None:
        if (first_token, first_finish) != (self._first_token, self._first_finish):
            self._first_token, self._first_finish = first_token, first_finish
            self._render_header()

    # -- reading back -----------------------------------------------------------
    @property
    def text(self) -> str:
        return self._content.text

    @property
    def reasoning_text(self) -> str:
        return self._reasoning.text

    @property
    def header_text(self) -> str:
        return self._header().plain

    # -- drawing ----------------------------------------------------------------
    def _header(self) -> Text:
        status = self.status
        line = Text()
        line.append("● ", style=_STATUS_STYLE.get(status, ""))
        line.append(status, style=_STATUS_STYLE.get(status, ""))
        if self.probe_id is not None:
            line.append(f"  #{self.seq}", style="dim")
        if self.warmup:
            line.append("  warm-up", style="italic dim")
        if self._first_token:
            line.append("  ", style="")
            line.append(" 1st token ", style="bold reverse green")
        if self._first_finish:
            line.append("  ", style="")
            line.append(" 1st finish ", style="bold reverse cyan")
        if self.note:
            line.append(f"  {self.note}", style="dim")
        line.append("\n")
        r = self.result
        if r is not None:
            count, source = metrics.output_tokens(r)
            tokens = fmt.DASH if count is None else (f"{count}" if source == "usage" else f"~{count}")
            line.append_text(Text.assemble(
                ("TTFT ", "dim"), fmt.ms(metrics.ttft_ms(r)),
                ("  tok ", "dim"), tokens,
                ("  tok/s ", "dim"), fmt.num(metrics.decode_tps(r)),
                ("  e2e ", "dim"), fmt.ms(metrics.e2e_ms(r)),
            ))
        elif self.probe_id is not None:
            live = self._live
            live.usage.output_tokens = self._live_tokens or None
            elapsed = (time.perf_counter_ns() - self._began_ns) / 1e9 if self._began_ns else 0.0
            line.append_text(Text.assemble(
                ("TTFT ", "dim"), fmt.ms(metrics.ttft_ms(live)),
                ("  tok ", "dim"), f"~{self._live_tokens}",
                ("  tok/s ", "dim"), _estimate(metrics.decode_tps(live)),
                ("  ", "dim"), (fmt.seconds(elapsed), "dim"),
            ))
        else:
            line.append("waiting for a run", style="dim")
        return line

    def _render_header(self) -> None:
        if not self.is_mounted:
            return
        header = self._header()
        key = header.plain
        if key != self._header_cache:
            self._header_cache = key
            self._header_view.update(header, layout=False)
