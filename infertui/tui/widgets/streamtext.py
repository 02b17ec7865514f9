"""Text that grows at the end, wrapped incrementally and drawn line by line.

A streamed answer arrives a few characters at a time, tens of times a second,
in up to twelve panes. Here only the open last line is re-wrapped, only the
visible lines are drawn (Textual's line API), and only the rows that changed
are refreshed while the view does not move.

The widget scrolls itself instead of being a ScrollView: a ScrollView's
scrollbar is a widget of its own, redrawn on every frame while the text
follows the end, and its first appearance lays out the whole screen; with a
dozen panes streaming, those two were most of what a frame cost. Here the
scroll position is a plain number and the scrollbar is a thumb drawn in the
text's last column (reserved, so text never re-wraps when it appears).
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len, get_character_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

from infertui.textsafe import display

WHEEL_LINES = 3


def _cut_cells(text: str, width: int) -> int:
    """How many characters of `text` fit in `width` cells (at least one)."""
    used = 0
    for i, char in enumerate(text):
        used += get_character_cell_size(char)
        if used > width:
            return max(1, i)
    return len(text)


def wrap_into(lines: list[str], open_line: str, width: int) -> str:
    """Move every full line off the front of `open_line` into `lines`, breaking
    at the last space that fits (or mid-word when none does); returns the rest.
    Greedy wrapping is prefix-stable, so lines once moved never change.
    Widths are terminal cells (a CJK character or an emoji takes two)."""
    ascii_only = open_line.isascii()
    while (len(open_line) if ascii_only else cell_len(open_line)) > width:
        fits = width if ascii_only else _cut_cells(open_line, width)
        cut = open_line.rfind(" ", 0, fits + 1)
        if cut <= 0:
            lines.append(open_line[:fits])
            open_line = open_line[fits:]
        else:
            lines.append(open_line[:cut])
            open_line = open_line[cut + 1:]
    return open_line


class StreamText(Widget, can_focus=False):
    """Appended text, shown wrapped; follows the end unless scrolled up."""

    COMPONENT_CLASSES = {"stream-text--thumb"}
    DEFAULT_CSS = """
    StreamText { height: 1fr; }
    StreamText > .stream-text--thumb { color: $panel-lighten-3; }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._parts: list[str] = []  # the whole text, as appended
        self._pending: list[str] = []  # appended, not yet wrapped
        self._lines: list[str] = []  # finished wrapped lines
        self._open = ""  # the last line, still growing
        self._wrap_width = 0
        self._top: int | None = None  # first line shown; None: follow the end
        self._shown_top = 0  # the first line as last drawn
        self._shown_thumb: tuple[int, int] | None = None
        self._styles: tuple[Style, Style] | None = None  # (text, thumb); DOM walks, so kept

    # -- data -----------------------------------------------------------------
    @property
    def text(self) -> str:
        return "".join(self._parts) + "".join(self._pending)

    @property
    def line_count(self) -> int:
        # The open line counts once it has text (or when there is nothing else).
        return len(self._lines) + (1 if self._open or not self._lines else 0)

    @property
    def following(self) -> bool:
        """True while the view follows the end of the text."""
        return self._top is None

    @property
    def first_shown(self) -> int:
        """The index of the first wrapped line in view."""
        return self._view_top(self.size.height)

    def append(self, text: str) -> None:
        """Buffer text; nothing is drawn until `flush`."""
        if text:
            self._pending.append(text)

    def clear(self) -> None:
        self._parts.clear()
        self._pending.clear()
        self._lines.clear()
        self._open = ""
        self._top = None
        if self.is_mounted:
            self._relayout_if_auto()
            self.refresh()

    def flush(self) -> bool:
        """Wrap what was appended since the last flush and redraw what changed;
        True if anything did."""
        if not self._pending or not self.is_mounted:
            return False
        delta = "".join(self._pending)
        self._pending.clear()
        self._parts.append(delta)
        width = self._text_width()
        if width != self._wrap_width:
            self._rewrap(width)
            self.refresh()
            self._relayout_if_auto()
            return True
        first_changed = len(self._lines)  # the open line's index before the feed
        self._feed(delta)
        if not self._relayout_if_auto():
            self._refresh_from(first_changed)
        return True

    # -- scrolling ----------------------------------------------------------------
    def scroll_lines(self, delta: int) -> None:
        """Move the view by `delta` lines; reaching the end follows it again."""
        height = self.size.height
        last_top = max(0, self.line_count - height)
        top = max(0, min(last_top, self._view_top(height) + delta))
        self._top = None if top >= last_top else top
        self.refresh()

    # Textual's scroll options (animation and the like) do not apply: the
    # view is drawn from `_top`.
    def scroll_home(self, **_options: Any) -> None:
        self._top = 0 if self.line_count > self.size.height else None
        self.refresh()

    def scroll_end(self, **_options: Any) -> None:
        self._top = None
        self.refresh()

    def page(self, pages: int) -> None:
        self.scroll_lines(pages * max(1, self.size.height - 1))

    def _on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if self.line_count > self.size.height:
            event.stop()
            self.scroll_lines(-WHEEL_LINES)

    def _on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        if self.line_count > self.size.height:
            event.stop()
            self.scroll_lines(WHEEL_LINES)

    # -- wrapping ---------------------------------------------------------------
    def _text_width(self) -> int:
        # The last column is the scrollbar's, shown or not.
        width = self.size.width - 1
        return max(8, width if width > 0 else 40)

    def _feed(self, delta: str) -> None:
        # Text from a server: a line end may be CRLF; any other control
        # character is drawn as its escape, never sent to the terminal.
        delta = display(delta.replace("\r\n", "\n")).replace("\t", "    ")
        width = self._wrap_width
        pieces = delta.split("\n")
        self._open = wrap_into(self._lines, self._open + pieces[0], width)
        for piece in pieces[1:]:
            self._lines.append(self._open)
            self._open = wrap_into(self._lines, piece, width)

    def _rewrap(self, width: int) -> None:
        self._wrap_width = width
        self._lines = []
        self._open = ""
        self._feed("".join(self._parts))

    def on_resize(self) -> None:
        width = self._text_width()
        if width != self._wrap_width:
            self._rewrap(width)
        if self._pending:  # appended before the widget was on screen
            self.flush()
        self.refresh()

    def _view_top(self, height: int) -> int:
        last_top = max(0, self.line_count - height)
        return last_top if self._top is None else min(self._top, last_top)

    def _thumb(self, height: int, top: int) -> tuple[int, int] | None:
        """Rows (start, end) of the scrollbar's thumb, None when all lines fit."""
        total = self.line_count
        if total <= height or height <= 0:
            return None
        size = max(1, round(height * height / total))
        start = round(top * (height - size) / max(1, total - height))
        return start, start + size

    def _refresh_from(self, first_changed: int) -> None:
        """Refresh the rows that show lines from `first_changed` on, or every
        row when the view moved (or the thumb did)."""
        height = self.size.height
        top = self._view_top(height)
        if top != self._shown_top or self._thumb(height, top) != self._shown_thumb:
            self.refresh()
            return
        row = max(0, first_changed - top)
        if row < height:
            self.refresh(Region(0, row, self.size.width, height - row))

    # -- auto height (the reasoning box grows with its text, up to a limit) ----------
    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        text_width = max(8, width - 1)
        if text_width != self._wrap_width:
            self._rewrap(text_width)
        return self.line_count

    def _relayout_if_auto(self) -> bool:
        """An auto-height box that should now have a different height asks for a
        layout (at most a few times: max-height caps it); True if it did."""
        height = self.styles.height
        if height is None or not height.is_auto or not self.region.area:
            return False  # fixed height, or hidden (the layout that shows it sizes it)
        max_height = self.styles.max_height
        limit = int(max_height.value) if max_height is not None and max_height.is_cells else 1 << 30
        if min(self.line_count, limit) != self.size.height:
            self.refresh(layout=True)
            return True
        return False

    # -- drawing ----------------------------------------------------------------
    def notify_style_update(self) -> None:
        self._styles = None
        super().notify_style_update()

    def _line_styles(self) -> tuple[Style, Style]:
        # Styles come from walking the DOM (a third of a frame's cost when taken
        # per draw): kept until the CSS or the theme changes.
        if self._styles is None:
            text = self.rich_style
            thumb = self.get_component_rich_style("stream-text--thumb", partial=True)
            self._styles = (text, text + Style(color=thumb.color))
        return self._styles

    def render_lines(self, crop: Region) -> list[Strip]:
        height = self.size.height
        self._shown_top = self._view_top(height)
        self._shown_thumb = self._thumb(height, self._shown_top)
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        style, thumb_style = self._line_styles()
        index = self._shown_top + y
        if index < len(self._lines):
            text = self._lines[index]
        elif index == len(self._lines):
            text = self._open
        else:
            text = ""
        thumb = self._shown_thumb
        bar = "▐" if thumb is not None and thumb[0] <= y < thumb[1] else " "
        text_width = width - 1
        cells = len(text) if text.isascii() else cell_len(text)
        if cells > text_width:
            return Strip([Segment(text, style)]).crop_extend(0, width, style)
        return Strip([Segment(text + " " * (text_width - cells), style),
                      Segment(bar, thumb_style)], width)
