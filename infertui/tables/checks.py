"""Check results as Rich tables: the report's own tables (compliance, why,
fidelity and its failures, agreement, cost; one code path picks the values
out of the document). `infertui probe --check` and `campaign show` print
them; the app shows them. Every cell is a `Text` through `one_line`: never
markup, never a control character."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from infertui.report.tables import Table, check_tables, cost_table
from infertui.tables.fit import Column, cell, fit_table

_STYLE = {"good": "green", "bad": "red", "muted": "dim"}
_WIDE = {"expected", "got", "why", "reason", "target", "reference"}


def rich_table(t: Table, width: int | None = None):
    columns = [Column(name, "right" if i in t.numeric else "left", wrap=name in _WIDE,
                      min_width=12 if name in _WIDE else 0) for i, name in enumerate(t.columns)]
    rows = [[cell(c.text, _STYLE.get(c.tone, "")) for c in row] for row in t.rows]
    return fit_table(columns, rows, width, title=Text(t.title, style="bold"))


def session_check_tables(doc: dict[str, Any], width: int | None = None) -> list:
    """From a session document's `checks` (none when no checks were asked)."""
    rows = (doc.get("checks") or {}).get("targets") or []
    if not rows:
        return []
    cost = cost_table(doc, ("checks", "targets"), rows, lambda i: None)
    tables = check_tables(doc, ("checks", "targets"), rows) + ([cost] if cost else [])
    return [rich_table(t, width) for t in tables]


def campaign_check_tables(doc: dict[str, Any], width: int | None = None) -> list:
    """From a campaign document's targets (none without checks)."""
    rows = doc["targets"]
    tables = check_tables(doc, ("targets",), rows)
    cost = cost_table(doc, ("targets",), rows, lambda i: ("targets", i, "cost_per_ok_usd"))
    return [rich_table(t, width) for t in tables + ([cost] if cost and tables else [])]
