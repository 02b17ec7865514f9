"""One target's pane: its streamed text, a live header, a sparkline of gaps.

The pane never measures. While a probe streams it keeps a small live record
shaped like a `ProbeResult` (offsets exactly as the core reported them) and
asks `infertui.core.metrics` for the numbers; once the probe has finished, the
header shows the metrics of the finished result. Text is buffered by `append`
and drawn by `flush`, which the app's frame timer calls (about 25 times a
second), so a fast stream never costs one refresh per token.
"""

from __future__ import annotations

import itertools
import time

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.widgets import Collapsible, Static

from infertui.core import metrics
from infertui.core.clock import Clock
from infertui.core.result import ERROR_KIND_HELP, ChunkKind, ProbeResult, Status
from infertui.core.targets import Target
from infertui.textsafe import display
from infertui.tui import fmt
from infertui.tui.widgets.paneheader import HeaderModel, PaneHeader, Part, gap
from infertui.tui.widgets.streamtext import StreamText

SPARK_POINTS = 120  # gaps kept for the live sparkline
# While streaming, the text is drawn on every frame; the header's live numbers
# and the sparkline only once in every slot of this many ns of wall time (they
# change little between frames). Each pane's slots start at a different phase:
# a dozen headers redrawn in one frame make a frame long enough to delay
# reading a first byte that arrives meanwhile, and while every probe waits for
# its first byte, the seconds counting in the headers are all there is to draw.
LIVE_STATS_EVERY_NS = 200_000_000
STATS_PHASE_STEP_NS = 53_000_000
_pane_numbers = itertools.count()
SPARK_MIN_ROWS = 8  # a pane with fewer rows inside its border shows no sparkline

_STATUS_STYLE = {
    "idle": "dim", "waiting": "yellow", "streaming": "cyan", "ok": "green",
    "error": "bold red", "cancelled": "magenta",
}


def _set_cells(styles, rule: str, cells: int) -> None:
    """Set a size only when it changes: any set lays out the screen again."""
    current = getattr(styles, rule)
    if current is None or current.cells != cells:
        setattr(styles, rule, cells)


def _compact(value: str) -> str:
    """`160 ms` -> `160ms`: the narrowest header rows drop the space."""
    return value.replace(" ms", "ms").replace(" s", "s")


def number_parts(ttft: str, tokens: str, tps: str, time_label: str, time: str,
                 time_style: str = "") -> list[Part]:
    """The numbers row. When it is too wide: the token count goes, the units
    lose their spaces, then the time goes (e2e, or the seconds since the
    request); TTFT and tok/s always stay."""
    return [
        Part.of(Text.assemble(("TTFT", "dim"), gap(), ttft), Text.assemble(("TTFT", "dim"), gap(), _compact(ttft)),
                steps=(35,)),
        Part.of(Text.assemble(tokens, gap(), ("tok", "dim")), steps=(30,)),
        Part.of(Text.assemble(tps, gap(), ("tok/s", "dim")), Text.assemble(tps, gap(), ("t/s", "dim")), steps=(35,)),
        Part.of(Text.assemble((time_label, "dim"), gap() if time_label else "", (time, time_style)),
                Text.assemble((time_label, "dim"), gap() if time_label else "", (_compact(time), time_style)),
                steps=(35, 50)),
    ]


NumberValues = tuple[str, str, str, str, str]  # (ttft, tokens, tps, time label, time)


def widest_values(a: NumberValues, b: NumberValues) -> NumberValues:
    """Piece by piece, the wider of two numbers rows' values."""
    # Five values in each, five out: tuple() cannot say so.
    return tuple(x if len(x) >= len(y) else y for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def status_parts(seq: str | bool, warmup: bool, first_token: bool, first_finish: bool,
                 note: str, *, by_median: bool = False, lag_ms: float | None = None) -> list[Part]:
    """The status row after the status itself. When it is too wide: the
    sequence number goes, the note loses its tail then goes, the badges
    shorten, and only then does "warm-up" go, then the badges. A probe timed
    while infertui itself was late (`lag_ms`) says so, to the narrowest row.

    The badges name what they rest on: with one probe per target, the probe
    whose first token came first ("1st token") and that finished first ("1st
    finish"); with several (`by_median`), the target with the lowest TTFT p50
    and e2e p50 over the run, the summary's numbers, not the probe the header
    shows."""
    parts = []
    if lag_ms is not None:
        lag = fmt.ms(lag_ms)
        parts.append(Part.of(Text(f"⚠ client lag {lag}", style="bold yellow"),
                             Text(f"⚠ lag {lag.replace(' ', '')}", style="bold yellow"),
                             Text("⚠ lag", style="bold yellow"), steps=(25, 45)))
    if seq:
        parts.append(Part.of(Text(str(seq), style="dim"), steps=(10,)))
    if warmup:
        parts.append(Part.of(Text("warm-up", style="italic dim"), steps=(40,)))
    if by_median:
        token_forms, finish_forms = (" best TTFT p50 ", " best TTFT "), (" best e2e p50 ", " best e2e ")
    else:
        token_forms, finish_forms = (" 1st token ", " 1st tok "), (" 1st finish ", " 1st fin ")
    if first_token:
        parts.append(Part.of(*(Text(f, style="bold reverse green") for f in token_forms), steps=(30, 61)))
    if first_finish:
        parts.append(Part.of(*(Text(f, style="bold reverse cyan") for f in finish_forms), steps=(30, 60)))
    if note:
        head = note.split(" · ", maxsplit=1)[0]  # "2/4 done · 1 running" -> "2/4 done"
        forms = [note, head] if head != note else [note]
        parts.append(Part.of(*(Text(f, style="dim") for f in forms), steps=(15, 20)[2 - len(forms):]))
    return parts


class ProbePane(Vertical, can_focus=True):
    """The live view of one target's probe (and the static view of a finished one)."""

    BINDINGS = [
        Binding("up", "scroll_text(-1)", "Scroll up", show=False, id="pane.scroll_up"),
        Binding("down", "scroll_text(1)", "Scroll down", show=False, id="pane.scroll_down"),
        Binding("pageup", "page_text(-1)", "Page up", show=False, id="pane.page_up"),
        Binding("pagedown", "page_text(1)", "Page down", show=False, id="pane.page_down"),
    ]

    def __init__(self, target: Target, *, clock: Clock | None = None, name: str | None = None,
                 id: str | None = None, classes: str | None = None, disabled: bool = False) -> None:
        """`clock` times the seconds shown while a probe runs (ns); None: the
        app's clock (`create_app(clock=...)`), else the monotonic clock."""
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.target = target
        self.clock = clock
        self.probe_id: str | None = None
        self.seq = 0
        self.warmup = False
        self.status = "idle"
        self.result: ProbeResult | None = None
        self.note = ""  # e.g. "3/5 done · 2 running", set by the screen
        self._first_token = False
        self._first_finish = False
        self._badges_by_median = False
        self._live = ProbeResult(probe_id="", target=target)
        self._live_tokens = 0
        self._began_ns: int | None = None
        self._pending_reasoning = False
        self._unestimated: list[str] = []  # text not yet in the live token estimate
        self._gaps: tuple[float, ...] = ()
        self._gaps_dirty = False
        self._stats_phase_ns = next(_pane_numbers) * STATS_PHASE_STEP_NS % LIVE_STATS_EVERY_NS
        self._stats_slot: int | None = None  # the slot the live numbers were last drawn in
        self._header = PaneHeader(self._header_model(), classes="pane-header")
        self._reasoning = StreamText(classes="reasoning-text")
        # Mounted when the first reasoning arrives: most targets never reason,
        # and every widget in a pane makes its restyles (each status change)
        # and its first mount cost more.
        self._reasoning_box: Collapsible | None = None
        self._content = StreamText(classes="content-text")
        self._error_view = Static("", classes="pane-error", markup=False)
        # Set before mounting: once mounted, each would lay the screen out again.
        self._error_view.display = False
        self.border_title = fmt.cell(target.label)

    def compose(self) -> ComposeResult:
        yield self._header
        yield self._content
        yield self._error_view

    def on_mount(self) -> None:
        # Text given before the pane was on screen (show_result right after mount).
        self.call_after_refresh(self._catch_up)

    def on_resize(self) -> None:
        # A short pane (a dozen targets in a small terminal) keeps its rows for
        # text: no sparkline row under 8 rows, and the reasoning box takes at
        # most a third of what is left. Panes in a grid differ by a row at
        # most; they decide on the grid's average, so that they all look alike.
        rows = self.size.height
        parent = self.parent
        if isinstance(parent, Grid) and parent.styles.grid_size_rows:
            rows = parent.size.height // parent.styles.grid_size_rows - self.styles.gutter.height
        _set_cells(self._header.styles, "height", 3 if rows >= SPARK_MIN_ROWS else 2)
        if isinstance(parent, Grid) and parent.styles.grid_size_columns:
            # Fitted to the grid's narrowest column, so neighbours drop the same pieces.
            narrowest = parent.size.width // parent.styles.grid_size_columns - self.styles.gutter.width
            if narrowest > 0 and narrowest != self._header.fit_width:
                self._header.fit_width = narrowest
                self._render_header()
        _set_cells(self._reasoning.styles, "max_height", max(1, min(6, (rows - 3) // 3)))

    def _catch_up(self) -> None:
        if self.result is not None:
            self.finish(self.result)
        else:
            self.flush()

    def _now_ns(self) -> int:
        clock = self.clock
        if clock is None:
            try:
                clock = getattr(self.app, "clock", None)
            except Exception:  # noqa: BLE001 - no app yet (a pane built outside one)
                clock = None
        return (clock or time.perf_counter_ns)()

    # -- the contract -----------------------------------------------------------
    def begin(self, probe_id: str, seq: int, warmup: bool, sent_ns: int | None = None) -> None:
        """A new probe starts in this pane: clear it and wait for text. Its
        seconds count from `sent_ns` (the clock's time the request went out),
        else from now."""
        self.probe_id, self.seq, self.warmup = probe_id, seq, warmup
        self.status = "waiting"
        self.result = None
        self._live = ProbeResult(probe_id=probe_id, target=self.target, seq=seq, warmup=warmup)
        self._live_tokens = 0
        self._unestimated.clear()
        self._began_ns = self._now_ns() if sent_ns is None else sent_ns
        self._stats_slot = None  # the first flush draws them
        self._gaps = ()
        self._gaps_dirty = False
        self.set_class(warmup, "-warmup")
        self.remove_class("-error", "-ok", "-cancelled")
        self._content.clear()
        self._reasoning.clear()
        if self.is_mounted:
            if self._reasoning_box is not None:
                self._reasoning_box.display = False
            self._error_view.display = False
            self._render_header()

    def reset(self) -> None:
        """Back to an empty pane waiting for a run (the same target runs again)."""
        self.begin("", 0, False)
        self.probe_id = None
        self.status = "idle"
        self._began_ns = None
        self.note = ""
        self._first_token = self._first_finish = False
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
        self._unestimated.append(text)
        if offset_ns is not None:
            live = self._live
            live.record_chunk(offset_ns, kind, "")
            if len(live.chunks) > 2 * SPARK_POINTS:
                del live.chunks[:SPARK_POINTS]
            self._gaps_dirty = True

    def flush(self) -> None:
        """Draw what was buffered since the last flush (the frame timer calls this)."""
        if not self.is_mounted:
            return
        if self._pending_reasoning:
            self._pending_reasoning = False
            self._show_reasoning()
        if self._unestimated:
            self._live_tokens += metrics.estimate_tokens("".join(self._unestimated))
            self._unestimated.clear()
        self._reasoning.flush()
        self._content.flush()
        slot = self._slot(time.perf_counter_ns())  # drawing cadence, not a measurement
        if self.result is None and slot == self._stats_slot:
            return
        self._stats_slot = slot
        if self._gaps_dirty and self.result is None:
            self._gaps_dirty = False
            self._gaps = tuple(metrics.chunk_gaps_ms(self._live)[-SPARK_POINTS:])
        self._render_header()

    def _slot(self, wall_ns: int) -> int:
        return (wall_ns + self._stats_phase_ns) // LIVE_STATS_EVERY_NS

    def finish(self, result: ProbeResult) -> None:
        """The probe ended: final numbers from the finished result, error details shown."""
        if self.probe_id is None or self.probe_id != result.probe_id:
            self.probe_id, self.seq, self.warmup = result.probe_id, result.seq, result.warmup
        self.result = result
        self.status = str(result.status)
        self._gaps = tuple(metrics.chunk_gaps_ms(result)[-SPARK_POINTS * 4:])
        self.flush()
        if not self.is_mounted:
            return
        self.set_class(result.status is Status.OK, "-ok")
        self.set_class(result.status is Status.ERROR, "-error")
        self.set_class(result.status is Status.CANCELLED, "-cancelled")
        error_box = self._error_view
        if result.error is not None:
            text = Text(fmt.error_line(result.error), style="bold")
            text.append("\n" + display(result.error.message), style="")
            text.append("\n" + ERROR_KIND_HELP.get(result.error.kind, ""), style="dim")
            error_box.update(text)
            error_box.display = True
        elif result.status is Status.CANCELLED:
            error_box.update(Text("cancelled: the text so far is kept", style="italic"))
            error_box.display = True
        else:
            error_box.display = False

    def _show_reasoning(self) -> None:
        box = self._reasoning_box
        if box is None:
            box = self._reasoning_box = Collapsible(self._reasoning, title="reasoning", collapsed=False,
                                                    classes="pane-reasoning")
            self.mount(box, before=self._content)
        elif not box.display:
            box.display = True

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

    def set_badges(self, first_token: bool, first_finish: bool, by_median: bool = False) -> None:
        """Badge this pane: first token and first finish of single probes, or
        (`by_median`) the best TTFT p50 and e2e p50 of a run of several."""
        badges = (first_token, first_finish, by_median)
        if badges != (self._first_token, self._first_finish, self._badges_by_median):
            self._first_token, self._first_finish, self._badges_by_median = badges
            self._render_header()

    # -- keys ---------------------------------------------------------------------
    def action_scroll_text(self, lines: int) -> None:
        self._content.scroll_lines(lines)

    def action_page_text(self, pages: int) -> None:
        self._content.page(pages)

    # -- reading back -----------------------------------------------------------
    @property
    def text(self) -> str:
        return self._content.text

    @property
    def reasoning_text(self) -> str:
        return self._reasoning.text

    @property
    def header_text(self) -> str:
        """The header's two text rows, at their longest."""
        return self._header_model().plain()

    # -- drawing ----------------------------------------------------------------
    def _header_model(self) -> HeaderModel:
        status = self.status
        style = _STATUS_STYLE.get(status, "")
        model = HeaderModel(Part.of(Text.assemble(("● ", style), (status, style))), gaps=self._gaps)
        r = self.result
        values: NumberValues | None = None
        time_style = ""
        lag = r.loop_lag_ms if r is not None and r.client_saturated else None
        model.status_parts = status_parts(self.probe_id is not None and f"#{self.seq}", self.warmup,
                                          self._first_token, self._first_finish, self.note,
                                          by_median=self._badges_by_median, lag_ms=lag)
        if r is not None:
            values = (fmt.ms(metrics.ttft_ms(r)), *fmt.tokens_and_tps(r), "e2e", fmt.ms(metrics.e2e_ms(r)))
        elif self.probe_id is not None:
            live = self._live
            live.usage.output_tokens = self._live_tokens or None
            tps = metrics.decode_tps(live)
            elapsed = 0.0 if self._began_ns is None else max(0, self._now_ns() - self._began_ns) / 1e9
            values = (fmt.ms(metrics.ttft_ms(live)), f"~{self._live_tokens}",
                      fmt.DASH if tps is None else "~" + fmt.num(tps), "", fmt.seconds(elapsed))
            time_style = "dim"
        else:
            model.placeholder = Text("waiting for a run", style="dim")
        if values is not None:
            model.numbers = number_parts(*values, time_style)
            # Fitted as the widest values of the panes beside it would be, so
            # that all of them show the same pieces at the same width.
            widest = getattr(self.parent, "widest_numbers", None)
            if widest is not None:
                model.numbers_template = number_parts(*widest(values))
        return model

    def refit_header(self) -> None:
        """Fit the header again (the widest values beside it changed)."""
        self._render_header()

    def _render_header(self) -> None:
        if self.is_mounted:
            self._header.update(self._header_model())
