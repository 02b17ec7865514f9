"""The `infertui.campaign/1` document: what `campaign run --json` and
`campaign show --json` print, computed from a CampaignRecord (its sessions'
probes) alone. README "Campaign document" lists every field.

Sections are built by small functions and joined at the end, so a later
field (per-target checks, agreement with a reference) is one more function.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from infertui.core.campaign.analysis import chains_json, cold_start, measure, span_s
from infertui.core.campaign.record import KIND_CELLS, CampaignRecord
from infertui.core.campaign.spec import CampaignSpec
from infertui.core.campaign.verdicts import comparisons, rankings
from infertui.core.checks import PHASE as CHECK_PHASE
from infertui.core.checks.results import checks_by_target
from infertui.core.result import ProbeResult

SCHEMA = "infertui.campaign/1"


class _Index:
    """A campaign's probes grouped the ways the document needs them."""

    def __init__(self, record: CampaignRecord) -> None:
        self.record = record
        self.spec = CampaignSpec.from_json(record.spec_json)
        resolved = record.spec_json.get("resolved") or {}
        order = [f"{t['provider']}/{t['model']}" for t in resolved.get("targets") or ()]
        self.models: dict[str, str] = dict(resolved.get("models") or {})
        # (round, level) -> label -> probes; label -> [(session id, probe)]
        self.cells: dict[tuple[int, int], dict[str, list[ProbeResult]]] = {}
        self.by_target: dict[str, list[tuple[str, ProbeResult]]] = {label: [] for label in order}
        self.check_probes: list[ProbeResult] = []
        for rnd in record.rounds:
            for session in rnd.sessions:
                link = session.campaign or {}
                level = link.get("concurrency")
                for p in session.probes:
                    if p.phase == CHECK_PHASE:  # apart: never in latency statistics
                        self.check_probes.append(p)
                        continue
                    label = p.target.label
                    self.by_target.setdefault(label, []).append((session.session_id, p))
                    if link.get("kind") == KIND_CELLS and level is not None:
                        self.cells.setdefault((rnd.index, int(level)), {}).setdefault(
                            label, []).append(p)
        for label in self.by_target:
            self.models.setdefault(label, label.split("/", 1)[1] if "/" in label else label)

    @property
    def labels(self) -> list[str]:
        return list(self.by_target)

    def probes_of(self, label: str) -> list[ProbeResult]:
        return [p for _, p in self.by_target[label]]

    def cell_keys(self) -> list[tuple[int, int, str]]:
        levels = list(self.spec.concurrency)
        keys = [(r, c, label) for (r, c), per in self.cells.items() for label in per]
        return sorted(keys, key=lambda k: (k[0], levels.index(k[1]) if k[1] in levels
                                           else len(levels) + k[1], self.labels.index(k[2])))


def _rounds(ix: _Index) -> list[dict[str, Any]]:
    out = []
    for rnd in ix.record.rounds:
        per_target = []
        for label in ix.labels:
            probes = [p for s in rnd.sessions for p in s.probes if p.target.label == label]
            if not probes:
                continue
            m = measure(ix.spec, probes, None)
            per_target.append({
                "target": label, "n": m["n"], "ok": m["ok"], "errors": m["errors"],
                "availability": m["availability"], "stalls": m["stalls"],
                "rate_limited": m["rate_limited"]["n"],
                "ttft_ms_p50": m["ttft_ms"]["p50"], "ttft_ms_p95": m["ttft_ms"]["p95"],
                "e2e_ms_p95": m["e2e_ms"]["p95"]})
        out.append({
            "round": rnd.index, "slot_at": rnd.slot_at, "started_at": rnd.started_at,
            "finished_at": rnd.finished_at,
            "sessions": [{"session_id": s.session_id, "kind": (s.campaign or {}).get("kind"),
                          "concurrency": (s.campaign or {}).get("concurrency"),
                          "started_at": s.started_at, "finished_at": s.finished_at}
                         for s in rnd.sessions],
            "targets": per_target})
    return out


def _cells(ix: _Index) -> list[dict[str, Any]]:
    out = []
    for rnd, level, label in ix.cell_keys():
        probes = ix.cells[(rnd, level)][label]
        row = {"target": label, "model": ix.models.get(label), "round": rnd,
               "concurrency": level}
        row.update(measure(ix.spec, probes, (ix.spec.seed, "cell", rnd, level, label)))
        out.append(row)
    return out


def _checks(ix: _Index) -> dict[str, dict[str, Any]]:
    """Per target: compliance, fidelity, agreement, cost_per_correct_usd."""
    reference = ix.spec.reference
    labels = list(ix.labels)
    if reference and reference not in labels:
        labels.append(reference)
    return {row["target"]: row for row in checks_by_target(ix.check_probes, labels, reference)}


def _targets(ix: _Index) -> list[dict[str, Any]]:
    out = []
    checks = _checks(ix)
    lowest = min(ix.spec.concurrency)
    for label in ix.labels:
        probes = ix.probes_of(label)
        spans = [span_s([p for p in per.get(label, ()) if p.phase == "measured"])
                 for per in ix.cells.values()]
        row: dict[str, Any] = {"target": label, "model": ix.models.get(label)}
        row.update(measure(ix.spec, probes, (ix.spec.seed, "target", label), spans=spans))
        warm = [p for (r, c), per in ix.cells.items() if c == lowest
                for p in per.get(label, ()) if p.phase == "measured"]
        row["cold_start"] = cold_start(probes, warm) if ix.spec.cold_start else None
        row["chains"] = chains_json(ix.by_target[label], ix.spec.chain) if ix.spec.chain else None
        found = checks.get(label, {})
        for key in ("compliance", "fidelity", "agreement", "cost_per_correct_usd"):
            row[key] = found.get(key)
        out.append(row)
    return out


def _vantages(ix: _Index, peers: Sequence[CampaignRecord]) -> list[dict[str, Any]]:
    """Each target as measured from each vantage point (this campaign and the
    newest run of the same campaign from every other machine)."""
    records = [ix.record, *[p for p in peers if p.campaign_id != ix.record.campaign_id]]
    rows = []
    for record in records:
        peer = ix if record is ix.record else _Index(record)
        for label in peer.labels:
            m = measure(peer.spec, peer.probes_of(label), None)
            rows.append({"vantage": record.vantage, "campaign_id": record.campaign_id,
                         "started_at": record.started_at, "target": label, "n": m["n"],
                         "availability": m["availability"],
                         "ttft_ms_p50": m["ttft_ms"]["p50"], "ttft_ms_p95": m["ttft_ms"]["p95"],
                         "e2e_ms_p95": m["e2e_ms"]["p95"],
                         "decode_tps_p50": m["decode_tps"]["p50"]})
    return rows


def build(record: CampaignRecord, peers: Iterable[CampaignRecord] = ()) -> dict[str, Any]:
    """The document. `peers`: runs of the same campaign from other vantage
    points, compared in `vantages`."""
    ix = _Index(record)
    by_target = {label: ix.probes_of(label) for label in ix.labels}
    peers = list(peers)
    return {
        "schema": SCHEMA,
        "campaign_id": record.campaign_id,
        "name": record.name,
        "status": record.status,
        "vantage": record.vantage,
        "started_at": record.started_at,
        "finished_at": record.finished_at,
        "spec": ix.spec.to_json(),
        "rounds_skipped": record.rounds_skipped,
        "rounds": _rounds(ix),
        "cells": _cells(ix),
        "targets": _targets(ix),
        "comparisons": comparisons(by_target, ix.models, ix.spec.seed),
        "rankings": rankings(by_target, ix.models),
        "vantages": _vantages(ix, peers),
        "reference": _reference(ix),
    }


def _reference(ix: _Index) -> dict[str, Any] | None:
    """The reference's own check results, when it is not one of the targets."""
    reference = ix.spec.reference
    if not reference or reference in ix.labels:
        return None
    return _checks(ix).get(reference) or {"target": reference, "compliance": None,
                                           "fidelity": None, "agreement": None,
                                           "cost_per_correct_usd": None}
