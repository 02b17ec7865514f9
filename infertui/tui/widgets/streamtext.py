"""Text that grows at the end, wrapped incrementally and drawn line by line.

A streamed answer arrives a few characters at a time, tens of times a second,
in up to twelve panes. Re-wrapping and re-laying out the whole text on every
frame would cost more as the answer grows; here only the open last line is
re-wrapped, and only the visible lines are drawn (Textual's line API).
"""

from __future__ import annotations

from rich.segment import Segment
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip


def wrap_into(lines: list[str], open_line: str, width: int) -> str:
    """Move every full line off the front of `open_line` into `lines`, breaking
    at the last space that fits (or mid-word when none does); returns the rest.
    Greedy wrapping is prefix-stable, so lines once moved never change."""
    while len(open_line) > width:
        cut = open_line.rfind(" ", 0, width + 1)
        if cut <= 0:
            lines.append(open_line[:width])
            open_line = open_line[width:]
        else:
            lines.append(open_line[:cut])
            open_line = open_line[cut + 1:]
    return open_line


class StreamText(ScrollView, can_focus=False):
    """Appended text, shown wrapped; follows the end unless scrolled up."""

    DEFAULT_CSS = """
    StreamText {
        height: 1fr;
        scrollbar-size-vertical: 1;
        overflow-x: hidden;
    }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._parts: list[str] = []  # the whole text, as appended
        self._pending: list[str] = []  # appended, not yet wrapped
        self._lines: list[str] = []  # finished wrapped lines
        self._open = ""  # the last line, still growing
        self._wrap_width = 0

    # -- data -----------------------------------------------------------------
    @property
    def text(self) -> str:
        return "".join(self._parts) + "".join(self._pending)

    @property
    def pending_text(self) -> str:
        """Appended since the last flush."""
        return "".join(self._pending)

    @property
    def line_count(self) -> int:
        # The open line counts once it has text (or when there is nothing else).
        return len(self._lines) + (1 if self._open or not self._lines else 0)

    def append(self, text: str) -> None:
        """Buffer text; nothing is drawn until `flush`."""
        if text:
            self._pending.append(text)

    def clear(self) -> None:
        self._parts.clear()
        self._pending.clear()
        self._lines.clear()
        self._open = ""
        if self.is_mounted:
            self.virtual_size = Size(self._wrap_width, 1)
            self.scroll_to(0, 0, animate=False, immediate=True)
            self.refresh()

    def set_text(self, text: str) -> None:
        self.clear()
        self.append(text)
        self.flush()

    def flush(self) -> bool:
        """Wrap what was appended since the last flush and redraw; True if anything changed."""
        if not self._pending or not self.is_mounted:
            return False
        delta = "".join(self._pending)
        self._pending.clear()
        self._parts.append(delta)
        width = self._current_width()
        if width != self._wrap_width:
            self._rewrap(width)
        else:
            self._feed(delta)
        self._update_size()
        return True

    # -- wrapping ---------------------------------------------------------------
    def _current_width(self) -> int:
        width = self.scrollable_content_region.width
        return max(8, width if width > 0 else self.size.width or 40)

    def _feed(self, delta: str) -> None:
        delta = delta.replace("\r", "").replace("\t", "    ")
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

    def _update_size(self) -> None:
        follow = self.scroll_y >= self.max_scroll_y - 1
        size = Size(self._wrap_width, self.line_count)
        if size == self.virtual_size:
            self.refresh()
            return
        if self._height_follows_content() or not self.is_mounted:
            self.virtual_size = size  # a reactive with layout=True: the screen is laid out again
        else:
            # Our box does not change size with the text: only the scrollbar
            # does. Setting virtual_size plainly would lay out the whole screen
            # on every frame; set it quietly and update the scrollbars.
            self.set_reactive(StreamText.virtual_size, size)
            shown = (self.show_vertical_scrollbar, self.show_horizontal_scrollbar)
            self._scroll_update(size)
            if shown != (self.show_vertical_scrollbar, self.show_horizontal_scrollbar):
                self.refresh(layout=True)
        if follow:
            self.scroll_to(y=max(0, size.height - self.scrollable_content_region.height),
                           animate=False, immediate=True)
        self.refresh()

    def _height_follows_content(self) -> bool:
        """True while an auto-height box still changes height with its lines."""
        height = self.styles.height
        if height is None or not height.is_auto:
            return False
        max_height = self.styles.max_height
        limit = int(max_height.value) if max_height is not None and max_height.is_cells else 1 << 30
        return self.size.height != min(self.line_count, limit)

    def on_resize(self) -> None:
        width = self._current_width()
        if width != self._wrap_width:
            self._rewrap(width)
            self._update_size()

    # -- drawing ----------------------------------------------------------------
    def render_lines(self, crop):
        # The widget's style walks its ancestors: take it once per redraw, not per line.
        self._line_style = self.rich_style
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        index = y + self.scroll_offset.y
        width = self.scrollable_content_region.width
        style = getattr(self, "_line_style", None) or self.rich_style
        if index < len(self._lines):
            text = self._lines[index]
        elif index == len(self._lines):
            text = self._open
        else:
            return Strip.blank(width, style)
        return Strip([Segment(text, style)]).crop_extend(0, width, style)
