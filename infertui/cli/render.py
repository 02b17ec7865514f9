"""Rich rendering for the headless commands: a live table while probes run and
the summary afterwards. Renders what the core measured; computes nothing.

Every string that came from a server, a file or the user reaches Rich as a
`Text` through `textsafe` (see `tables.cell`): never markup, never terminal
control. Marks: `~` before a number that rests on estimated token counts
(the server sent no usage), `†` after a target some of whose probes were timed
while infertui's own event loop lagged (`client_saturated`), each explained
under the table.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from dataclasses import dataclass

from rich.console import Console, Group
from rich.live import Live
from rich.text import Text

from infertui.core import metrics
from infertui.core.events import ProbeFinished, ProbeSent, RunEvent
from infertui.core.result import ProbeResult, Status
from infertui.core.session import RunSettings, Session
from infertui.core.targets import Target
from infertui.tables.fit import Column, cell, fit_table, plural
from infertui.textsafe import one_line
from infertui.units import ms as fmt_ms
from infertui.units import num as fmt_num

ESTIMATE = "~"
SATURATED = "†"


def data_console(file=None) -> Console:
    """A console for data: no markup, no emoji codes, no highlighting; a pipe
    gets room for the whole table rather than Rich's 80 columns."""
    file = file or sys.stdout
    return Console(file=file, width=None if file.isatty() else 160, markup=False,
                   emoji=False, highlight=False)


@dataclass
class Marks:
    """What qualifies one target's numbers."""

    estimated: bool = False  # a measured ok probe's token count is an estimate
    saturated: int = 0  # measured probes timed while the client's loop lagged
    max_lag_ms: float = 0.0


def marks_by_target(probes: list[ProbeResult]) -> dict[str, Marks]:
    marks: dict[str, Marks] = defaultdict(Marks)
    for r in probes:
        if r.warmup:
            continue
        m = marks[r.target.label]
        if r.status is Status.OK and metrics.output_tokens(r)[1] == "estimate":
            m.estimated = True
        if r.client_saturated:
            m.saturated += 1
            m.max_lag_ms = max(m.max_lag_ms, r.loop_lag_ms or 0.0)
    return marks


def target_cell(label: str, marks: Marks | None = None) -> Text:
    text = cell(label)
    if marks is not None and marks.saturated:
        text = text + Text(f" {SATURATED}", style="yellow")
    return text


def estimated(value: str, is_estimate: bool) -> Text:
    return Text(f"{ESTIMATE}{value}" if is_estimate and value != "—" else value)


def summary_table(summary: list[metrics.TargetSummary], title: str | None = None,
                  probes: list[ProbeResult] | None = None, width: int | None = None):
    marks = marks_by_target(probes or [])
    # Where a target reasons before it answers, its first token of any kind
    # comes well before the first visible one: show both.
    reasoning = any(row.ttft_any_ms.p50 != row.ttft_ms.p50 for row in summary)
    cancelled = any(row.cancelled for row in summary)
    columns = [Column("target", "left", wrap=True, min_width=18), Column("n"), Column("ok"),
               Column("err")]
    columns += [Column("cancelled")] if cancelled else []
    columns += [Column("TTFT p50", priority=1), Column("TTFT p95", priority=4)]
    columns += [Column("TTFT-any p50", priority=5)] if reasoning else []
    columns += [Column("e2e p50", priority=3), Column("e2e p95", priority=6),
                Column("tok/s p50", priority=2), Column("$/answer", priority=7),
                Column("errors", "left", wrap=True, min_width=16)]
    rows = []
    for row in summary:
        m = marks.get(row.target_label)
        # One kind a line, so a narrow column wraps between kinds, not inside one.
        kinds = Text("\n".join(f"{one_line(k)}×{v}" for k, v in sorted(row.error_kinds.items())),
                     style="red")
        rows.append([
            target_cell(row.target_label, m), cell(row.n), cell(row.ok),
            cell(row.errors, "red" if row.errors else ""),
            *([cell(row.cancelled, "yellow" if row.cancelled else "")] if cancelled else []),
            cell(fmt_ms(row.ttft_ms.p50)), cell(fmt_ms(row.ttft_ms.p95)),
            *([cell(fmt_ms(row.ttft_any_ms.p50))] if reasoning else []),
            cell(fmt_ms(row.e2e_ms.p50)), cell(fmt_ms(row.e2e_ms.p95)),
            estimated(fmt_num(row.decode_tps.p50), bool(m and m.estimated)),
            cell("—" if row.cost_per_ok_usd is None else f"{row.cost_per_ok_usd:.6f}"),
            kinds,
        ])
    assert all(len(r) == len(columns) for r in rows)
    return fit_table(columns, rows, width, title=None if title is None else cell(title))


def footnotes(probes: list[ProbeResult], simulated: bool = False) -> list[Text]:
    """The explanation of every mark the tables above may carry."""
    marks = marks_by_target(probes).values()
    notes = []
    if any(m.estimated for m in marks):
        notes.append(Text(f"{ESTIMATE} token counts (and tok/s) estimated: the server sent no "
                          "usage.", style="dim"))
    saturated = sum(m.saturated for m in marks)
    if saturated:
        lag = max(m.max_lag_ms for m in marks)
        why = (" (the in-process simulator runs on the same loop; `infertui sim` serves it from "
               "another process)" if simulated else "")
        notes.append(Text(f"{SATURATED} {plural(saturated, 'probe')} timed while infertui's own "
                          f"event loop lagged > 10 ms (up to {fmt_ms(lag)}): their timings may "
                          f"include that delay{why}.", style="yellow"))
    return notes


def error_lines(probes: list[ProbeResult], limit: int = 10) -> list[Text]:
    """One line per failed probe (the first `limit`), its message cut at 300
    characters: `show --json` has all of it."""
    lines = []
    for r in probes:
        if r.error is None:
            continue
        http = f" HTTP {r.error.http_status}" if r.error.http_status else ""
        retry = f" (retry after {r.error.retry_after:g} s)" if r.error.retry_after is not None else ""
        lines.append(Text.assemble((one_line(f"{r.target.label}#{r.seq}"), "bold"),
                                   f" {one_line(r.error.kind)}{http}{retry}: ",
                                   (one_line(r.error.message, 300), "red")))
    if len(lines) > limit:
        lines = lines[:limit] + [Text(f"… and {plural(len(lines) - limit, 'more error')}")]
    return lines


def session_title(session: Session) -> str:
    settings = session.settings
    return (f"session {session.session_id} · {plural(len(session.probes), 'probe')} · repeat "
            f"{settings.repeat} · concurrency {settings.concurrency}"
            + (f" · warm-up {settings.warmup}" if settings.warmup else ""))


def print_summary(session: Session, console: Console | None = None) -> None:
    console = console or data_console()
    console.print(summary_table(session.summary(), title=session_title(session),
                                probes=session.probes, width=console.width))
    for line in footnotes(session.probes, any(t.provider.simulated for t in session.targets)):
        console.print(line)
    for line in error_lines(session.probes):
        console.print(line)


class LiveTable:
    """Progress per target while the session runs (on stderr)."""

    COLUMNS = (Column("target", "left", wrap=True, min_width=20), Column("done"),
               Column("running", priority=4), Column("ok"), Column("err"),
               Column("cancelled", priority=5), Column("last TTFT", priority=3),
               Column("TTFT p50", priority=1), Column("tok/s p50", priority=2),
               Column("last error", "left", wrap=True, min_width=12))

    def __init__(self, targets: list[Target], settings: RunSettings,
                 console: Console | None = None) -> None:
        self.targets = targets
        self.total = settings.repeat + settings.warmup
        self.finished: dict[str, list[ProbeResult]] = defaultdict(list)
        self.running: dict[str, set[str]] = defaultdict(set)
        self.console = console or Console(file=sys.stderr, markup=False, emoji=False,
                                          highlight=False)
        self._live = Live(console=self.console, refresh_per_second=8,
                          get_renderable=self._render, transient=True)

    def start(self) -> None:
        self._live.start()

    def stop(self) -> None:
        self._live.stop()

    def on_event(self, event: RunEvent) -> None:
        if isinstance(event, ProbeSent):
            self.running[event.target.label].add(event.probe_id)
        elif isinstance(event, ProbeFinished):
            label = event.result.target.label
            self.running[label].discard(event.result.probe_id)
            self.finished[label].append(event.result)

    def _render(self) -> Group:
        rows = []
        for target in self.targets:
            done = self.finished.get(target.label, [])
            row = next(iter(metrics.summarize(done)), None)  # one target: one row, or none
            marks = marks_by_target(done).get(target.label)
            last = done[-1] if done else None
            last_err = next((r.error for r in reversed(done) if r.error), None)
            error_text = (f"{one_line(last_err.kind)} {last_err.http_status or ''}".strip()
                          if last_err else "")
            rows.append([
                target_cell(target.label, marks), cell(f"{len(done)}/{self.total}"),
                cell(len(self.running.get(target.label, ()))),
                cell(row.ok if row else 0),
                cell(row.errors if row else 0, "red" if row and row.errors else ""),
                cell(row.cancelled if row else 0),
                cell(fmt_ms(metrics.ttft_ms(last)) if last else "—"),
                cell(fmt_ms(row.ttft_ms.p50) if row else "—"),
                estimated(fmt_num(row.decode_tps.p50) if row else "—",
                          bool(marks and marks.estimated)),
                cell(error_text, "red"),
            ])
        table = fit_table(self.COLUMNS, rows, self.console.width)
        return Group(table, Text("Ctrl+C cancels; finished probes are kept.", style="dim"))


def print_checks(doc: dict, console: Console | None = None) -> None:
    """The checks of a session document (`doc["checks"]`)."""
    from infertui.tables.checks import session_check_tables

    console = console or data_console()
    for table in session_check_tables(doc, console.width if console.is_terminal else None):
        console.print(table)
