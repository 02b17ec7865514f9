"""Panes side by side: the grid that the compare, session and replay
screens share, laid out in the shape that suits its size (layout.grid_shape)."""

from __future__ import annotations

from textual.containers import Grid

from infertui.tui.layout import grid_shape
from infertui.tui.widgets.pane import NumberValues, ProbePane, widest_values


class PaneGrid(Grid):
    """Panes in as many columns as suit the room they have.

    The grid also keeps the widest values its panes' numbers rows have shown
    (this run's): each header is fitted as if it held those, so panes side by
    side keep or drop the same pieces (a token count never disappears from
    one pane while its neighbour keeps it)."""

    DEFAULT_CSS = """
    PaneGrid { height: 1fr; grid-gutter: 0 0; }
    """

    def __init__(self, *children, **kwargs) -> None:
        super().__init__(*children, **kwargs)
        self._widest: NumberValues | None = None
        self._refit_pending = False

    def widest_numbers(self, values: NumberValues) -> NumberValues:
        widest = values if self._widest is None else widest_values(self._widest, values)
        if widest != self._widest:
            first = self._widest is None
            self._widest = widest
            if not first and not self._refit_pending:
                self._refit_pending = True
                self.call_after_refresh(self._refit)
        return widest

    def reset_widths(self) -> None:
        """A new run: forget the last run's widest values."""
        self._widest = None

    def _refit(self) -> None:
        self._refit_pending = False
        for pane in self.query_children(ProbePane):
            pane.refit_header()

    def on_mount(self) -> None:
        self.call_after_refresh(self.layout_panes)

    def on_resize(self) -> None:
        self.call_after_refresh(self.layout_panes)

    def layout_panes(self) -> None:
        count = len(self.query_children(ProbePane))
        width = self.size.width or self.screen.size.width
        cols, rows = grid_shape(count, width, self.size.height or None)
        if (self.styles.grid_size_columns, self.styles.grid_size_rows) != (cols, rows):
            self.styles.grid_size_columns = cols
            self.styles.grid_size_rows = rows
