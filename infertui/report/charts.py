"""The series a report's charts draw.

- TTFT distribution and decode speed per target: box plots (p5, p25, p50,
  p75, p95) over the ok measured probes' own values, with the values as
  dots. For a campaign those come from its stored probes (`samples`); for a
  session from the document's probes.
- TTFT p50 / p95 over rounds (a campaign: the document's `rounds`) or over
  time (a session: its probes in up to eight equal windows of send time).
- Errors over time: errors per target per round (or window).

Percentiles use core.stats, the same interpolation as every table.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Iterable, Mapping, Sequence

from infertui.core import metrics
from infertui.core.campaign.analysis import measured
from infertui.core.campaign.record import CampaignRecord
from infertui.core.result import Status
from infertui.core.stats import percentile

WINDOWS = 8
BOX = (5, 25, 50, 75, 95)


@dataclass
class BoxRow:
    label: str
    n: int
    quantiles: dict[str, float | None]  # p5 ... p95
    values: list[float]


@dataclass
class Series:
    name: str
    values: list[float | None]  # one per x label
    dashed: bool = False
    group: str = ""  # series of the same target share a colour


@dataclass
class Chart:
    id: str
    kind: str  # "box", "lines", "bars"
    title: str
    unit: str
    rows: list[BoxRow] = field(default_factory=list)  # box
    x_labels: list[str] = field(default_factory=list)  # lines, bars
    series: list[Series] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _box(label: str, values: Sequence[float]) -> BoxRow:
    ordered = sorted(values)
    return BoxRow(label, len(ordered), {f"p{q}": percentile(ordered, q) for q in BOX},
                  [round(v, 3) for v in ordered])


def _boxes(id_: str, title: str, unit: str, samples: Mapping[str, Sequence[float]]) -> Chart:
    return Chart(id_, "box", title, unit, rows=[_box(k, v) for k, v in samples.items()])


def campaign_samples(record: CampaignRecord) -> dict[str, dict[str, list[float]]]:
    """{"ttft_ms": {label: values}, "decode_tps": {...}} over every ok probe of
    the measured phase (the probes the document's statistics are over)."""
    out: dict[str, dict[str, list[float]]] = {"ttft_ms": {}, "decode_tps": {}}
    labels: list[str] = []
    probes = [p for rnd in record.rounds for s in rnd.sessions for p in s.probes]
    for p in measured(probes):
        if p.target.label not in labels:
            labels.append(p.target.label)
    for label in labels:
        ok = [p for p in measured(probes) if p.target.label == label and p.status is Status.OK]
        out["ttft_ms"][label] = [v for v in (metrics.ttft_ms(p) for p in ok) if v is not None]
        out["decode_tps"][label] = [v for v in (metrics.decode_tps(p) for p in ok) if v is not None]
    return out


def campaign_charts(doc: Mapping[str, Any], samples: Mapping[str, Mapping[str, Sequence[float]]]
                    ) -> list[Chart]:
    labels = [t["target"] for t in doc["targets"]]
    rounds = doc["rounds"]
    x = [f"round {r['round']}" for r in rounds]
    over = Chart("ttft-over-rounds", "lines", "TTFT p50 and p95 per round", "ms", x_labels=x)
    errors = Chart("errors-over-time", "bars", "Errors per round", "errors", x_labels=x)
    for label in labels:
        per = [{t["target"]: t for t in r["targets"]}.get(label) for r in rounds]
        over.series.append(Series(f"{label} p50", [t and t["ttft_ms_p50"] for t in per], False, label))
        over.series.append(Series(f"{label} p95", [t and t["ttft_ms_p95"] for t in per], True, label))
        errors.series.append(Series(label, [t["errors"] if t else None for t in per], False, label))
    return [
        _boxes("ttft-distribution", "TTFT distribution per target", "ms",
               {k: samples.get("ttft_ms", {}).get(k, []) for k in labels}),
        over,
        _boxes("decode-speed", "Decode speed per target", "tok/s",
               {k: samples.get("decode_tps", {}).get(k, []) for k in labels}),
        errors,
    ]


# --- a session -------------------------------------------------------------------

def _epoch(iso: str | None) -> float | None:
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _label(probe: Mapping[str, Any]) -> str:
    return f"{probe['target']['provider']}/{probe['target']['model']}"


def _counted(probes: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The probes a session's summary is over: not warm-ups, not check probes."""
    return [p for p in probes if not p.get("warmup") and p.get("phase") != "check"
            and p.get("status") != "cancelled"]


def session_charts(doc: Mapping[str, Any]) -> list[Chart]:
    probes = _counted(doc["probes"])
    labels = [f"{r['target']['provider']}/{r['target']['model']}" for r in doc["summary"]]
    ok = [p for p in probes if p["status"] == "ok"]
    ttft = {k: [p["ttft_ms"] for p in ok if _label(p) == k and p["ttft_ms"] is not None]
            for k in labels}
    decode = {k: [p["decode_tps"] for p in ok if _label(p) == k and p["decode_tps"] is not None]
              for k in labels}
    times = [(t, p) for p in probes if (t := _epoch(p.get("sent_at"))) is not None]
    start = min((t for t, _ in times), default=0.0)
    span = max((t for t, _ in times), default=0.0) - start
    windows = max(1, min(WINDOWS, len(times) // max(1, len(labels) * 2)))
    width = span / windows if span > 0 else 1.0
    buckets: list[list[Mapping[str, Any]]] = [[] for _ in range(windows)]
    for t, p in times:
        buckets[min(windows - 1, int((t - start) / width))].append(p)
    x = [f"{i * width:.0f}–{(i + 1) * width:.0f} s" for i in range(windows)]
    over = Chart("ttft-over-rounds", "lines", "TTFT p50 and p95 over the session", "ms", x_labels=x)
    errors = Chart("errors-over-time", "bars", "Errors over the session", "errors", x_labels=x)
    for label in labels:
        p50: list[float | None] = []
        p95: list[float | None] = []
        errs: list[float | None] = []
        for bucket in buckets:
            values = sorted(p["ttft_ms"] for p in bucket if _label(p) == label
                            and p["status"] == "ok" and p["ttft_ms"] is not None)
            p50.append(percentile(values, 50))
            p95.append(percentile(values, 95))
            errs.append(sum(1 for p in bucket if _label(p) == label and p["status"] == "error"))
        over.series += [Series(f"{label} p50", p50, False, label),
                        Series(f"{label} p95", p95, True, label)]
        errors.series.append(Series(label, errs, False, label))
    return [_boxes("ttft-distribution", "TTFT distribution per target", "ms", ttft), over,
            _boxes("decode-speed", "Decode speed per target", "tok/s", decode), errors]
