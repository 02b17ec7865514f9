"""Check results as tables in the app: the report's own tables (one code
path picks the values out of the document), drawn with Rich."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table as RichTable
from rich.text import Text

from infertui.report.tables import Table, check_tables, cost_table

_STYLE = {"good": "green", "bad": "red", "muted": "dim"}


def rich_table(t: Table) -> RichTable:
    out = RichTable(title=Text(t.title, style="bold"), header_style="bold", expand=False)
    for i, name in enumerate(t.columns):
        out.add_column(name, justify="right" if i in t.numeric else "left",
                       overflow="fold", max_width=60)
    for row in t.rows:
        out.add_row(*(Text(c.text, style=_STYLE.get(c.tone, "")) for c in row))
    return out


def _group(tables: list[Table]) -> list[RichTable]:
    return [rich_table(t) for t in tables]


def session_check_tables(doc: dict[str, Any]) -> list[RichTable]:
    """From a session document's `checks` (empty when none were asked)."""
    rows = (doc.get("checks") or {}).get("targets") or []
    if not rows:
        return []
    cost = cost_table(doc, ("checks", "targets"), rows, lambda i: None)
    return _group(check_tables(doc, ("checks", "targets"), rows) + ([cost] if cost else []))


def campaign_check_tables(doc: dict[str, Any]) -> list[RichTable]:
    """From a campaign document's targets (empty without checks)."""
    rows = doc["targets"]
    cost = cost_table(doc, ("targets",), rows, lambda i: ("targets", i, "cost_per_ok_usd"))
    tables = check_tables(doc, ("targets",), rows)
    return _group(tables + ([cost] if cost and tables else []))


def check_group(tables: list[RichTable]) -> Group:
    return Group(*tables) if tables else Group(Text("No checks in this session.", style="dim"))
