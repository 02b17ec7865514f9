"""Inline SVG for a report's charts: no script, no external font or style.
Every label (target names come from the config, the user and servers) is
HTML-escaped here, where it is written."""

from __future__ import annotations

import math
from html import escape
from typing import Sequence

from infertui.report import fmt
from infertui.report.charts import Chart
from infertui.textsafe import display

WIDTH = 760
PALETTE = ("#2f6fdf", "#d9480f", "#2b8a3e", "#9c36b5", "#c92a2a", "#0b7285", "#e67700", "#5c940d",
           "#495057", "#a61e4d")
FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="12"'


def _e(text: object) -> str:
    return escape(display(text), quote=True)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Round tick values from 0 past `top`."""
    if top <= 0 or not math.isfinite(top):
        return [0.0, 1.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    ticks = [0.0]
    while ticks[-1] < top:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _tick(value: float | None, unit: str) -> str:
    if unit == "ms" or value is None:
        return fmt.ms(value)
    return f"{value:g}"


def _colours(chart: Chart) -> dict[str, str]:
    groups: list[str] = []
    for key in [r.label for r in chart.rows] + [s.group or s.name for s in chart.series]:
        if key not in groups:
            groups.append(key)
    return {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(groups)}


def _frame(chart: Chart, height: int, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="chart-{_e(chart.id)}" '
            f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" '
            f'aria-label="{_e(chart.title)}" {FONT}><title>{_e(chart.title)}</title>'
            f'<rect width="{WIDTH}" height="{height}" fill="#fff"/>' + "".join(body) + "</svg>")


def _empty(chart: Chart) -> str:
    return _frame(chart, 60, ['<text x="16" y="36" fill="#868e96">no data</text>'])


def box_chart(chart: Chart) -> str:
    rows = chart.rows
    values = [v for r in rows for v in r.values]
    if not values:
        return _empty(chart)
    left, right, row_h, top = 230, 48, 30, 16
    height = top + row_h * len(rows) + 40
    ticks = nice_ticks(max(values))
    scale = (WIDTH - left - right) / ticks[-1]
    x = lambda v: left + v * scale  # noqa: E731 - a local shorthand
    colours = _colours(chart)
    body = [f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{top - 6}" '
            f'y2="{top + row_h * len(rows)}" stroke="#e9ecef"/>'
            f'<text x="{x(t):.1f}" y="{top + row_h * len(rows) + 16}" text-anchor="middle" '
            f'fill="#495057">{_e(_tick(t, chart.unit))}</text>' for t in ticks]
    body.append(f'<text x="{WIDTH - right}" y="{height - 6}" text-anchor="end" '
                f'fill="#495057">{_e(chart.unit)}</text>')
    for i, row in enumerate(rows):
        mid = top + row_h * i + row_h / 2
        colour = colours[row.label]
        body.append(f'<text x="{left - 10}" y="{mid + 4:.1f}" text-anchor="end" fill="#212529">'
                    f'<title>{_e(row.label)} (n = {row.n})</title>{_e(_short(row.label, 34))}</text>')
        q = row.quantiles
        if q.get("p50") is None:
            continue
        step = max(1, len(row.values) // 300)  # at most about 300 dots a row
        for j, v in enumerate(row.values[::step]):
            jitter = ((j * 7919) % 13 - 6) * 0.9
            body.append(f'<circle cx="{x(v):.1f}" cy="{mid + jitter:.1f}" r="1.8" fill="{colour}" '
                        f'fill-opacity="0.35"/>')
        body.append(f'<line x1="{x(q["p5"]):.1f}" x2="{x(q["p95"]):.1f}" y1="{mid:.1f}" '
                    f'y2="{mid:.1f}" stroke="{colour}" stroke-width="1.5"/>')
        body.append(f'<rect class="box" x="{x(q["p25"]):.1f}" y="{mid - 8:.1f}" '
                    f'width="{max(1.0, x(q["p75"]) - x(q["p25"])):.1f}" height="16" fill="{colour}" '
                    f'fill-opacity="0.18" stroke="{colour}"><title>{_e(row.label)}: p5 '
                    f'{_e(_tick(q["p5"], chart.unit))}, p50 {_e(_tick(q["p50"], chart.unit))}, p95 '
                    f'{_e(_tick(q["p95"], chart.unit))}</title></rect>')
        body.append(f'<line x1="{x(q["p50"]):.1f}" x2="{x(q["p50"]):.1f}" y1="{mid - 8:.1f}" '
                    f'y2="{mid + 8:.1f}" stroke="{colour}" stroke-width="2.5"/>')
    return _frame(chart, height, body)


def _legend(chart: Chart, y: int, colours: dict[str, str]) -> tuple[list[str], int]:
    out, cx, cy = [], 16.0, float(y)
    for s in chart.series:
        text = _short(s.name, 40)
        width = 40 + 7.4 * len(text)
        if cx + width > WIDTH - 16:
            cx, cy = 16.0, cy + 18
        dash = ' stroke-dasharray="5 3"' if s.dashed else ""
        out.append(f'<line x1="{cx:.0f}" x2="{cx + 18:.0f}" y1="{cy - 4:.0f}" y2="{cy - 4:.0f}" '
                   f'stroke="{colours[s.group or s.name]}" stroke-width="3"{dash}/>'
                   f'<text x="{cx + 24:.0f}" y="{cy:.0f}" fill="#212529">{_e(text)}</text>')
        cx += width
    return out, int(cy) + 10


def _axes(chart: Chart, top_value: float, plot: tuple[int, int, int, int]) -> tuple[list[str], float]:
    left, top, width, height = plot
    ticks = nice_ticks(top_value)
    scale = height / ticks[-1]
    out = []
    for t in ticks:
        y = top + height - t * scale
        out.append(f'<line x1="{left}" x2="{left + width}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e9ecef"/>'
                   f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#495057">'
                   f'{_e(_tick(t, chart.unit))}</text>')
    n = max(1, len(chart.x_labels))
    every = max(1, n // 10)
    for i, name in enumerate(chart.x_labels):
        if i % every == 0:
            xc = left + width * (i + 0.5) / n
            out.append(f'<text x="{xc:.1f}" y="{top + height + 16}" text-anchor="middle" '
                       f'fill="#495057">{_e(_short(name, 16))}</text>')
    return out, scale


def line_chart(chart: Chart) -> str:
    values = [v for s in chart.series for v in s.values if v is not None]
    if not values or not chart.x_labels:
        return _empty(chart)
    left, top, width, height = 70, 16, WIDTH - 70 - 20, 200
    colours = _colours(chart)
    body, scale = _axes(chart, max(values), (left, top, width, height))
    n = len(chart.x_labels)
    for s in chart.series:
        colour = colours[s.group or s.name]
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        points = [(left + width * (i + 0.5) / n, top + height - v * scale)
                  for i, v in enumerate(s.values) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
            body.append(f'<polyline class="series" points="{path}" fill="none" stroke="{colour}" '
                        f'stroke-width="2"{dash}/>')
        for px, py in points:
            body.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}"/>')
    legend, end = _legend(chart, top + height + 40, colours)
    return _frame(chart, end + 6, body + legend)


def bar_chart(chart: Chart) -> str:
    values = [v for s in chart.series for v in s.values if v is not None]
    if not chart.series or not chart.x_labels:
        return _empty(chart)
    left, top, width, height = 70, 16, WIDTH - 70 - 20, 160
    colours = _colours(chart)
    # Counts: whole-number ticks (at least 0 to 5).
    body, scale = _axes(chart, max(max(values, default=0), 5), (left, top, width, height))
    n, k = len(chart.x_labels), len(chart.series)
    slot = width / n
    bar = max(1.0, slot * 0.8 / k)
    for j, s in enumerate(chart.series):
        for i, v in enumerate(s.values):
            if not v:
                continue
            bx = left + slot * i + slot * 0.1 + bar * j
            body.append(f'<rect class="bar" x="{bx:.1f}" y="{top + height - v * scale:.1f}" '
                        f'width="{bar:.1f}" height="{v * scale:.1f}" fill="{colours[s.group or s.name]}">'
                        f'<title>{_e(s.name)}: {v:g}</title></rect>')
    if not any(values):
        body.append(f'<text x="{left + width / 2:.0f}" y="{top + height / 2:.0f}" '
                    'text-anchor="middle" fill="#2b8a3e">no errors</text>')
    legend, end = _legend(chart, top + height + 40, colours)
    return _frame(chart, end + 6, body + legend)


def render(chart: Chart) -> str:
    return {"box": box_chart, "lines": line_chart, "bars": bar_chart}[chart.kind](chart)


def render_all(charts: Sequence[Chart]) -> list[str]:
    return [render(c) for c in charts]
