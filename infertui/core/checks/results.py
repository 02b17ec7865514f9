"""Per-target check results from probes alone: what the session and campaign
documents, the report and the app all show (one code path builds them).

- `compliance`: see compliance.py.
- `fidelity`: `score` (correct / answered), `n` (answered), `correct`,
  `errors` (suite prompts with no answer), `failures` (every wrong or missing
  answer: item, category, prompt, expected, got, why).
- `agreement`: see agreement.py; null for the reference itself, or without
  a reference.
- `cost_per_correct_usd`: what the target's fidelity probes cost (every
  attempt) divided by the answers that passed; null without prices or
  without a correct answer.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from infertui.core import metrics
from infertui.core.checks import FIDELITY, PHASE
from infertui.core.checks.agreement import agreement
from infertui.core.checks.compliance import _cut, _failed, compliance_verdicts, latest_by_tag
from infertui.core.checks.suite import ITEMS
from infertui.core.result import ProbeResult, Status


def check_probes(probes: Iterable[ProbeResult]) -> list[ProbeResult]:
    return [p for p in probes if p.phase == PHASE and p.check]


def _fidelity_probes(probes: Iterable[ProbeResult]) -> list[ProbeResult]:
    return [p for p in probes if p.check and p.check.startswith(FIDELITY + ".")]


def fidelity_json(probes: Sequence[ProbeResult]) -> dict[str, Any] | None:
    last = latest_by_tag(_fidelity_probes(probes))
    if not last:
        return None
    answered = correct = errors = 0
    failures = []
    for step, p in last.items():
        item = ITEMS.get(step.split(".", 1)[1])
        if item is None:  # an item this version no longer has
            continue
        why = _failed(p)
        if why is None:
            answered += 1
            why = item.check(p.text)
            if why is None:
                correct += 1
                continue
        else:
            errors += 1
        failures.append({"item": item.id, "category": item.category, "prompt": item.prompt,
                         "expected": item.answer, "got": _cut(p.text), "why": why,
                         "probe_id": p.probe_id})
    return {"score": round(correct / answered, 4) if answered else None, "n": answered,
            "correct": correct, "errors": errors, "failures": failures}


def cost_per_correct(probes: Sequence[ProbeResult], fidelity: dict[str, Any] | None) -> float | None:
    if not fidelity or not fidelity["correct"]:
        return None
    costs = [metrics.cost_usd(p) for p in _fidelity_probes(probes)
             if p.status is not Status.CANCELLED]
    known = [c for c in costs if c is not None]
    if not known:
        return None
    return sum(known) / fidelity["correct"]


def target_checks(label: str, probes: Sequence[ProbeResult], *, reference: str | None = None,
                  reference_probes: Sequence[ProbeResult] = ()) -> dict[str, Any]:
    """The check results of one target from its check probes (and the
    reference's, for agreement)."""
    mine = check_probes(probes)
    compliance = None
    if mine:
        target = mine[0].target
        compliance = compliance_verdicts(target.provider.api, target.provider.name, mine)
    fidelity = fidelity_json(mine)
    agree = None
    if reference is not None and reference != label and fidelity is not None:
        agree = agreement(reference, latest_by_tag(_fidelity_probes(mine)),
                          latest_by_tag(_fidelity_probes(check_probes(reference_probes))))
    return {"target": label, "compliance": compliance, "fidelity": fidelity,
            "agreement": agree, "cost_per_correct_usd": cost_per_correct(mine, fidelity)}


def checks_by_target(probes: Iterable[ProbeResult], labels: Sequence[str],
                     reference: str | None = None) -> list[dict[str, Any]]:
    """One row per label (in order) that has check probes."""
    grouped: dict[str, list[ProbeResult]] = {}
    for p in check_probes(probes):
        grouped.setdefault(p.target.label, []).append(p)
    ref = grouped.get(reference or "", [])
    return [target_checks(label, grouped[label], reference=reference, reference_probes=ref)
            for label in labels if label in grouped]
