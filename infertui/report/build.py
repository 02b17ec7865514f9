"""A report: the document, what it is about, its tables and its charts.

`campaign_report(doc, samples)` takes the campaign document exactly as
`campaign show --json` prints it (built by core/campaign/document.py from the
stored campaign); `session_report(doc)` the session document `show --json`
prints. The JSON format is the document itself with the chart series beside
it, so every number in a report is one of the document's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from infertui.report.charts import Chart, campaign_charts, session_charts
from infertui.report.tables import Table, campaign_tables, session_tables

SCHEMA = "infertui.report/1"


@dataclass
class Report:
    kind: str  # "campaign" or "session"
    title: str
    facts: list[tuple[str, str]]  # what it is about: (name, value)
    document: dict[str, Any]
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "kind": self.kind, "document": self.document,
                "charts": [c.to_json() for c in self.charts]}


def _params(params: Mapping[str, Any]) -> str:
    shown = []
    for key in ("max_tokens", "temperature", "top_p", "reasoning", "request_seed", "stop",
                "json_output"):
        value = params.get(key)
        if value is None or value == [] or value is False:
            continue
        shown.append(f"{key} {value}")
    return ", ".join(shown) or "provider defaults"


def campaign_report(doc: dict[str, Any],
                    samples: Mapping[str, Mapping[str, Sequence[float]]]) -> Report:
    spec = doc["spec"]
    facts = [("campaign", f"{doc['name']} ({doc['campaign_id']})"), ("status", doc["status"]),
             ("vantage point", doc["vantage"]), ("started", doc["started_at"]),
             ("finished", doc["finished_at"] or "—"),
             ("targets", ", ".join(t["target"] for t in doc["targets"])),
             ("requests per cell", str(spec["requests"])),
             ("concurrency", ", ".join(str(c) for c in spec["concurrency"])),
             ("rounds", str(len(doc["rounds"]))),
             ("parameters", _params(spec.get("params") or {}))]
    if spec.get("checks") or spec.get("reference"):
        facts.append(("checks", ", ".join(spec.get("checks") or [])
                      + (f"; reference {spec['reference']}" if spec.get("reference") else "")))
    return Report("campaign", f"Campaign {doc['name']}", facts, doc, campaign_tables(doc),
                  campaign_charts(doc, samples))


def session_report(doc: dict[str, Any]) -> Report:
    params = doc["params"]
    prompt = params.get("prompt") or ""
    facts = [("session", doc["session_id"]), ("started", doc["started_at"]),
             ("finished", doc.get("finished_at") or "—"), ("host", doc.get("host") or "—"),
             ("targets", ", ".join(f"{t['provider']}/{t['model']}" for t in doc["targets"])),
             ("prompt", prompt if len(prompt) <= 400 else prompt[:399] + "…"),
             ("parameters", _params(params))]
    checks = doc.get("checks")
    if checks:
        facts.append(("checks", ", ".join(checks.get("asked") or [])
                      + (f"; reference {checks['reference']}" if checks.get("reference") else "")))
    return Report("session", f"Session {doc['session_id']}", facts, doc, session_tables(doc),
                  session_charts(doc))
