"""The per-target summary under the panes: statistics the core computed."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from infertui.core.metrics import TargetSummary
from infertui.tui import fmt

COLUMNS: tuple[tuple[str, str], ...] = (
    ("target", "target"), ("n", "n"), ("ok", "ok"), ("err", "errors"),
    ("ttft50", "TTFT p50"), ("ttft95", "TTFT p95"), ("tps50", "tok/s p50"),
    ("e2e50", "e2e p50"), ("e2e95", "e2e p95"), ("kinds", "errors by kind"),
)


def summary_cells(row: TargetSummary) -> list[str | Text]:
    kinds = ", ".join(f"{k}×{v}" for k, v in sorted(row.error_kinds.items()))
    if row.cancelled:
        kinds = ", ".join(filter(None, [kinds, f"cancelled×{row.cancelled}"]))
    return [
        row.target_label,
        Text(str(row.n), justify="right"),
        Text(str(row.ok), justify="right"),
        Text(str(row.errors), justify="right", style="bold red" if row.errors else ""),
        Text(fmt.ms(row.ttft_ms.p50), justify="right"),
        Text(fmt.ms(row.ttft_ms.p95), justify="right"),
        Text(fmt.num(row.decode_tps.p50), justify="right"),
        Text(fmt.ms(row.e2e_ms.p50), justify="right"),
        Text(fmt.ms(row.e2e_ms.p95), justify="right"),
        Text(kinds, style="red") if kinds else "",
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
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    def update_from(self, summary: list[TargetSummary]) -> None:
        self.summary = list(summary)
        if not self.columns:
            for key, label in COLUMNS:
                self.add_column(label, key=key)
        wanted = [row.target_label for row in summary]
        present = [key.value for key in self.rows]
        if present != wanted[:len(present)] or len(present) > len(wanted):
            self.clear()
            present = []
        for row in summary:
            cells = summary_cells(row)
            if row.target_label in present:
                for (key, _label), cell in zip(COLUMNS, cells):
                    self.update_cell(row.target_label, key, cell, update_width=True)
            else:
                self.add_row(*cells, key=row.target_label)

    def as_tsv(self) -> str:
        return summary_tsv(self.summary)
