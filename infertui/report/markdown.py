"""A report as Markdown: the same facts and tables as the HTML (charts are
the HTML's alone).

Markdown viewers render inline HTML and links, so every string is escaped:
`&`, `<` and `>` as entities (no tag can form), the characters Markdown
reads as syntax with a backslash, line breaks and control characters as
visible escapes (a cell stays one line).
"""

from __future__ import annotations

import re

from infertui.report.build import Report
from infertui.report.tables import Table
from infertui.textsafe import one_line

_SYNTAX = re.compile(r"([\\`*_{}\[\]()#+!|~])")


def md(text: object) -> str:
    s = one_line("" if text is None else text)
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SYNTAX.sub(r"\\\1", s)


def _table(t: Table) -> str:
    lines = [f"## {md(t.title)}", "", "| " + " | ".join(md(c) for c in t.columns) + " |",
             "|" + "|".join(" ---: " if i in t.numeric else " --- " for i in range(len(t.columns)))
             + "|"]
    lines.extend("| " + " | ".join(md(c.text) for c in row) + " |" for row in t.rows)
    if t.note:
        lines += ["", f"_{md(t.note)}_"]
    return "\n".join(lines)


def render(report: Report) -> str:
    parts = [f"# {md(report.title)}", ""]
    parts += [f"- **{md(k)}**: {md(v)}" for k, v in report.facts]
    parts += ["", "_Charts: in the HTML report (`--format html`)._", ""]
    parts += [_table(t) + "\n" for t in report.tables]
    return "\n".join(parts)
