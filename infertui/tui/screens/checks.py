"""One target's check results in detail (F6 on the compare screen): each
compliance verdict with its reason and evidence (the request as sent, never
a key, the text, the counts), the fidelity score and every failure.
Everything a server or a user wrote is shown through `display`, as text."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from infertui.core.checks.steps import COMPLIANCE_CHECKS
from infertui.textsafe import display, one_line

_VERDICT = {"pass": "bold green", "fail": "bold red", "n/a": "dim"}
EVIDENCE_CHARS = 1200


def _cut(text: str) -> str:
    return text if len(text) <= EVIDENCE_CHARS else text[:EVIDENCE_CHARS] + " …"


def details(row: dict[str, Any]) -> Group:
    parts: list[Text] = []
    for check in COMPLIANCE_CHECKS:
        found = (row.get("compliance") or {}).get(check)
        if found is None:
            continue
        parts.append(Text.assemble((f"{check}  ", "bold"), (found["verdict"],
                                   _VERDICT.get(found["verdict"], "")), "  ",
                                   one_line(found["reason"])))
        for item in found["evidence"]:
            request = json.dumps(item["request"], ensure_ascii=False) if item["request"] else "—"
            parts.append(Text("  " + one_line(f"{item['step']}: {item['status']}, "
                                              f"{item['output_tokens']} tokens "
                                              f"({item['output_tokens_source']}), finish "
                                              f"{item['finish_reason']}"), style="dim"))
            parts.append(Text("  request " + display(_cut(request)), style="dim"))
            if item["reasoning_text"]:
                parts.append(Text("  reasoning " + display(_cut(item["reasoning_text"])),
                                  style="italic dim"))
            parts.append(Text("  text " + display(_cut(item["text"]))))
    fidelity = row.get("fidelity")
    if fidelity is not None:
        score = "—" if fidelity["score"] is None else f"{fidelity['score'] * 100:.1f}%"
        parts.append(Text.assemble(("\nfidelity  ", "bold"), score,
                                   f"  {fidelity['correct']} of {fidelity['n']} answered correct, "
                                   f"{fidelity['errors']} without an answer"))
        for failure in fidelity["failures"]:
            parts.append(Text.assemble(("  ✗ ", "red"), (one_line(failure["item"]), "bold"), "  ",
                                       one_line(failure["why"])))
            parts.append(Text("    expected " + display(_cut(failure["expected"])), style="dim"))
            parts.append(Text("    got " + display(_cut(failure["got"]))))
    agreement = row.get("agreement")
    if agreement is not None and agreement.get("exact") is not None:
        parts.append(Text.assemble(("\nagreement  ", "bold"), one_line(agreement["reference"]),
                                   f"  exact {agreement['exact'] * 100:.1f}%  similarity "
                                   f"{agreement['similarity']:.3f}  n {agreement['n']}"))
    return Group(*parts)


class CheckDetails(ModalScreen[None]):
    BINDINGS = [Binding("escape", "close", "Close", id="check_details_close")]
    DEFAULT_CSS = """
    CheckDetails > Vertical { width: 90%; height: 85%; border: round $accent; background: $surface; }
    CheckDetails VerticalScroll { height: 1fr; padding: 0 1; }
    """

    def __init__(self, row: dict[str, Any]) -> None:
        super().__init__(classes="dialog")
        self.row = row

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(f"Checks of {one_line(self.row['target'], 80)}  (escape closes)",
                             style="bold"))
            with VerticalScroll():
                yield Static(details(self.row), markup=False, id="check-details")

    def action_close(self) -> None:
        self.dismiss(None)
