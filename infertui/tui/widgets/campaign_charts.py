"""Charts of a finished campaign, as Rich renderables from its
`infertui.campaign/1` document: TTFT distribution per target and concurrency,
p50/p95 per round, errors per round. Renders the document; computes no
statistic of its own."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from infertui import units
from infertui.textsafe import one_line
from infertui.tui import fmt

BAR_WIDTH = 40
SPARKS = "▁▂▃▄▅▆▇█"


def _scale(values: list[float]) -> tuple[float, float]:
    low, high = min(values), max(values)
    return low, high if high > low else low + 1.0


def ttft_distribution(doc: dict[str, Any]) -> Table:
    """One row per cell: a range from p50 to p99 on one shared axis, the p95
    marked, so spread and tail compare at a glance."""
    cells = [c for c in doc["cells"] if c["ttft_ms"]["p50"] is not None]
    table = Table(title="TTFT per target and concurrency (│ p50 ◆ p95 ┤ p99)", box=None,
                  header_style="bold")
    table.add_column("target", no_wrap=True)
    table.add_column("conc", justify="right")
    table.add_column("round", justify="right")
    table.add_column("", no_wrap=True)
    table.add_column("p50 / p95 / p99", justify="right", no_wrap=True)
    if not cells:
        return table
    low, high = _scale([0.0] + [c["ttft_ms"]["p99"] for c in cells])
    span = high - low

    def at(value: float) -> int:
        return min(BAR_WIDTH - 1, max(0, round((value - low) / span * (BAR_WIDTH - 1))))

    for cell in cells:
        t = cell["ttft_ms"]
        p50, p95, p99 = at(t["p50"]), at(t["p95"]), at(t["p99"])
        bar = Text(" " * BAR_WIDTH)
        bar.stylize("on grey23", p50, p99 + 1)
        line = list(bar.plain)
        line[p50], line[p99] = "│", "┤"
        line[p95] = "◆"
        bar = Text("".join(line))
        bar.stylize("on grey23", p50, p99 + 1)
        bar.stylize("bold yellow", p95, p95 + 1)
        table.add_row(Text(one_line(cell["target"], 36)), str(cell["concurrency"]),
                      str(cell["round"]), bar,
                      f"{fmt.ms(t['p50'])} / {fmt.ms(t['p95'])} / {fmt.ms(t['p99'])}")
    return table


def sparkline(values: list[float | None], low: float, high: float) -> Text:
    out = Text()
    for v in values:
        if v is None:
            out.append("·", style="dim")
            continue
        index = 0 if high <= low else round((v - low) / (high - low) * (len(SPARKS) - 1))
        out.append(SPARKS[max(0, min(len(SPARKS) - 1, index))])
    return out


def per_round(doc: dict[str, Any]) -> Table:
    """Per target: TTFT p50 and p95 round by round, and errors per round."""
    rounds = doc["rounds"]
    labels = list(dict.fromkeys(t["target"] for r in rounds for t in r["targets"]))
    table = Table(title=f"over {len(rounds)} round{'s' if len(rounds) != 1 else ''}: "
                        "TTFT p50, p95 and errors per round", box=None, header_style="bold")
    for name in ("target", "TTFT p50", "TTFT p95", "errors", "availability"):
        table.add_column(name, no_wrap=True)
    for label in labels:
        rows = [next((t for t in r["targets"] if t["target"] == label), None) for r in rounds]
        p50 = [r["ttft_ms_p50"] if r else None for r in rows]
        p95 = [r["ttft_ms_p95"] if r else None for r in rows]
        known = [v for v in p50 + p95 if v is not None]
        low, high = _scale(known) if known else (0.0, 1.0)
        errors = [float(r["errors"]) if r else None for r in rows]
        worst = max([e for e in errors if e is not None] or [0.0])
        availability = [r["availability"] for r in rows if r and r["availability"] is not None]
        table.add_row(Text(one_line(label, 36)), sparkline(p50, low, high),
                      sparkline(p95, low, high),
                      Text.assemble(sparkline(errors, 0.0, max(worst, 1.0)),
                                    f" {int(sum(e for e in errors if e))}",
                                    style="red" if worst else ""),
                      f"min {units.share(min(availability))}" if availability else units.DASH)
    return table


def charts(doc: dict[str, Any]) -> Group:
    return Group(ttft_distribution(doc), Text(""), per_round(doc))
