"""Check results as tables in the app: the same Rich tables the command line
prints (infertui/tables/checks.py), built from the report's tables."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text

from infertui.tables.checks import campaign_check_tables, session_check_tables

__all__ = ["campaign_check_tables", "session_check_tables", "check_group"]


def check_group(tables: list) -> Group:
    return Group(*tables) if tables else Group(Text("No checks in this session.", style="dim"))
