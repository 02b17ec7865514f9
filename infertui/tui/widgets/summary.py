"""The per-target summary under the panes: statistics the core computed.

Every target of a run has its row from the start (n=0 and dashes until its
first probe ends), and the columns have fixed widths, so the table keeps its
shape while a run fills it in: no row or column change moves the panes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

from rich.text import Text
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from infertui.core import metrics
from infertui.core.metrics import TargetSummary
from infertui.core.result import ProbeResult, Status
from infertui.tui import fmt

COLUMNS: tuple[tuple[str, str], ...] = (
    ("target", "target"), ("n", "n"), ("ok", "ok"), ("err", "errors"), ("lag", "⚠ lag"),
    ("ttft50", "TTFT p50"), ("ttft95", "TTFT p95"), ("tps50", "tok/s p50"),
    ("e2e50", "e2e p50"), ("e2e95", "e2e p95"), ("kinds", "errors by kind"),
)


# Columns sized for what they hold (a time in fmt.ms is at most "1234.5 s");
# None: as wide as the text (the target is set per run, the error kinds vary).
WIDTHS: dict[str, int | None] = {"target": None, "n": 3, "ok": 3, "err": 3, "lag": 5, "ttft50": 8,
                                 "ttft95": 8, "tps50": 9, "e2e50": 8, "e2e95": 8, "kinds": None}


@dataclass(frozen=True)
class RowFlags:
    """What a target's numbers rest on, beyond the statistics: how many of its
    measured ok probes were timed while infertui's own loop was late (and the
    worst lag), and whether any of their token counts is an estimate."""

    saturated: int = 0
    measured: int = 0
    worst_lag_ms: float | None = None
    estimated: bool = False


def row_flags(probes: Iterable[ProbeResult]) -> dict[str, RowFlags]:
    """Per target label, over the probes that feed its statistics (ok, not warm-ups)."""
    groups: dict[str, list[ProbeResult]] = {}
    for p in probes:
        if p.status is Status.OK and not p.warmup:
            groups.setdefault(p.target.label, []).append(p)
    flags = {}
    for label, ok in groups.items():
        saturated = [p for p in ok if p.client_saturated]
        lags = [p.loop_lag_ms for p in saturated if p.loop_lag_ms is not None]
        flags[label] = RowFlags(len(saturated), len(ok), max(lags) if lags else None,
                                any(metrics.output_tokens(p)[1] == "estimate" for p in ok))
    return flags


def pending_cells(label: str) -> list[str | Text]:
    """A target without a finished probe yet."""
    return [fmt.cell(label), *(Text("0", justify="right") for _ in range(3)), "",
            *(Text(fmt.DASH, justify="right") for _ in range(5)), ""]


def kinds_text(row: TargetSummary) -> str:
    """`rate_limited×2, cancelled×1`"""
    kinds = ", ".join(f"{k}×{v}" for k, v in sorted(row.error_kinds.items()))
    if row.cancelled:
        kinds = ", ".join(filter(None, [kinds, f"cancelled×{row.cancelled}"]))
    return kinds


def summary_cells(row: TargetSummary, flags: RowFlags | None = None) -> list[str | Text]:
    flags = flags or RowFlags()
    kinds = kinds_text(row)
    tps = fmt.num(row.decode_tps.p50)
    if flags.estimated and row.decode_tps.p50 is not None:
        tps = "~" + tps
    return [
        fmt.cell(row.target_label),
        Text(str(row.n), justify="right"),
        Text(str(row.ok), justify="right"),
        Text(str(row.errors), justify="right", style="bold red" if row.errors else ""),
        Text(f"{flags.saturated}/{flags.measured}", justify="right", style="bold yellow")
        if flags.saturated else "",
        Text(fmt.ms(row.ttft_ms.p50), justify="right"),
        Text(fmt.ms(row.ttft_ms.p95), justify="right"),
        Text(tps, justify="right"),
        Text(fmt.ms(row.e2e_ms.p50), justify="right"),
        Text(fmt.ms(row.e2e_ms.p95), justify="right"),
        fmt.cell(kinds, style="red") if kinds else "",
    ]


def summary_tsv(summary: list[TargetSummary], flags: dict[str, RowFlags] | None = None) -> str:
    """The table as tab-separated text, for the clipboard."""
    flags = flags or {}
    lines = ["\t".join(label for _key, label in COLUMNS)]
    for row in summary:
        cells = summary_cells(row, flags.get(row.target_label))
        lines.append("\t".join(c.plain if isinstance(c, Text) else c for c in cells))
    return "\n".join(lines) + "\n"


def badge_winners(summary: Sequence[TargetSummary],
                  contestants: int | None = None) -> tuple[str | None, str | None]:
    """The targets badged: the lowest TTFT p50 ("1st token", or "best TTFT
    p50" with several probes each) and the lowest e2e p50 ("1st finish",
    "best e2e p50"), among targets with an ok probe; none when a single
    target runs (`contestants`: how many run, if not all have a row yet)."""
    if (len(summary) if contestants is None else contestants) < 2:
        return None, None
    measured = [row for row in summary if row.ok]
    best_ttft = min((r for r in measured if r.ttft_ms.p50 is not None),
                    key=lambda r: r.ttft_ms.p50 or math.inf, default=None)
    best_e2e = min((r for r in measured if r.e2e_ms.p50 is not None),
                   key=lambda r: r.e2e_ms.p50 or math.inf, default=None)
    return (best_ttft.target_label if best_ttft else None, best_e2e.target_label if best_e2e else None)


def flag_reason(label: str, flags: RowFlags) -> str:
    """Why a row carries ⚠, for the user who asks."""
    lag = fmt.ms(flags.worst_lag_ms) if flags.worst_lag_ms is not None else "over 10 ms"
    return (f"{label}: {flags.saturated} of {flags.measured} ok probes were timed while infertui's own "
            f"event loop was late (up to {lag}; the threshold is 10 ms). Their TTFT, e2e and tok/s "
            "include infertui's delay, not only the provider's: run fewer targets at once, or on a "
            "less busy machine, and compare again.")


# When the table is wider than its room, these columns go first, in this
# order; what says something failed (errors, ⚠ lag, errors by kind) and the
# headline numbers (TTFT p50, tok/s p50) stay, and the target names shorten.
DROP_ORDER = ("e2e95", "ttft95", "n", "ok", "e2e50")
MIN_TARGET_W = 12
CELL_PADDING = 2


MIN_KINDS_W = 14


@dataclass(frozen=True)
class Columns:
    """The columns shown at one width, and the widths of the two that vary."""

    keys: tuple[str, ...]
    target_w: int
    kinds_w: int

    def width_of(self, key: str, label: str) -> int:
        if key == "target":
            return max(len(label), self.target_w)
        if key == "kinds":
            return max(len(label), self.kinds_w)
        return max(WIDTHS.get(key) or 0, len(label))

    def total(self) -> int:
        labels = dict(COLUMNS)
        return sum(self.width_of(k, labels[k]) + CELL_PADDING for k in self.keys) + 1


def fit_columns(width: int, target_w: int, kinds_w: int = 0) -> Columns:
    """The columns for a table `width` cells wide: every one while there is
    room (or no width yet); then DROP_ORDER's go, then the error kinds and
    the target names shorten (each to a floor, cut with an ellipsis)."""
    fit = Columns(tuple(key for key, _ in COLUMNS), target_w, kinds_w)
    if width <= 0:
        return fit
    for key in DROP_ORDER:
        if fit.total() <= width:
            break
        fit = Columns(tuple(k for k in fit.keys if k != key), target_w, kinds_w)
    over = fit.total() - width
    if over > 0:  # error kinds first (their start says what failed), names last
        kinds_w = max(MIN_KINDS_W, kinds_w - over)
        fit = Columns(fit.keys, target_w, kinds_w)
    over = fit.total() - width
    if over > 0:
        fit = Columns(fit.keys, max(MIN_TARGET_W, target_w - over), kinds_w)
    return fit


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
        self.flags: dict[str, RowFlags] = {}
        self.columns_shown = fit_columns(0, 0)
        self._labels: list[str] | None = None

    @property
    def shown_columns(self) -> tuple[str, ...]:
        return self.columns_shown.keys

    def on_mount(self) -> None:
        self._add_columns(self._fit())

    def on_resize(self) -> None:
        if self._fit() != self.columns_shown:
            self._redraw()

    def _fit(self, labels: Sequence[str] | None = None) -> Columns:
        labels = self._rows_wanted() if labels is None else labels
        target_w = max((len(label) for label in labels), default=0)
        kinds_w = max((len(kinds_text(row)) for row in self.summary), default=0)
        return fit_columns(self.size.width, target_w, kinds_w)

    def _add_columns(self, fit: Columns) -> None:
        self.columns_shown = fit
        labels = dict(COLUMNS)
        for key in fit.keys:
            self.add_column(labels[key], key=key, width=fit.width_of(key, labels[key]))

    def _rows_wanted(self) -> list[str]:
        by_label = [row.target_label for row in self.summary]
        wanted = list(self._labels) if self._labels is not None else list(by_label)
        return wanted + [label for label in by_label if label not in wanted]

    def _cells(self, label: str, row: TargetSummary | None) -> list[str | Text]:
        cells = summary_cells(row, self.flags.get(label)) if row is not None else pending_cells(label)
        fit = self.columns_shown
        shown: list[str | Text] = []
        for (key, _label), given in zip(COLUMNS, cells, strict=True):
            if key not in fit.keys:
                continue
            cell = given
            if key == "target":
                cell = fmt.cell(label, max(fit.target_w, len("target")))
            elif key == "kinds" and isinstance(given, Text) and given.cell_len > fit.kinds_w:
                cell = fmt.cell(given.plain, fit.kinds_w, style="red")
            shown.append(cell)
        return shown

    def _redraw(self) -> None:
        self.clear(columns=True)
        self._add_columns(self._fit())
        by_label = {row.target_label: row for row in self.summary}
        for label in self._rows_wanted():
            self.add_row(*self._cells(label, by_label.get(label)), key=label)

    def update_from(self, summary: list[TargetSummary], labels: Sequence[str] | None = None,
                    probes: Iterable[ProbeResult] = ()) -> None:
        """Show `summary`; with `labels`, one row per label in that order (those
        without a summary row yet as pending), else one per summary row.
        `probes` (those the summary was made from) mark what the numbers rest
        on: ⚠ for probes timed while infertui lagged, `~` for estimated tokens."""
        self.summary = list(summary)
        self.flags = row_flags(probes)
        self._labels = list(labels) if labels is not None else None
        by_label = {row.target_label: row for row in summary}
        wanted = self._rows_wanted()
        present = [key.value for key in self.rows]
        if (present != wanted[:len(present)] or len(present) > len(wanted)
                or self._fit(wanted) != self.columns_shown):
            self._redraw()
            return
        for label in wanted:
            cells = self._cells(label, by_label.get(label))
            if label in present:
                for key, cell in zip(self.shown_columns, cells, strict=True):
                    self.update_cell(label, key, cell, update_width=True)
            else:
                self.add_row(*cells, key=label)

    def as_tsv(self) -> str:
        return summary_tsv(self.summary, self.flags)

    @property
    def highlighted_label(self) -> str | None:
        if not self.row_count or not 0 <= self.cursor_row < self.row_count:
            return None
        return str(self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key.value)
