"""Rich rendering for the headless commands: a live table while probes run and
the summary afterwards. Renders what the core measured; computes nothing."""

from __future__ import annotations

import sys
from collections import defaultdict

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from infertui.core import metrics
from infertui.core.events import ProbeFinished, ProbeSent, RunEvent
from infertui.core.result import ProbeResult
from infertui.core.session import RunSettings, Session
from infertui.core.targets import Target


def fmt_ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value / 1000:.2f} s" if value >= 10_000 else f"{value:.0f} ms"


def fmt_num(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def summary_table(summary: list[metrics.TargetSummary], title: str | None = None) -> Table:
    # Where a target reasons before it answers, its first token of any kind
    # comes well before the first visible one: show both.
    reasoning = any(row.ttft_any_ms.p50 != row.ttft_ms.p50 for row in summary)
    table = Table(title=title, header_style="bold", expand=False)
    columns = [("target", "left"), ("n", "right"), ("ok", "right"), ("err", "right"),
               ("TTFT p50", "right"), ("TTFT p95", "right")]
    columns += [("TTFT-any p50", "right")] if reasoning else []
    columns += [("e2e p50", "right"), ("e2e p95", "right"), ("tok/s p50", "right"),
                ("$/answer", "right"), ("errors", "left")]
    for name, justify in columns:
        table.add_column(name, justify=justify, no_wrap=name != "errors")
    for row in summary:
        kinds = ", ".join(f"{k}×{v}" for k, v in sorted(row.error_kinds.items()))
        table.add_row(
            row.target_label, str(row.n), str(row.ok),
            Text(str(row.errors), style="red" if row.errors else ""),
            fmt_ms(row.ttft_ms.p50), fmt_ms(row.ttft_ms.p95),
            *([fmt_ms(row.ttft_any_ms.p50)] if reasoning else []),
            fmt_ms(row.e2e_ms.p50), fmt_ms(row.e2e_ms.p95),
            fmt_num(row.decode_tps.p50),
            "—" if row.cost_per_ok_usd is None else f"{row.cost_per_ok_usd:.6f}",
            Text(kinds, style="red") if kinds else "",
        )
    return table


def error_lines(probes: list[ProbeResult], limit: int = 10) -> list[Text]:
    lines = []
    for r in probes:
        if r.error is None:
            continue
        http = f" HTTP {r.error.http_status}" if r.error.http_status else ""
        retry = f" (retry after {r.error.retry_after:g} s)" if r.error.retry_after is not None else ""
        lines.append(Text.assemble((f"{r.target.label}#{r.seq}", "bold"), f" {r.error.kind}{http}{retry}: ",
                                   (r.error.message, "red")))
    if len(lines) > limit:
        lines = lines[:limit] + [Text(f"… and {len(lines) - limit} more errors")]
    return lines


def print_summary(session: Session, console: Console | None = None) -> None:
    # Piped output keeps the whole table rather than wrapping it at 80 columns.
    console = console or Console(file=sys.stdout, width=None if sys.stdout.isatty() else 160)
    settings = session.settings
    title = (f"session {session.session_id} · {len(session.probes)} probes · repeat {settings.repeat}"
             f" · concurrency {settings.concurrency}" + (f" · warm-up {settings.warmup}" if settings.warmup else ""))
    console.print(summary_table(session.summary(), title=title))
    for line in error_lines(session.probes):
        console.print(line)
    saturated = sum(1 for p in session.probes if p.client_saturated)
    if saturated:
        why = (" (the in-process simulator runs on the same loop; `infertui sim` serves it from "
               "another process)" if any(t.provider.simulated for t in session.targets) else "")
        console.print(Text(f"{saturated} probes were timed while infertui's own event loop lagged "
                           f"> 10 ms; their timings may include up to that delay{why}.", style="yellow"))


class LiveTable:
    """Progress per target while the session runs (on stderr)."""

    def __init__(self, targets: list[Target], settings: RunSettings) -> None:
        self.targets = targets
        self.total = settings.repeat + settings.warmup
        self.finished: dict[str, list[ProbeResult]] = defaultdict(list)
        self.running: dict[str, set[str]] = defaultdict(set)
        self._live = Live(console=Console(file=sys.stderr), refresh_per_second=8,
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
        table = Table(header_style="bold")
        for name in ("target", "done", "running", "ok", "err", "last TTFT", "TTFT p50", "tok/s p50", "last error"):
            table.add_column(name, no_wrap=True)
        for target in self.targets:
            done = self.finished.get(target.label, [])
            (row,) = metrics.summarize(done) or [None]
            last = done[-1] if done else None
            last_err = next((r.error for r in reversed(done) if r.error), None)
            table.add_row(
                target.label, f"{len(done)}/{self.total}", str(len(self.running.get(target.label, ()))),
                str(row.ok if row else 0), str(row.errors if row else 0),
                fmt_ms(metrics.ttft_ms(last)) if last else "—",
                fmt_ms(row.ttft_ms.p50) if row else "—",
                fmt_num(row.decode_tps.p50) if row else "—",
                Text(f"{last_err.kind} {last_err.http_status or ''}".strip(), style="red") if last_err else "",
            )
        return Group(table, Text("Ctrl+C cancels; finished probes are kept.", style="dim"))


