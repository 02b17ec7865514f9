"""What a campaign names, as checked values.

The TOML reader (infertui.store.campaign_config) turns a `[campaigns.NAME]`
section or a campaign file into a `CampaignSpec`, with `file:line:` problems;
`resolve` (with the config's providers and saved prompts) makes it a
`ResolvedCampaign` the executor runs. A spec's JSON is self-contained (saved
prompts as their text, targets as resolved), so a stored campaign can be
resumed, shown or imported without the config that started it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from typing import Any, Mapping

from infertui.core.targets import ProbeParams, Target

DEFAULT_REQUESTS = 75
DEFAULT_STALL_MS = 2000.0
PROMPT_SETS = ("short", "long-1k", "long-10k")
# ProbeParams fields a campaign sets from its own keys (the rest are "every
# other probe parameter" and come straight from the TOML).
_OWN_PARAMS = ("prompt", "system")

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(value: Any) -> float:
    """Seconds from `90` (seconds), `"90s"`, `"10m"`, `"1h30m"`, `"2d"`.
    ValueError with a readable message otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(f"a duration cannot be negative: {value!r}")
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"not a duration: {value!r}")
    text = value.strip().lower().replace(" ", "")
    pos, total = 0, 0.0
    while pos < len(text):
        found = _DURATION_PART.match(text, pos)
        if found is None:
            break
        total += float(found[1]) * _UNIT_S[found[2]]
        pos = found.end()
    if not text or pos != len(text):
        raise ValueError(f"not a duration: {value!r} (write it like \"90s\", \"10m\", \"1h30m\")")
    return total


def format_duration(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{int(seconds // 3600)}h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)}m"
    return f"{seconds:g}s"


def probe_param_names() -> tuple[str, ...]:
    """Every probe parameter a campaign may set besides the prompt and the
    system prompt: whatever ProbeParams has."""
    return tuple(f.name for f in fields(ProbeParams) if f.name not in _OWN_PARAMS)


@dataclass(frozen=True)
class ColdStart:
    idle_s: float
    probes: int = 1

    def to_json(self) -> dict[str, Any]:
        return {"idle_s": self.idle_s, "probes": self.probes}


@dataclass(frozen=True)
class Window:
    """A daily stretch of local (or `Schedule.timezone`) time, in minutes
    after midnight; `end <= start` runs past midnight."""

    start_min: int
    end_min: int

    def __str__(self) -> str:
        return f"{self.start_min // 60:02d}:{self.start_min % 60:02d}-" \
               f"{self.end_min // 60:02d}:{self.end_min % 60:02d}"

    @classmethod
    def parse(cls, text: str) -> Window:
        found = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", text)
        if not found:
            raise ValueError(f"window {text!r} is not HH:MM-HH:MM")
        h1, m1, h2, m2 = (int(x) for x in found.groups())
        if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59:
            raise ValueError(f"window {text!r} is not a time of day")
        start, end = (h1 * 60 + m1) % 1440, (h2 * 60 + m2) % 1440
        if start == end:
            raise ValueError(f"window {text!r} is empty")
        return cls(start, end)

    def contains(self, minute_of_day: float) -> bool:
        if self.start_min < self.end_min:
            return self.start_min <= minute_of_day < self.end_min
        return minute_of_day >= self.start_min or minute_of_day < self.end_min


@dataclass(frozen=True)
class Schedule:
    every_s: float | None = None
    for_s: float | None = None
    windows: tuple[Window, ...] = ()
    timezone: str | None = None  # an IANA name; None: the machine's local time

    def to_json(self) -> dict[str, Any]:
        return {"every_s": self.every_s, "for_s": self.for_s,
                "windows": [str(w) for w in self.windows], "timezone": self.timezone}


@dataclass(frozen=True)
class Slo:
    ttft_ms: float | None = None
    e2e_ms: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {"ttft_ms": self.ttft_ms, "e2e_ms": self.e2e_ms}


@dataclass(frozen=True)
class CampaignSpec:
    name: str
    targets: tuple[str, ...]  # PROVIDER/MODEL or group:NAME, as written
    prompt: str | None = None  # the prompt itself
    prompts: tuple[str, ...] = ()  # names of saved prompts
    prompt_set: str | None = None  # one of PROMPT_SETS
    system: str | None = None
    concurrency: tuple[int, ...] = (1,)
    requests: int = DEFAULT_REQUESTS
    warmup: int = 0
    params: Mapping[str, Any] = field(default_factory=dict)  # other ProbeParams fields
    nonce: bool = False
    chain: int | None = None
    cold_start: ColdStart | None = None
    schedule: Schedule | None = None
    slo: Slo | None = None
    stall_ms: float = DEFAULT_STALL_MS
    timeout_s: float | None = None  # total time limit per probe
    seed: int = 0  # bootstrap intervals (and the simulator's seed)
    checks: tuple[str, ...] = ()  # check sets: "compliance", "fidelity" (core/checks)
    reference: str | None = None  # PROVIDER/MODEL whose answers the others are compared with

    def problems(self) -> list[str]:
        """What makes the values unusable together (shapes are the reader's job)."""
        out = []
        if not self.targets:
            out.append("targets is empty")
        given = sum(x is not None and x != () for x in (self.prompt, self.prompts or None,
                                                       self.prompt_set))
        if given != 1:
            out.append("give exactly one of 'prompt' (the text), 'prompts' (saved prompt "
                       "names) or 'prompt_set' (" + ", ".join(PROMPT_SETS) + ")")
        if self.prompt_set is not None and self.prompt_set not in PROMPT_SETS:
            out.append(f"prompt_set must be one of {', '.join(PROMPT_SETS)}, "
                       f"not {self.prompt_set!r}")
        if not self.concurrency or any(c < 1 for c in self.concurrency):
            out.append("concurrency must be a non-empty list of numbers >= 1")
        if len(set(self.concurrency)) != len(self.concurrency):
            out.append("concurrency lists a level twice")
        if self.requests < 1:
            out.append("requests must be at least 1")
        if self.chain is not None and self.chain < 2:
            out.append("chain must be at least 2 (calls in a row)")
        if self.chain is not None and self.requests < self.chain:
            out.append(f"requests ({self.requests}) must be at least chain ({self.chain})")
        from infertui.core.checks import CHECK_SETS

        unknown = [c for c in self.checks if c not in CHECK_SETS]
        if unknown:
            out.append(f"checks: unknown check set {unknown[0]!r} (known: {', '.join(CHECK_SETS)})")
        if self.reference is not None and (self.reference.startswith("group:")
                                           or "/" not in self.reference.strip("/")):
            out.append(f"reference must be one PROVIDER/MODEL, not {self.reference!r}")
        s = self.schedule
        if s is not None and s.every_s is not None and s.every_s <= 0:
            out.append("schedule every must be more than 0")
        if s is not None and s.every_s is not None and s.for_s is None and not s.windows:
            out.append("schedule every needs 'for' (how long the campaign goes on)")
        return out

    @property
    def uses_nonce(self) -> bool:
        """The long sets always carry a per-request nonce."""
        return self.nonce or (self.prompt_set or "").startswith("long-")

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "targets": list(self.targets), "prompt": self.prompt,
            "prompts": list(self.prompts), "prompt_set": self.prompt_set, "system": self.system,
            "concurrency": list(self.concurrency), "requests": self.requests,
            "warmup": self.warmup, "params": dict(self.params), "nonce": self.nonce,
            "chain": self.chain,
            "cold_start": self.cold_start.to_json() if self.cold_start else None,
            "schedule": self.schedule.to_json() if self.schedule else None,
            "slo": self.slo.to_json() if self.slo else None,
            "stall_ms": self.stall_ms, "timeout_s": self.timeout_s, "seed": self.seed,
            "checks": list(self.checks), "reference": self.reference,
        }

    @property
    def check_sets(self) -> tuple[str, ...]:
        """The check sets to run: those asked, and the fidelity suite when
        there is a reference (agreement compares the suite's answers)."""
        sets = list(self.checks)
        if self.reference is not None and "fidelity" not in sets:
            sets.append("fidelity")
        return tuple(sets)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CampaignSpec:
        cold = data.get("cold_start")
        sched = data.get("schedule")
        slo = data.get("slo")
        return cls(
            name=data["name"], targets=tuple(data.get("targets") or ()),
            prompt=data.get("prompt"), prompts=tuple(data.get("prompts") or ()),
            prompt_set=data.get("prompt_set"), system=data.get("system"),
            concurrency=tuple(int(c) for c in data.get("concurrency") or (1,)),
            requests=int(data.get("requests", DEFAULT_REQUESTS)),
            warmup=int(data.get("warmup", 0)), params=dict(data.get("params") or {}),
            nonce=bool(data.get("nonce", False)), chain=data.get("chain"),
            cold_start=ColdStart(float(cold["idle_s"]), int(cold.get("probes", 1))) if cold else None,
            schedule=Schedule(sched.get("every_s"), sched.get("for_s"),
                              tuple(Window.parse(w) for w in sched.get("windows") or ()),
                              sched.get("timezone")) if sched else None,
            slo=Slo(slo.get("ttft_ms"), slo.get("e2e_ms")) if slo else None,
            stall_ms=float(data.get("stall_ms", DEFAULT_STALL_MS)),
            timeout_s=data.get("timeout_s"), seed=int(data.get("seed", 0)),
            checks=tuple(data.get("checks") or ()), reference=data.get("reference"),
        )


@dataclass(frozen=True)
class ResolvedCampaign:
    """A spec made runnable: real targets, prompt texts, full parameters.
    `models` maps each target's label to the model it serves (a group's name
    for group targets, else the model id): pairwise verdicts and rankings
    compare targets of the same model."""

    spec: CampaignSpec
    targets: tuple[Target, ...]
    models: Mapping[str, str]
    prompt_texts: tuple[str, ...]  # for the text or saved prompts; () for a set
    system: str | None
    params: ProbeParams  # the template: its prompt is replaced per request
    reference: Target | None = None  # resolved `reference`, when the spec names one

    def with_spec(self, **changes: Any) -> ResolvedCampaign:
        return replace(self, spec=replace(self.spec, **changes))

    def to_json(self) -> dict[str, Any]:
        """The spec as run: saved prompts as their text, targets resolved."""
        out = self.spec.to_json()
        out["resolved"] = {
            "targets": [t.to_json() for t in self.targets],
            "models": dict(self.models),
            "prompt_texts": list(self.prompt_texts),
            "system": self.system,
            "params": {k: v for k, v in self.params.to_json().items() if k != "prompt"},
            "reference": self.reference.to_json() if self.reference else None,
        }
        return out


def resolved_from_json(data: Mapping[str, Any], providers: Mapping[str, Any] | None = None
                       ) -> ResolvedCampaign:
    """Rebuild a stored campaign; known providers (with today's keys and
    settings) are reused where their name and URL match."""
    from infertui.core.session import target_from_json

    spec = CampaignSpec.from_json(data)
    r = data.get("resolved") or {}
    targets = tuple(target_from_json(t, dict(providers or {})) for t in r.get("targets") or ())
    params = dict(r.get("params") or {})
    reference = r.get("reference")
    return ResolvedCampaign(
        spec=spec, targets=targets, models=dict(r.get("models") or {}),
        prompt_texts=tuple(r.get("prompt_texts") or ()), system=r.get("system"),
        params=ProbeParams.from_json({"prompt": "", **params}),
        reference=target_from_json(reference, dict(providers or {})) if reference else None,
    )
