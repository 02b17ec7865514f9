"""A pane's header: status and badges, the numbers, a sparkline of gaps.

Three rows drawn by one widget, each fitted to the width it gets: a row never
wraps into the next; what matters least is shortened, then dropped, until the
row fits (`fit_row`). The numbers row keeps TTFT and tok/s to the last.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from infertui.tui.fmt import GAP

SPARK_BARS = "▁▂▃▄▅▆▇█"
SEPARATORS = (Text.assemble((" ", GAP), ("·", "dim"), (" ", GAP)), Text("  ", style=GAP))
_CONSOLE: list[Console] = []


def _console() -> Console:
    """Rich needs a console to turn a Text's style names into styles (one, made when first drawn)."""
    if not _CONSOLE:
        _CONSOLE.append(Console(width=1 << 16, color_system="truecolor", legacy_windows=False))
    return _CONSOLE[0]


@dataclass(frozen=True)
class Part:
    """One piece of a header row: its forms from the longest to the shortest,
    and when each step away from the longest happens: `steps[i]` is the
    priority of going from form i to i+1, and a last extra step, if given,
    drops the part. Lower priorities go first."""

    forms: tuple[Text, ...]
    steps: tuple[int, ...]

    @classmethod
    def of(cls, *forms: Text | str, steps: tuple[int, ...] = ()) -> Part:
        texts = tuple(Text(f) if isinstance(f, str) else f for f in forms)
        if not len(texts) - 1 <= len(steps) <= len(texts):
            raise ValueError("one step per shorter form, and at most one to drop the part")
        return cls(texts, steps)


def gap() -> Text:
    return Text(" ", style=GAP)


def fit_row(parts: Sequence[Part], width: int, seps: Sequence[Text] = SEPARATORS[1:],
            template: Sequence[Part] | None = None) -> Text:
    """The parts joined by the first separator that lets them fit; if none
    does, the steps with the lowest priority (shorten a part, or drop it)
    are taken, and the next, until the row fits with one of the separators.
    What still does not fit is cut at `width`.

    With a `template` (the same parts holding the widest values they can
    take), the steps and the separator are chosen for the template and used
    for `parts`: every row built from the same template at the same width
    shows the same pieces, whatever its values (panes side by side keep
    their token counts together, and a row does not lose a piece as a
    number grows)."""
    levels, sep = _fit_levels(template if template is not None else parts, width, seps)
    line = sep.join([p.forms[lv] for p, lv in zip(parts, levels, strict=True) if lv < len(p.forms)])
    if line.cell_len > width:
        line.truncate(max(0, width))
    return line


def _fit_levels(parts: Sequence[Part], width: int, seps: Sequence[Text]) -> tuple[list[int], Text]:
    """(the form of each part, the separator) that `fit_row` uses at `width`."""
    levels = [0] * len(parts)
    while True:
        for sep in seps:
            pieces = [p.forms[lv] for p, lv in zip(parts, levels, strict=True) if lv < len(p.forms)]
            if sep.join(pieces).cell_len <= width:
                return levels, sep
        pending = [(part.steps[levels[i]], i) for i, part in enumerate(parts) if levels[i] < len(part.steps)]
        if not pending:
            return levels, seps[-1]
        lowest = min(pending)[0]
        for priority, i in pending:  # steps of equal priority go together
            if priority == lowest:
                levels[i] += 1


def spark_levels(gaps: Sequence[float], width: int) -> list[int]:
    """Bar heights (0-7) for the gaps: one bar per gap while they fit, else
    the largest gap of each of `width` equal runs. Fewer than two gaps say
    nothing about a stream's rhythm: no bars."""
    if len(gaps) < 2 or width <= 0:
        return []
    if len(gaps) > width:
        step = len(gaps) / width
        gaps = [max(gaps[int(i * step):max(int(i * step) + 1, int((i + 1) * step))])
                for i in range(width)]
    low, high = min(gaps), max(gaps)
    extent = high - low
    top = len(SPARK_BARS) - 1
    if extent <= 0:
        return [0] * len(gaps)
    return [min(top, int((g - low) / extent * top + 0.5)) for g in gaps]


@dataclass
class HeaderModel:
    """What the header shows; the pane fills it in, the widget fits it."""

    status: Part
    status_parts: list[Part] = field(default_factory=list)
    numbers: list[Part] = field(default_factory=list)
    numbers_template: list[Part] | None = None  # the widest values `numbers` can hold
    placeholder: Text | None = None  # instead of numbers (e.g. "waiting for a run")
    gaps: tuple[float, ...] = ()

    def rows(self, width: int) -> tuple[Text, Text]:
        first = fit_row([self.status, *self.status_parts], width)
        if self.placeholder is not None:
            second = self.placeholder.copy()
            second.truncate(max(0, width))
        else:
            second = fit_row(self.numbers, width, seps=SEPARATORS, template=self.numbers_template)
        return first, second

    def plain(self) -> str:
        """Both text rows at their longest (what tests and copies read)."""
        first, second = self.rows(1 << 20)
        return f"{first.plain}\n{second.plain}"


class PaneHeader(Widget, can_focus=False):
    """Three rows: status, numbers, sparkline; redrawn only when they change."""

    COMPONENT_CLASSES = {"pane-header--spark-min", "pane-header--spark-max"}
    DEFAULT_CSS = """
    PaneHeader { height: 3; }
    PaneHeader > .pane-header--spark-min { color: $primary 30%; }
    PaneHeader > .pane-header--spark-max { color: $primary; }
    """

    def __init__(self, model: HeaderModel, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._model = model
        self._rows: tuple[Text, Text] = (Text(), Text())  # as last drawn
        self._version = 0  # bumped by every update
        self._fitted: tuple[int, int, tuple[Text, Text]] | None = None  # (version, width, rows)
        self._gaps_drawn: tuple[float, ...] | None = None
        self._styles: tuple[Style, list[Style]] | None = None  # (base, one per bar height)
        # The width the rows are fitted to when it is less than the widget's
        # own: panes in a grid differ by a column, and fit to the narrowest.
        self.fit_width: int | None = None

    @property
    def model(self) -> HeaderModel:
        return self._model

    def update(self, model: HeaderModel) -> None:
        """Show `model`; only the rows whose text changed are redrawn."""
        self._model = model
        self._version += 1
        if not self.is_mounted:
            return
        width = self.size.width
        if width <= 0:
            return
        drawn = self._rows
        rows = self._fitted_rows(width)
        changed = [i for i, (a, b) in enumerate(zip(rows, drawn, strict=False)) if a != b]
        if model.gaps != self._gaps_drawn:
            changed.append(2)
        for row in changed:
            self.refresh(Region(0, row, width, 1))

    def _fitted_rows(self, width: int) -> tuple[Text, Text]:
        if self.fit_width is not None:
            width = min(width, self.fit_width)
        fitted = self._fitted
        if fitted is None or fitted[:2] != (self._version, width):
            fitted = self._fitted = (self._version, width, self._model.rows(width))
        return fitted[2]

    def notify_style_update(self) -> None:
        self._styles = None
        super().notify_style_update()

    def render_lines(self, crop: Region) -> list[Strip]:
        self._rows = self._fitted_rows(self.size.width)
        self._gaps_drawn = self._model.gaps
        return super().render_lines(crop)

    def _line_styles(self) -> tuple[Style, list[Style]]:
        # Styles come from walking the DOM: kept until the CSS or theme changes.
        if self._styles is None:
            base = self.rich_style
            low = self.get_component_styles("pane-header--spark-min").color
            high = self.get_component_styles("pane-header--spark-max").color
            _, background = self.background_colors
            top = len(SPARK_BARS) - 1
            self._styles = (base, [base + Style(color=(background + low.blend(high, i / top)).rich_color)
                                   for i in range(len(SPARK_BARS))])
        return self._styles

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        style, bar_styles = self._line_styles()
        if y < 2:
            text = self._rows[y]
            segments = [Segment(seg.text, style + seg.style if seg.style else style)
                        for seg in text.render(_console(), end="")]
            return Strip(segments).crop_extend(0, width, style)
        levels = spark_levels(self._model.gaps, width) if y == 2 else []
        if not levels:
            return Strip.blank(width, style)
        segments = [Segment(SPARK_BARS[lv], bar_styles[lv]) for lv in levels]
        return Strip(segments, len(levels)).crop_extend(0, width, style)
