"""The verdict tables of a report, picked out of a session or campaign
document. Every cell keeps the document's own value and its place in the
document (a JSON pointer), so a renderer only formats it, and a test can
check every number against the document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from infertui.core.checks.steps import COMPLIANCE_CHECKS
from infertui.report import fmt

Format = Callable[[Any], str]


@dataclass(frozen=True)
class Cell:
    value: Any  # as the document has it (a number, a string, None)
    text: str  # as shown
    path: str | None = None  # JSON pointer into the document; None for a label made here
    tone: str = ""  # "good", "bad", "muted": how a renderer may colour it


@dataclass
class Table:
    id: str
    title: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    note: str = ""
    numeric: set[int] = field(default_factory=set)  # columns aligned right


def _pointer(*parts: Any) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _get(doc: Any, *parts: Any) -> Any:
    for p in parts:
        if doc is None:
            return None
        doc = doc[p] if isinstance(doc, list) else doc.get(p)
    return doc


def at(doc: Any, base: Sequence[Any], *parts: Any, show: Format = fmt.text, tone: str = "") -> Cell:
    value = _get(doc, *base, *parts)
    return Cell(value, show(value), _pointer(*base, *parts), tone)


def label(text: str) -> Cell:
    return Cell(text, text)


VERDICT_TONE = {"pass": "good", "fail": "bad", "n/a": "muted"}


# --- tables both documents have ------------------------------------------------

def check_tables(doc: dict[str, Any], rows_at: Sequence[Any], rows: list[dict[str, Any]]
                 ) -> list[Table]:
    """Compliance, fidelity (and its failures), agreement and cost per
    correct answer, from per-target check rows at `rows_at` in `doc`."""
    out: list[Table] = []
    have = lambda key: [(i, r) for i, r in enumerate(rows) if r.get(key) is not None]  # noqa: E731 - a local shorthand
    compliance = have("compliance")
    if compliance:
        t = Table("compliance", "Parameter compliance", ["target", *COMPLIANCE_CHECKS],
                  note="pass / fail / n/a (the API has no such switch, or nothing to switch)")
        details = Table("compliance-details", "Compliance: why", ["target", "check", "verdict",
                                                                  "reason"])
        for i, r in compliance:
            cells = [at(doc, rows_at, i, "target")]
            for check in COMPLIANCE_CHECKS:
                found = r["compliance"].get(check)
                verdict = found["verdict"] if found else None
                cells.append(Cell(verdict, verdict or fmt.NONE,
                                  _pointer(*rows_at, i, "compliance", check, "verdict") if found
                                  else None, VERDICT_TONE.get(verdict or "", "muted")))
                if found:
                    base = (*rows_at, i, "compliance", check)
                    details.rows.append([at(doc, rows_at, i, "target"), label(check),
                                         at(doc, base, "verdict",
                                            tone=VERDICT_TONE.get(found["verdict"], "")),
                                         at(doc, base, "reason")])
            t.rows.append(cells)
        out += [t, details]
    fidelity = have("fidelity")
    if fidelity:
        t = Table("fidelity", "Fidelity suite", ["target", "score", "correct", "answered", "errors"],
                  numeric={1, 2, 3, 4}, note="score = correct / answered, at temperature 0")
        failures = Table("fidelity-failures", "Fidelity failures",
                         ["target", "item", "category", "expected", "got", "why"])
        for i, r in fidelity:
            base = (*rows_at, i, "fidelity")
            score = r["fidelity"]["score"]
            t.rows.append([at(doc, rows_at, i, "target"),
                           at(doc, base, "score", show=fmt.share,
                              tone="good" if score == 1 else ("bad" if score is not None else "")),
                           at(doc, base, "correct", show=fmt.count),
                           at(doc, base, "n", show=fmt.count),
                           at(doc, base, "errors", show=fmt.count)])
            for j, _ in enumerate(r["fidelity"]["failures"]):
                fb = (*base, "failures", j)
                failures.rows.append([at(doc, rows_at, i, "target"), at(doc, fb, "item"),
                                      at(doc, fb, "category"), at(doc, fb, "expected"),
                                      at(doc, fb, "got", tone="bad"), at(doc, fb, "why")])
        out.append(t)
        if failures.rows:
            out.append(failures)
    agreement = have("agreement")
    if agreement:
        t = Table("agreement", "Agreement with the reference",
                  ["target", "reference", "exact", "similarity", "n"], numeric={2, 3, 4},
                  note="exact: share of identical answers; similarity: mean of 1 − edit distance "
                       "/ longer length")
        for i, _ in agreement:
            base = (*rows_at, i, "agreement")
            t.rows.append([at(doc, rows_at, i, "target"), at(doc, base, "reference"),
                           at(doc, base, "exact", show=fmt.share),
                           at(doc, base, "similarity", show=fmt.ratio),
                           at(doc, base, "n", show=fmt.count)])
        out.append(t)
    return out


def cost_table(doc: dict[str, Any], rows_at: Sequence[Any], rows: list[dict[str, Any]],
               ok_at: Callable[[int], Sequence[Any] | None]) -> Table | None:
    """Cost per completed answer beside cost per correct answer; `ok_at(i)`
    is where row i's cost_per_ok_usd is (None: nowhere)."""
    t = Table("cost", "Cost", ["target", "per completed answer", "per correct answer"],
              numeric={1, 2}, note="per correct answer: what the fidelity probes cost over the "
                                   "answers that passed")
    for i in range(len(rows)):
        where = ok_at(i)
        t.rows.append([at(doc, rows_at, i, "target"),
                       at(doc, where, show=fmt.usd) if where is not None else Cell(None, fmt.NONE),
                       at(doc, rows_at, i, "cost_per_correct_usd", show=fmt.usd)])
    if all(c.value is None for row in t.rows for c in row[1:]):
        return None
    return t


# --- a campaign ------------------------------------------------------------------

def campaign_tables(doc: dict[str, Any]) -> list[Table]:
    out: list[Table] = []
    targets = Table("targets", "Targets (ok measured requests)",
                    ["target", "model", "n", "ok", "errors", "availability", "TTFT p50",
                     "TTFT p95", "e2e p95", "tok/s p50"], numeric=set(range(2, 10)))
    for i, r in enumerate(doc["targets"]):
        targets.rows.append([
            at(doc, ("targets", i), "target"), at(doc, ("targets", i), "model"),
            at(doc, ("targets", i), "n", show=fmt.count), at(doc, ("targets", i), "ok", show=fmt.count),
            at(doc, ("targets", i), "errors", show=fmt.count, tone="bad" if r["errors"] else ""),
            at(doc, ("targets", i), "availability", show=fmt.share),
            at(doc, ("targets", i), "ttft_ms", "p50", show=fmt.ms),
            at(doc, ("targets", i), "ttft_ms", "p95", show=fmt.ms),
            at(doc, ("targets", i), "e2e_ms", "p95", show=fmt.ms),
            at(doc, ("targets", i), "decode_tps", "p50", show=fmt.tps)])
    out.append(targets)
    if doc["comparisons"]:
        t = Table("comparisons", "Pairwise comparisons (same model)",
                  ["model", "A", "B", "metric", "A value", "B value", "A − B", "95% CI low",
                   "95% CI high", "verdict"], numeric={4, 5, 6, 7, 8},
                  note="bootstrap interval of the difference; a verdict only when it excludes 0")
        for i, c in enumerate(doc["comparisons"]):
            m = c["metric"]
            value = lambda v, m=m: fmt.metric_value(m, v)  # noqa: E731 - a local shorthand
            diff = lambda v, m=m: fmt.metric_difference(m, v)  # noqa: E731 - a local shorthand
            base = ("comparisons", i)
            t.rows.append([at(doc, base, "model"), at(doc, base, "a"), at(doc, base, "b"),
                           at(doc, base, "metric"), at(doc, base, "a_value", show=value),
                           at(doc, base, "b_value", show=value),
                           at(doc, base, "difference", show=diff),
                           at(doc, base, "ci95", 0, show=diff), at(doc, base, "ci95", 1, show=diff),
                           at(doc, base, "verdict",
                              tone="muted" if c["verdict"] == "within noise" else "")])
        out.append(t)
    for k, ranking in enumerate(doc["rankings"]):
        if not ranking["ranks"]:
            continue
        metric = ranking["metric"]
        t = Table(f"ranking-{k}", f"Ranking per model: {metric}", ["model", *ranking["providers"]],
                  numeric=set(range(1, len(ranking["providers"]) + 1)),
                  note="rank (1 best) and value; ↕ marks a pair of providers whose order flips "
                       "between models" if ranking["flips"] else "rank (1 best) and value")
        flipped = {p for f in ranking["flips"] for p in f["providers"]}
        for model in ranking["models"]:
            cells = [label(model)]
            for provider in ranking["providers"]:
                rank = _get(ranking, "ranks", model, provider)
                value = _get(ranking, "values", model, provider)
                shown = fmt.NONE if rank is None else (
                    f"{rank} ({fmt.metric_value(metric, value)})" + (" ↕" if provider in flipped
                                                                      else ""))
                cells.append(Cell(value, shown, _pointer("rankings", k, "values", model, provider)
                                  if rank is not None else None))
            t.rows.append(cells)
        out.append(t)
    rows = doc["targets"]
    out += check_tables(doc, ("targets",), rows)
    cost = cost_table(doc, ("targets",), rows, lambda i: ("targets", i, "cost_per_ok_usd"))
    if cost is not None:
        out.append(cost)
    if doc.get("reference"):
        ref = Table("reference", "The reference", ["target", "fidelity score", "answered"],
                    numeric={1, 2})
        ref.rows.append([at(doc, ("reference",), "target"),
                         at(doc, ("reference",), "fidelity", "score", show=fmt.share),
                         at(doc, ("reference",), "fidelity", "n", show=fmt.count)])
        out.append(ref)
    return out


# --- a session -------------------------------------------------------------------

def session_tables(doc: dict[str, Any]) -> list[Table]:
    out: list[Table] = []
    summary = Table("summary", "Summary (ok, non-warm-up probes)",
                    ["target", "n", "ok", "errors", "availability", "TTFT p50", "TTFT p95",
                     "e2e p50", "e2e p95", "tok/s p50"], numeric=set(range(1, 10)))
    for i, r in enumerate(doc["summary"]):
        base = ("summary", i)
        name = f"{r['target']['provider']}/{r['target']['model']}"
        summary.rows.append([
            label(name),
            at(doc, base, "n", show=fmt.count), at(doc, base, "ok", show=fmt.count),
            at(doc, base, "errors", show=fmt.count, tone="bad" if r["errors"] else ""),
            at(doc, base, "availability", show=fmt.share),
            at(doc, base, "ttft_ms", "p50", show=fmt.ms), at(doc, base, "ttft_ms", "p95", show=fmt.ms),
            at(doc, base, "e2e_ms", "p50", show=fmt.ms), at(doc, base, "e2e_ms", "p95", show=fmt.ms),
            at(doc, base, "decode_tps", "p50", show=fmt.tps)])
    out.append(summary)
    checks = doc.get("checks")
    if checks:
        rows = checks["targets"]
        out += check_tables(doc, ("checks", "targets"), rows)
        by_label = {f"{r['target']['provider']}/{r['target']['model']}": i
                    for i, r in enumerate(doc["summary"])}

        def ok_at(i: int) -> Sequence[Any] | None:
            found = by_label.get(rows[i]["target"])
            return ("summary", found, "cost_per_ok_usd") if found is not None else None

        cost = cost_table(doc, ("checks", "targets"), rows, ok_at)
        if cost is not None:
            out.append(cost)
    return out
