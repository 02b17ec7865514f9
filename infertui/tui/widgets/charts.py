"""Text charts of what the core measured: range plots of TTFT and e2e per
target, decode-speed bars, and TTFT p50/p95 over time.

Every number drawn here comes from `infertui.core.metrics` (a `TargetSummary`'s
`Distribution`s, or the per-session p50/p95 the store keeps); the chart only
scales and places them. The `render_*` functions are pure (data and a width in,
a Rich `Text` out) so they can be tested without an app; the widgets redraw at
whatever width they are given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from rich.text import Text
from textual.widget import Widget

from infertui.core.metrics import Distribution, TargetSummary
from infertui.textsafe import display, one_line
from infertui.units import ms as fmt_ms
from infertui.units import num as fmt_tps
from infertui.units import tick_ms as axis_ms

# One colour per target, in session order, shared by every chart.
TARGET_COLOURS = ("#5fafff", "#ffaf5f", "#87d787", "#d787d7", "#d7d75f", "#5fd7d7", "#ff8787", "#afafff")
SPARKS = "▁▂▃▄▅▆▇█"
LABEL_MAX = 28
MIN_PLOT = 10


def target_colour(index: int) -> str:
    return TARGET_COLOURS[index % len(TARGET_COLOURS)]


def _short(label: str, width: int) -> str:
    return one_line(label, width)  # a target label is data: never a control character


def nice_step(span: float, ticks: int) -> float:
    """A 1, 2 or 5 times a power of ten step giving about `ticks` intervals."""
    if span <= 0:
        return 1.0
    raw = span / max(1, ticks)
    power = 10 ** math.floor(math.log10(raw))
    for mult in (1, 2, 2.5, 5, 10):
        if raw <= mult * power:
            return mult * power
    return 10 * power


def _axis(top: float, step: float, width: int, fmt) -> tuple[str, str]:
    """A ruler under a plot `width` cells wide spanning 0..top: a tick every
    `step`, each value starting at its tick (the last one ending there) and
    never overlapping its neighbour."""
    marks = ["─"] * width
    labels = [" "] * width
    next_free = 0
    count = round(top / step) if step > 0 else 0
    for k in range(count + 1):
        value = k * step
        col = _col(value, 0.0, top, width)
        marks[col] = "┌" if col == 0 else ("┐" if col == width - 1 else "┬")
        text = fmt(value)
        start = max(0, min(col, width - len(text)))
        if start >= next_free:
            labels[start:start + len(text)] = list(text)
            next_free = start + len(text) + 1
    return "".join(marks), "".join(labels)


def _col(value: float, lo: float, hi: float, width: int) -> int:
    if hi <= lo:
        return 0
    frac = (value - lo) / (hi - lo)
    return max(0, min(width - 1, round(frac * (width - 1))))


def _scale(values: Sequence[float], width: int) -> tuple[float, float]:
    """(top, step) of a 0-based axis: the largest value rounded up to a tick,
    about one tick per 12 cells."""
    biggest = max(values) if values else 0.0
    step = nice_step(biggest if biggest > 0 else 1.0, max(2, min(6, width // 12)))
    return max(step, math.ceil(biggest / step - 1e-9) * step), step


# --- range plots ---------------------------------------------------------------

@dataclass(frozen=True)
class RangeRow:
    """One target's spread of one measure."""

    label: str
    dist: Distribution
    colour: str = TARGET_COLOURS[0]


def range_rows(summary: Sequence[TargetSummary], measure: str) -> list[RangeRow]:
    """`measure` is a Distribution field of TargetSummary: "ttft_ms", "e2e_ms"."""
    return [RangeRow(row.target_label, getattr(row, measure), target_colour(i))
            for i, row in enumerate(summary)]


def _row_layout(rows: Sequence[RangeRow], stats, width: int) -> tuple[int, int, float, float]:
    """(label width, plot width, axis top, tick step) for one-row-per-target
    charts: labels left, the stats text right, the plot between on a shared
    0-based scale up to the largest max."""
    label_w = min(LABEL_MAX, max([len(r.label) for r in rows] + [6]))
    stats_w = max([len(stats(r.dist)) for r in rows] + [0])
    plot_w = max(MIN_PLOT, width - label_w - stats_w - 4)
    top, step = _scale([r.dist.max for r in rows if r.dist.max is not None], plot_w)
    return label_w, plot_w, top, step


def range_stats(dist: Distribution) -> str:
    if dist.n == 0:
        return "no successful probes"
    return f"p50 {fmt_ms(dist.p50)}  p95 {fmt_ms(dist.p95)}  max {fmt_ms(dist.max)}  n={dist.n}"


def render_range_chart(title: str, rows: Sequence[RangeRow], width: int) -> Text:
    """One line per target on a shared 0-based scale:

        label  ───────██████████──── p50 … p95 … max …
               min   p50      p95  max
    The solid bar runs from the median to the 95th percentile (the tail a
    user waits through one time in twenty); the thin line spans min..max."""
    label_w, plot_w, top, step = _row_layout(rows, range_stats, width)
    out = Text()
    out.append(title, style="bold")
    out.append("   ")
    out.append("─ min..max  ", style="dim")
    out.append("█ p50..p95  ", style="dim")
    out.append("┃ p50", style="dim")
    for row in rows:
        out.append("\n")
        out.append(_short(row.label, label_w).ljust(label_w), style=row.colour)
        out.append("  ")
        out.append_text(_range_cells(row, top, plot_w))
        out.append("  ")
        out.append(range_stats(row.dist), style="dim" if row.dist.n == 0 else "")
    ruler, labels = _axis(top, step, plot_w, axis_ms)
    pad = " " * (label_w + 2)
    out.append("\n" + pad + ruler, style="dim")
    out.append("\n" + pad + labels, style="dim")
    return out


def _range_cells(row: RangeRow, top: float, width: int) -> Text:
    d = row.dist
    cells = Text(" " * width)
    if d.n == 0 or d.min is None or d.max is None or d.p50 is None:
        return cells
    lo, hi = _col(d.min, 0, top, width), _col(d.max, 0, top, width)
    mid = _col(d.p50, 0, top, width)
    tail = _col(d.p95 if d.p95 is not None else d.p50, 0, top, width)
    chars = [" "] * width
    for i in range(lo, hi + 1):
        chars[i] = "─"
    chars[lo], chars[hi] = "├", "┤"
    for i in range(mid, tail + 1):
        chars[i] = "█"
    chars[mid] = "┃"
    if lo == hi:
        chars[lo] = "┃"
    cells = Text("".join(chars))
    cells.stylize(row.colour, lo, hi + 1)
    cells.stylize("bold reverse", mid, mid + 1)
    return cells


# --- decode speed bars ---------------------------------------------------------

def tps_stats(dist: Distribution) -> str:
    if dist.n == 0:
        return "no decode speed"
    return f"p50 {fmt_tps(dist.p50)} tok/s  min {fmt_tps(dist.min)}  max {fmt_tps(dist.max)}"


def render_tps_bars(title: str, rows: Sequence[RangeRow], width: int) -> Text:
    """A bar to each target's median decode speed, with its min..max range
    marked after it (`╶──╴`), on a shared 0-based scale."""
    label_w, plot_w, top, step = _row_layout(rows, tps_stats, width)
    out = Text()
    out.append(title, style="bold")
    for row in rows:
        out.append("\n")
        out.append(_short(row.label, label_w).ljust(label_w), style=row.colour)
        out.append("  ")
        d = row.dist
        chars = [" "] * plot_w
        end = 0
        if d.n and d.p50 is not None and d.min is not None and d.max is not None:
            lo, hi = _col(d.min, 0, top, plot_w), _col(d.max, 0, top, plot_w)
            end = _col(d.p50, 0, top, plot_w) + 1
            for i in range(lo, hi + 1):
                chars[i] = "─"
            chars[lo], chars[hi] = "╶", "╴"
            for i in range(end):
                chars[i] = "█"
        bar = Text("".join(chars))
        bar.stylize(row.colour, 0, plot_w)
        bar.stylize("dim", end, plot_w)
        out.append_text(bar)
        out.append("  ")
        out.append(tps_stats(d), style="dim" if d.n == 0 else "")
    ruler, labels = _axis(top, step, plot_w, lambda v: f"{v:g}")
    pad = " " * (label_w + 2)
    out.append("\n" + pad + ruler, style="dim")
    out.append("\n" + pad + labels, style="dim")
    return out


# --- over time -----------------------------------------------------------------

@dataclass(frozen=True)
class TrendPoint:
    """One past session's TTFT median and 95th percentile for a target."""

    at: str  # ISO 8601, when the session started
    p50: float | None
    p95: float | None
    session_id: str = ""


@dataclass(frozen=True)
class TrendSeries:
    label: str
    points: tuple[TrendPoint, ...]  # oldest first
    colour: str = TARGET_COLOURS[0]


def sparkline(values: Sequence[float | None], lo: float, hi: float, cell: int = 1) -> str:
    """`cell` cells per value; a missing value is a gap. Equal values sit
    mid-height, so a flat series does not look like zero."""
    out = []
    for v in values:
        if v is None:
            out.append(" " * cell)
            continue
        frac = 0.5 if hi <= lo else (v - lo) / (hi - lo)
        out.append(SPARKS[max(0, min(len(SPARKS) - 1, round(frac * (len(SPARKS) - 1))))] * cell)
    return "".join(out)


def _day(at: str) -> str:
    return at[:10] if len(at) >= 10 else at


def render_trends(title: str, series: Sequence[TrendSeries], width: int, min_points: int = 2,
                  highlight: str | None = None) -> Text:
    """Two sparklines per target, p50 and p95 on one 0-based scale per target, the
    newest session on the right; only targets seen in `min_points` sessions.
    The session `highlight` (an id) is drawn white, marked below and its
    values named.

        sim-alpha/demo-70b  p50 ▆▆▆▇▇▇▆▆▆  this 155 ms  newest 130 ms  min 130 ms  max 155 ms
                            p95 ▇▇▇███▇▇▇  this 160 ms  newest 139 ms  min 139 ms  max 160 ms
                                   ▲ this session
                                2025-03-03 → 2025-03-05 · 3 sessions
    """
    shown = [s for s in series if sum(1 for p in s.points if p.p50 is not None) >= min_points]
    out = Text()
    out.append(title, style="bold")
    if not shown:
        out.append("\n")
        out.append(f"no target of this session was measured in {min_points} or more sessions yet",
                   style="dim")
        return out
    label_w = min(LABEL_MAX, max(len(s.label) for s in shown))
    stats_w = len("  this 99.9 s  newest 99.9 s  min 99.9 s  max 99.9 s")
    spark_max = max(MIN_PLOT, width - label_w - 6 - stats_w)

    def cells(s: TrendSeries) -> int:
        return max(1, min(4, spark_max // min(len(s.points), spark_max)))

    spark_w = max(min(len(s.points), spark_max) * cells(s) for s in shown)
    for s in shown:
        points = list(s.points)[-spark_max:]
        cell = cells(s)
        mark = next((i for i, p in enumerate(points) if highlight and p.session_id == highlight), None)
        p50s = [p.p50 for p in points]
        p95s = [p.p95 for p in points]
        known = [v for v in p50s + p95s if v is not None]
        # From zero: a provider that went from 150 to 154 ms has not changed,
        # one that went to 300 ms has doubled, and the bars say so.
        lo, hi = 0.0, max(known)
        for name, values in (("p50", p50s), ("p95", p95s)):
            present = [v for v in values if v is not None]
            newest = next((v for v in reversed(values) if v is not None), None)
            out.append("\n")
            out.append(_short(s.label, label_w).ljust(label_w) if name == "p50" else " " * label_w,
                       style=s.colour)
            out.append(f"  {name} ", style="dim")
            spark = Text(sparkline(values, lo, hi, cell).ljust(spark_w),
                         style=s.colour if name == "p50" else f"dim {s.colour}")
            if mark is not None:
                spark.stylize("bold #ffffff", mark * cell, (mark + 1) * cell)
            out.append_text(spark)
            if mark is not None:
                out.append(f"  this {fmt_ms(values[mark])}", style="bold")
            if mark != len(points) - 1:
                out.append(f"  newest {fmt_ms(newest)}")
            if present:
                out.append(f"  min {fmt_ms(min(present))}  max {fmt_ms(max(present))}", style="dim")
        if mark is not None:
            out.append("\n" + " " * (label_w + 6 + mark * cell) + "▲ this session", style="bold")
        plural = "s" if len(points) != 1 else ""
        out.append("\n" + " " * (label_w + 6) + f"{_day(points[0].at)} → {_day(points[-1].at)}"
                   f" · {len(points)} session{plural}", style="dim")
    return out


# --- widgets -------------------------------------------------------------------

class TextChart(Widget):
    """Draws a `render_*` function's Text at the widget's own width."""

    DEFAULT_CSS = """
    TextChart { height: auto; width: 1fr; margin: 0 0 1 0; }
    """

    def _draw(self, width: int) -> Text:
        raise NotImplementedError

    def render(self) -> Text:
        text = self._draw(max(40, self.content_size.width))
        text.no_wrap = True
        text.overflow = "crop"
        return text

    def get_content_height(self, container, viewport, width: int) -> int:
        return len(self._draw(max(40, width)).plain.split("\n"))


class _RowsChart(TextChart):
    """A chart of one row per target, drawn by a pure `render_*` function."""

    @staticmethod
    def render_rows(title: str, rows: Sequence[RangeRow], width: int) -> Text:
        raise NotImplementedError

    def __init__(self, title: str, rows: Sequence[RangeRow] = (), **kwargs) -> None:
        super().__init__(**kwargs)
        self.chart_title = title
        self.rows = list(rows)

    def _draw(self, width: int) -> Text:
        return self.render_rows(self.chart_title, self.rows, width)


class RangeChart(_RowsChart):
    """TTFT or e2e spread per target (see `render_range_chart`)."""

    DEFAULT_CSS = "RangeChart { height: auto; margin: 0 0 1 0; }"
    render_rows = staticmethod(render_range_chart)


class RateBars(_RowsChart):
    """Decode speed per target (see `render_tps_bars`)."""

    DEFAULT_CSS = "RateBars { height: auto; margin: 0 0 1 0; }"
    render_rows = staticmethod(render_tps_bars)


class TrendChart(TextChart):
    """TTFT p50/p95 per past session for each target (see `render_trends`)."""

    DEFAULT_CSS = "TrendChart { height: auto; margin: 0 0 1 0; }"

    def __init__(self, title: str, series: Sequence[TrendSeries] = (), *, loading_text: str = "",
                 highlight: str | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.chart_title = title
        self.series = list(series)
        self.loading_text = loading_text
        self.highlight = highlight

    def set_series(self, series: Sequence[TrendSeries]) -> None:
        self.series = list(series)
        self.loading_text = ""
        self.refresh(layout=True)

    def set_message(self, message: str) -> None:
        self.loading_text = message
        self.refresh(layout=True)

    def _draw(self, width: int) -> Text:
        if self.loading_text:
            return Text.assemble((self.chart_title, "bold"), "\n", (display(self.loading_text), "dim"))
        return render_trends(self.chart_title, self.series, width, highlight=self.highlight)


class SessionCharts(Widget):
    """The three per-session charts for one session's summary rows."""

    DEFAULT_CSS = "SessionCharts { height: auto; }"

    def __init__(self, summary: Sequence[TargetSummary], **kwargs) -> None:
        super().__init__(**kwargs)
        self.summary = list(summary)

    def compose(self):
        # No unit in a title: each axis and each figure carries its own (ms or s).
        yield RangeChart("TTFT: request sent to first visible token", range_rows(self.summary, "ttft_ms"),
                         id="chart-ttft")
        yield RangeChart("End to end: request sent to last token", range_rows(self.summary, "e2e_ms"),
                         id="chart-e2e")
        yield RateBars("Decode speed (tok/s)", range_rows(self.summary, "decode_tps"), id="chart-tps")
