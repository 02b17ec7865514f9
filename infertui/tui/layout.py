"""How the app fits the terminal it is given.

Below `NARROW_WIDTH` columns the sidebar starts collapsed and the footer is
compact; below `SHORT_HEIGHT` rows the header goes and panes may be short.
Panes are laid out in the grid shape that gives each the most usable room
(`grid_shape`). Pure functions; the app and the screens apply them.
"""

from __future__ import annotations

import math

NARROW_WIDTH = 110  # columns: under this the sidebar starts collapsed
SHORT_HEIGHT = 30  # rows: under this the header goes
MIN_PANE_WIDTH = 36  # a pane this wide shows its numbers row in full
MIN_PANE_HEIGHT = 8  # a pane this tall has its sparkline and a few lines of text
NARROWEST_PANE = 24  # never narrower, unless a single column is all there is


def size_classes(width: int, height: int) -> dict[str, bool]:
    """The classes the app carries at this size (CSS and screens read them)."""
    return {"-narrow": 0 < width < NARROW_WIDTH, "-short": 0 < height < SHORT_HEIGHT}


def grid_shape(count: int, width: int, height: int | None = None) -> tuple[int, int]:
    """(columns, rows) for `count` panes in `width` x `height` cells.

    Each shape is scored by how comfortable its panes are (1 when at least
    MIN_PANE_WIDTH wide and MIN_PANE_HEIGHT tall, less as the scarcer of the
    two runs out); the most comfortable wins, and among those the one with
    the most columns (side by side is how a race is read). Without a height,
    only widths count."""
    if count <= 0:
        return 1, 1
    best: tuple[float, int] | None = None
    shape = (1, count)
    for tried in range(1, count + 1):
        rows = math.ceil(count / tried)
        cols = math.ceil(count / rows)  # balanced: the last row is not nearly empty
        pane_w = width // cols
        if cols > 1 and pane_w < NARROWEST_PANE:
            break
        comfort = min(1.0, pane_w / MIN_PANE_WIDTH)
        if height is not None and height > 0:
            comfort = min(comfort, (height // rows) / MIN_PANE_HEIGHT)
        if cols > 1 and pane_w < MIN_PANE_WIDTH and height is None:
            break  # the old rule without a height: as many columns as fit
        score = (round(comfort, 3), cols)
        if best is None or score > best:
            best, shape = score, (cols, rows)
    return shape
