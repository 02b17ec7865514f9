"""What `infertui campaign` writes to the terminal: the live progress on
stderr while a campaign runs, and its tables (`infertui.tables.campaign`)
once it is done. Every string from a file, a server or a user goes through
`one_line` and into a `Text`."""

from __future__ import annotations

import sys
import time
from typing import Any, Callable

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from infertui.core.campaign.progress import CampaignProgress
from infertui.core.stats import percentile
from infertui.tables.campaign import (
    cells_table,
    comparisons_table,
    progress_line,
    ranking_tables,
    rounds_table,
    targets_table,
    vantages_table,
)
from infertui.textsafe import one_line
from infertui.units import elapsed, ms


def _t(value: Any, limit: int | None = None) -> Text:
    return Text(one_line("" if value is None else value, limit))


def print_document(doc: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console(file=sys.stdout, width=None if sys.stdout.isatty() else 200)
    head = Text.assemble(("campaign ", "bold"), (one_line(doc["campaign_id"]), "bold"), "  ",
                         one_line(doc["name"], 60), f"  {doc['status']}  vantage ",
                         one_line(doc["vantage"], 40),
                         f"  started {doc['started_at']}  finished {doc['finished_at'] or '—'}"
                         f"  {len(doc['rounds'])} round{'s' if len(doc['rounds']) != 1 else ''}")
    if doc["rounds_skipped"]:
        head.append(f" ({doc['rounds_skipped']} skipped: their slot passed)", style="yellow")
    console.print(head)
    for part in (cells_table(doc), targets_table(doc), rounds_table(doc), comparisons_table(doc),
                 *ranking_tables(doc), vantages_table(doc)):
        if part is not None:
            console.print(part)
    from infertui.tables.checks import campaign_check_tables

    for table in campaign_check_tables(doc):  # compliance, fidelity, agreement, cost
        console.print(table)


class ProgressView:
    """The live progress on stderr: counts, elapsed and time left, and the
    cells of the round running now."""

    def __init__(self, progress: CampaignProgress, clock: Callable[[], int],
                 wall: Callable[[], float] = time.time) -> None:
        self.progress = progress
        self.clock = clock
        self.wall = wall
        self._live = Live(console=Console(file=sys.stderr), refresh_per_second=4,
                          get_renderable=self._render, transient=True)

    def start(self) -> None:
        self._live.start()

    def stop(self) -> None:
        self._live.stop()

    def _render(self) -> Group:
        p = self.progress
        line = progress_line(p, self.clock(), " · ")
        if p.waiting_until is not None:
            line.append(f" · next round in {elapsed(p.waiting_until - self.wall())}", style="yellow")
        table = Table(header_style="bold", box=None)
        for name in ("conc", "target", "done", "running", "ok", "err", "TTFT p50"):
            table.add_column(name, no_wrap=True)
        for cell in p.cells.values():
            if cell.cell.round != p.round or (cell.finished and not cell.done):
                continue
            p50 = percentile(cell.ttft_ms, 50)
            table.add_row(str(cell.cell.concurrency), _t(cell.cell.target, 40),
                          f"{cell.done}/{cell.planned}", str(cell.in_flight), str(cell.ok),
                          Text(str(cell.errors), style="red" if cell.errors else ""), ms(p50))
        return Group(line, table, Text("Ctrl+C stops; finished probes are kept, "
                                       "`campaign run --resume ID` goes on.", style="dim"))
