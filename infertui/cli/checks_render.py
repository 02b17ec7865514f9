"""Check results in a terminal: the report's own tables (compliance,
fidelity and its failures, agreement, cost), drawn with Rich. Every cell is a
`Text` through `one_line`: never markup, never a control character."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from infertui.cli.render import data_console
from infertui.cli.tables import Column, cell, fit_table
from infertui.report.tables import Table, check_tables, cost_table

_STYLE = {"good": "green", "bad": "red", "muted": "dim"}
_WIDE = {"expected", "got", "why", "reason", "target"}


def rich_table(t: Table, width: int | None):
    columns = [Column(name, "right" if i in t.numeric else "left", wrap=name in _WIDE,
                      min_width=12 if name in _WIDE else 0) for i, name in enumerate(t.columns)]
    rows = [[cell(c.text, _STYLE.get(c.tone, "")) for c in row] for row in t.rows]
    return fit_table(columns, rows, width, title=Text(t.title, style="bold"))


def print_checks(doc: dict[str, Any], console=None) -> None:
    """The checks of a session document (`doc["checks"]`)."""
    console = console or data_console()
    rows = (doc.get("checks") or {}).get("targets") or []
    if not rows:
        return
    tables = check_tables(doc, ("checks", "targets"), rows)
    cost = cost_table(doc, ("checks", "targets"), rows, lambda i: None)
    for t in tables + ([cost] if cost is not None else []):
        console.print(rich_table(t, console.width if console.is_terminal else None))
