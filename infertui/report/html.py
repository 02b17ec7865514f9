"""A report as one self-contained HTML file: inline style, inline SVG charts,
no script, no external font, style or image. A Content-Security-Policy
forbids loading anything at all, in case a string ever got through.

Model answers, error messages, prompts and target names are hostile data:
every one is HTML-escaped (quotes included) where it is written, and shown
with control characters as visible escapes. Each table cell carries the
document's own value and where it is in the document (`data-v`,
`data-path`), so what the page says can be checked against the document.
"""

from __future__ import annotations

import json
from html import escape

from infertui import __version__
from infertui.report import svg
from infertui.report.build import Report
from infertui.report.tables import Table
from infertui.textsafe import display

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'"
STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #212529;
       margin: 2rem auto; max-width: 1100px; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 .5rem; border-bottom: 1px solid #dee2e6; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; }
dl.facts dt { color: #495057; } dl.facts dd { margin: 0; white-space: pre-wrap; word-break: break-word; }
table { border-collapse: collapse; margin: .5rem 0 .25rem; font-size: 13px; }
th, td { border: 1px solid #dee2e6; padding: .25rem .5rem; vertical-align: top; text-align: left; }
th { background: #f1f3f5; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.text { white-space: pre-wrap; word-break: break-word; max-width: 28rem; }
td.good { color: #2b8a3e; font-weight: 600; } td.bad { color: #c92a2a; font-weight: 600; }
td.muted { color: #868e96; }
p.note { color: #495057; font-size: 12px; margin: 0 0 1rem; }
figure { margin: 1rem 0; } figcaption { font-weight: 600; margin-bottom: .25rem; }
svg.chart { max-width: 100%; height: auto; border: 1px solid #e9ecef; }
footer { margin-top: 3rem; color: #868e96; font-size: 12px; }
"""
_LONG_TEXT = {"expected", "got", "why", "reason", "prompt"}


def _e(text: object) -> str:
    return escape(display(text), quote=True)


def _table(t: Table) -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in t.columns)
    rows = []
    for row in t.rows:
        cells = []
        for i, c in enumerate(row):
            classes = [cls for cls in (
                "num" if i in t.numeric else ("text" if t.columns[i] in _LONG_TEXT else ""),
                c.tone) if cls]
            attrs = f' class="{" ".join(classes)}"' if classes else ""
            if c.path is not None:
                attrs += (f' data-path="{_e(c.path)}" '
                          f'data-v="{escape(json.dumps(c.value, ensure_ascii=False), quote=True)}"')
            cells.append(f"<td{attrs}>{_e(c.text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    note = f'<p class="note">{_e(t.note)}</p>' if t.note else ""
    return (f'<section id="table-{_e(t.id)}"><h2>{_e(t.title)}</h2><table><thead><tr>{head}'
            f'</tr></thead><tbody>{"".join(rows)}</tbody></table>{note}</section>')


def render(report: Report) -> str:
    facts = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in report.facts)
    charts = "".join(f"<figure><figcaption>{_e(c.title)}</figcaption>{svg.render(c)}</figure>"
                     for c in report.charts)
    tables = "".join(_table(t) for t in report.tables)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(report.title)} · infertui report</title><style>{STYLE}</style></head><body>"
        f"<header><h1>{_e(report.title)}</h1><dl class=\"facts\">{facts}</dl></header>"
        f'<section id="charts"><h2>Charts</h2>{charts}</section>{tables}'
        f"<footer>infertui {escape(__version__)} · {_e(report.document.get('schema', ''))} · "
        "every number here is the document's own; `--format json` gives the document</footer>"
        "</body></html>\n")
