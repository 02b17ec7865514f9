"""How numbers the core measured, and text from anywhere else, are written
on screen.

Data is never markup and never terminal control: every string from a server,
a file or a user reaches a widget as a `rich.text.Text` made by `plain` (text
that may span lines) or `cell` (one line: a table cell, a title, an option),
through `infertui.textsafe`. Durations and plain numbers follow
`infertui.units`, the rules the CLI and the exports use too.
"""

from __future__ import annotations

from rich.console import JustifyMethod
from rich.style import Style
from rich.text import Text

from infertui.core import metrics
from infertui.core.result import ProbeError, ProbeResult
from infertui.textsafe import display, one_line
from infertui.units import DASH, ms, num, seconds

__all__ = ["DASH", "GAP", "cell", "error_line", "ms", "num", "plain", "seconds", "tokens_and_tps"]

# The style of spaces between runs of text in different styles. It looks like
# no style, but is one of its own: a space at the edge of a styled run is, in
# an SVG screenshot, drawn as nothing by some renderers (rsvg), which stretch
# the run over it ("22 tok" reads "22tok"); a space that is a run of its own
# is left out of the SVG, and the gap stays where it is.
GAP = Style(dim=False)


def tokens_and_tps(r: ProbeResult) -> tuple[str, str]:
    """A finished probe's output tokens and decode speed as shown: `~` before
    both when the count is infertui's estimate, not the server's usage."""
    count, source = metrics.output_tokens(r)
    mark = "~" if source == "estimate" else ""
    tps = metrics.decode_tps(r)
    return (DASH if count is None else f"{mark}{count}",
            DASH if tps is None else f"{mark}{tps:.1f}")


def error_line(error: ProbeError) -> str:
    """`rate_limited · HTTP 429 · retry after 2 s`"""
    parts = [one_line(error.kind)]
    if error.http_status:
        parts.append(f"HTTP {error.http_status}")
    if error.retry_after is not None:
        parts.append(f"retry after {error.retry_after:g} s")
    return " · ".join(parts)


def plain(text: object, style: str | Style = "") -> Text:
    """Data that may span lines, as text: never markup, controls as escapes."""
    return Text(display(text), style=style)


def cell(text: object, limit: int | None = None, style: str | Style = "",
         justify: JustifyMethod | None = None) -> Text:
    """Data on one line (a cell, a title, an option): never markup, newlines
    and controls as escapes, cut to `limit` characters."""
    return Text(one_line(text, limit), style=style, justify=justify)
