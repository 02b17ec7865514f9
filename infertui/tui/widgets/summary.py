"""The per-target summary under the panes: statistics the core computed.

Every target of a run has its row from the start (n=0 and dashes until its
first probe ends), and the columns have fixed widths, so the table keeps its
shape while a run fills it in: no row or column change moves the panes.
"""

from __future__ import annotations

from typing import Sequence

from rich.text import Text
from textual.widgets import DataTable

from infertui.core.metrics import TargetSummary
from infertui.tui import fmt

COLUMNS: tuple[tuple[str, str], ...] = (
    ("target", "target"), ("n", "n"), ("ok", "ok"), ("err", "errors"),
    ("ttft50", "TTFT p50"), ("ttft95", "TTFT p95"), ("tps50", "tok/s p50"),
    ("e2e50", "e2e p50"), ("e2e95", "e2e p95"), ("kinds", "errors by kind"),
)


# Columns sized for what they hold (a time in fmt.ms is at most "1234.5 s");
# None: as wide as the text (the target is set per run, the error kinds vary).
WIDTHS: dict[str, int | None] = {"target": None, "n": 3, "ok": 3, "err": 3, "ttft50": 8, "ttft95": 8,
                                 "tps50": 9, "e2e50": 8, "e2e95": 8, "kinds": None}


def pending_cells(label: str) -> list[str | Text]:
    """A target without a finished probe yet."""
    return [fmt.cell(label), *(Text("0", justify="right") for _ in range(3)),
            *(Text(fmt.DASH, justify="right") for _ in range(5)), ""]


def summary_cells(row: TargetSummary) -> list[str | Text]:
    kinds = ", ".join(f"{k}×{v}" for k, v in sorted(row.error_kinds.items()))
    if row.cancelled:
        kinds = ", ".join(filter(None, [kinds, f"cancelled×{row.cancelled}"]))
    return [
        fmt.cell(row.target_label),
        Text(str(row.n), justify="right"),
        Text(str(row.ok), justify="right"),
        Text(str(row.errors), justify="right", style="bold red" if row.errors else ""),
        Text(fmt.ms(row.ttft_ms.p50), justify="right"),
        Text(fmt.ms(row.ttft_ms.p95), justify="right"),
        Text(fmt.num(row.decode_tps.p50), justify="right"),
        Text(fmt.ms(row.e2e_ms.p50), justify="right"),
        Text(fmt.ms(row.e2e_ms.p95), justify="right"),
        fmt.cell(kinds, style="red") if kinds else "",
    ]


def summary_tsv(summary: list[TargetSummary]) -> str:
    """The table as tab-separated text, for the clipboard."""
    lines = ["\t".join(label for _key, label in COLUMNS)]
    for row in summary:
        lines.append("\t".join(c.plain if isinstance(c, Text) else c for c in summary_cells(row)))
    return "\n".join(lines) + "\n"


class SummaryTable(DataTable):
    """One row per target; `update_from` replaces changed cells in place."""

    DEFAULT_CSS = """
    SummaryTable { height: auto; max-height: 14; }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes, cursor_type="row",
                         zebra_stripes=True, show_cursor=True)
        self.summary: list[TargetSummary] = []

    def on_mount(self) -> None:
        self._add_columns(0)

    def _add_columns(self, target_width: int) -> None:
        for key, label in COLUMNS:
            width = WIDTHS.get(key)
            if key == "target":
                width = max(len(label), target_width)
            self.add_column(label, key=key, width=None if width is None else max(width, len(label)))

    def update_from(self, summary: list[TargetSummary], labels: Sequence[str] | None = None) -> None:
        """Show `summary`; with `labels`, one row per label in that order (those
        without a summary row yet as pending), else one per summary row."""
        self.summary = list(summary)
        by_label = {row.target_label: row for row in summary}
        wanted = list(labels) if labels is not None else [row.target_label for row in summary]
        wanted += [label for label in by_label if label not in wanted]
        present = [key.value for key in self.rows]
        target_width = max((len(label) for label in wanted), default=0)
        column = self.columns.get("target")  # type: ignore[call-overload] - keys match their string
        if (present != wanted[:len(present)] or len(present) > len(wanted) or column is None
                or column.width < target_width):
            self.clear(columns=True)
            self._add_columns(target_width)
            present = []
        for label in wanted:
            row = by_label.get(label)
            cells = summary_cells(row) if row is not None else pending_cells(label)
            if label in present:
                for (key, _label), cell in zip(COLUMNS, cells):
                    self.update_cell(label, key, cell, update_width=True)
            else:
                self.add_row(*cells, key=label)

    def as_tsv(self) -> str:
        return summary_tsv(self.summary)
