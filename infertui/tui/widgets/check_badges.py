"""A target's check verdicts under its pane: the fidelity score and a badge
per compliance check, on one or two lines (F6 shows the details)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from infertui.core.checks.steps import COMPLIANCE_CHECKS

_BADGE = {"pass": ("✓", "bold green"), "fail": ("✗", "bold red"), "n/a": ("–", "dim")}
_SHORT = {"max_tokens": "max", "stop": "stop", "reasoning_off": "think-off", "seed": "seed",
          "json": "json"}


def badges(row: dict[str, Any]) -> Text:
    """`fidelity 9/12  max ✓ stop ✗ think-off – seed ✓ json ✓` from a check row."""
    out = Text()
    fidelity = row.get("fidelity")
    if fidelity is not None:
        good = fidelity["correct"] == fidelity["n"] and not fidelity["errors"]
        out.append("fidelity ", style="dim")
        out.append(f"{fidelity['correct']}/{fidelity['n'] + fidelity['errors']}",
                   style="bold green" if good else "bold red")
        out.append("  ")
    agreement = row.get("agreement")
    if agreement is not None and agreement.get("exact") is not None:
        out.append("agree ", style="dim")
        out.append(f"{agreement['exact'] * 100:.0f}%  ")
    for check in COMPLIANCE_CHECKS:
        found = (row.get("compliance") or {}).get(check)
        if found is None:
            continue
        mark, style = _BADGE.get(found["verdict"], ("?", "yellow"))
        out.append(f"{_SHORT[check]} ", style="dim")
        out.append(mark + " ", style=style)
    out.rstrip()
    return out


class CheckBadges(Static):
    DEFAULT_CSS = """
    CheckBadges { height: auto; max-height: 2; width: 1fr; }
    """

    def __init__(self, row: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(badges(row), markup=False, classes="check-badges", **kwargs)
        self.row = row

    def show(self, row: dict[str, Any]) -> None:
        self.row = row
        self.update(badges(row))
