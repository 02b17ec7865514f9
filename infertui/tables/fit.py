"""Tables of the headless commands, fitted to the terminal by priority.

Rich squeezes every column of a table that is too wide, until numbers turn
into `…`; the columns that say something failed (n, ok, err, errors) must
never go that way. Here each column has a priority: when the table does not
fit, whole columns of the lowest priority are left out (the detail a wider
terminal shows), the target label wraps, and the essential ones keep their
width. Every cell that carries data is a `rich.text.Text` made by `cell()`:
never markup, never a control character.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from rich.cells import cell_len
from rich.console import JustifyMethod
from rich.table import Table
from rich.text import Text

from infertui.textsafe import one_line

ESSENTIAL = 0  # never left out


def cell(value: object, style: str = "") -> Text:
    """A table cell from any value: one line, controls as visible escapes."""
    if isinstance(value, Text):
        return value
    return Text("" if value is None else one_line(value), style=style)


@dataclass(frozen=True)
class Column:
    name: str
    justify: JustifyMethod = "right"
    priority: int = ESSENTIAL  # higher: left out first
    wrap: bool = False  # may wrap (the target label, the error list)
    min_width: int = 0  # what a wrapping column keeps at least


def _widest(column: Column, cells: Sequence[Text]) -> int:
    return max([cell_len(column.name), *(c.cell_len for c in cells)])


def _width(column: Column, cells: Sequence[Text]) -> int:
    """The width a column needs at least: all of it, or for a wrapping one
    its `min_width` (never less than its header)."""
    widest = _widest(column, cells)
    return min(widest, max(column.min_width, cell_len(column.name))) if column.wrap else widest


def fit_table(columns: Sequence[Column], rows: Sequence[Sequence[Text]], width: int | None,
              title: Text | str | None = None) -> Table:
    """A table of `rows` (one cell per column) in at most `width` cells."""
    keep = list(range(len(columns)))
    widths: dict[int, int] = {}
    if width is not None:
        def needed(indices: list[int]) -> int:
            # Each column: its width and one space either side; plus the
            # borders between and around them.
            return sum(_width(columns[i], [r[i] for r in rows]) + 3 for i in indices) + 1
        while needed(keep) > width:
            droppable = [i for i in keep if columns[i].priority != ESSENTIAL]
            if not droppable:
                break
            keep.remove(max(droppable, key=lambda i: (columns[i].priority, i)))
        # What is left after the columns that never wrap goes to the wrapping
        # ones: each its minimum, then the rest in column order (the target first).
        room = width - needed(keep)
        for i in keep:
            if columns[i].wrap:
                cells = [r[i] for r in rows]
                extra = max(0, min(room, _widest(columns[i], cells) - _width(columns[i], cells)))
                widths[i] = _width(columns[i], cells) + extra
                room -= extra
    table = Table(title=title, header_style="bold", expand=False)
    for i in keep:
        column = columns[i]
        table.add_column(column.name, justify=column.justify,
                         no_wrap=not column.wrap, overflow="fold" if column.wrap else "ellipsis",
                         width=widths.get(i))
    for row in rows:
        table.add_row(*(row[i] for i in keep))
    return table


def plural(count: int, word: str, many: str | None = None) -> str:
    """'1 probe', '2 probes'."""
    return f"{count} {word if count == 1 else (many or word + 's')}"
