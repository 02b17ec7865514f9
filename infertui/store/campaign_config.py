"""Campaigns in TOML: a `[campaigns.NAME]` section of the config, or a campaign
file. Every problem is `file:line: message`, unknown keys included (with the
closest known one), like the rest of the config.

A campaign file holds one campaign: its keys at the top level (`name`
optional, default the file's stem), or one `[campaigns.NAME]` table.
"""

from __future__ import annotations

import typing
from dataclasses import fields
from pathlib import Path
from typing import Any, Mapping

from infertui.core.campaign.spec import (
    PROMPT_SETS,
    CampaignSpec,
    ColdStart,
    ResolvedCampaign,
    Schedule,
    Slo,
    Window,
    parse_duration,
    probe_param_names,
)
from infertui.core.targets import ProbeParams
from infertui.store.checker import Checker, dotted, suggest
from infertui.store.errors import ConfigError, ConfigProblem

OWN_KEYS = ("name", "targets", "prompt", "prompts", "prompt_set", "system", "concurrency",
            "requests", "warmup", "nonce", "chain", "cold_start", "every", "for", "windows",
            "timezone", "slo", "stall_ms", "timeout", "seed", "checks", "reference")
COLD_KEYS = ("idle", "probes")
SLO_KEYS = ("ttft_ms", "e2e_ms")
_MINIMUMS = {"max_tokens": 1, "temperature": 0, "top_p": 0}


def campaign_keys() -> tuple[str, ...]:
    return OWN_KEYS + probe_param_names()


def _param_kind(name: str) -> str | None:
    """The Checker kind of a ProbeParams field, from its annotation."""
    hints = typing.get_type_hints(ProbeParams)
    if hints[name] == tuple[str, ...]:
        return "str_list"
    args = set(typing.get_args(hints[name])) or {hints[name]}
    args.discard(type(None))
    if args == {bool}:
        return "bool"
    if args == {int}:
        return "int"
    if args <= {int, float}:
        return "number"
    if args == {str}:
        return "str"
    return None  # a shape the checker has no word for: taken as written


def _duration(ck: Checker, table: Mapping[str, Any], key: str, keypath: tuple[str, ...]
              ) -> float | None:
    if key not in table:
        return None
    try:
        return parse_duration(table[key])
    except ValueError as exc:
        ck.error(keypath + (key,), f"{dotted(keypath + (key,))}: {exc}")
        return None


def parse_campaign(ck: Checker, name: str, value: Any, keypath: tuple[str, ...]
                   ) -> CampaignSpec | None:
    """One campaign table; None (with problems recorded) when it is unusable."""
    before = len(ck.problems)
    table = ck.table(value, keypath)
    if table is None:
        return None
    ck.only(table, keypath, campaign_keys())
    get = lambda key, kind, **kw: ck.get(table, key, keypath, kind, **kw)  # noqa: E731 - a local shorthand
    targets = get("targets", "str_list", required=True)
    fields_: dict[str, Any] = {}
    for key, kind, minimum in (("prompt", "str", None), ("prompt_set", "str", None),
                               ("system", "str", None), ("requests", "int", 1),
                               ("warmup", "int", 0), ("nonce", "bool", None),
                               ("chain", "int", 2), ("stall_ms", "number", 0),
                               ("seed", "int", None)):
        got = get(key, kind, minimum=minimum)
        if got is not None:
            fields_[key] = got
    checks = get("checks", "str_list")
    if checks is not None:
        fields_["checks"] = tuple(checks)
    reference = get("reference", "str")
    if reference is not None:
        fields_["reference"] = reference
    prompts = get("prompts", "str_list")
    if prompts is not None:
        fields_["prompts"] = tuple(prompts)
    if fields_.get("prompt_set") not in (None, *PROMPT_SETS):
        got = fields_.pop("prompt_set")
        ck.error(keypath + ("prompt_set",), f"prompt_set must be one of {', '.join(PROMPT_SETS)}"
                 f", not {got!r}{suggest(got, PROMPT_SETS)}")
    if "concurrency" in table:
        levels = table["concurrency"]
        levels = [levels] if isinstance(levels, int) and not isinstance(levels, bool) else levels
        if (isinstance(levels, list) and levels
                and all(isinstance(c, int) and not isinstance(c, bool) and c >= 1 for c in levels)):
            fields_["concurrency"] = tuple(levels)
        else:
            ck.error(keypath + ("concurrency",), f"{dotted(keypath + ('concurrency',))} must be "
                     "a list of whole numbers >= 1, like [1, 5, 20]")
    timeout = get("timeout", "number")
    if timeout is not None:
        if timeout <= 0:
            ck.error(keypath + ("timeout",), "timeout must be more than 0 seconds")
        else:
            fields_["timeout_s"] = timeout
    params: dict[str, Any] = {}
    for key in probe_param_names():
        if key not in table:
            continue
        param_kind = _param_kind(key)
        if param_kind == "str_list" and isinstance(table[key], str):  # stop = "END": one sequence
            params[key] = (table[key],)
            continue
        got = get(key, param_kind, minimum=_MINIMUMS.get(key)) if param_kind else table[key]
        if got is not None:
            params[key] = got
    fields_["params"] = params
    if "cold_start" in table:
        fields_["cold_start"] = _cold_start(ck, table["cold_start"], keypath + ("cold_start",))
    if "slo" in table:
        fields_["slo"] = _slo(ck, table["slo"], keypath + ("slo",))
    schedule = _schedule(ck, table, keypath)
    if schedule is not None:
        fields_["schedule"] = schedule
    if len(ck.problems) > before or targets is None:
        return None
    spec = CampaignSpec(name=name, targets=tuple(targets), **fields_)
    for problem in spec.problems():
        ck.error(keypath, f"[{dotted(keypath)}] {problem}" if keypath else problem)
    return spec if len(ck.problems) == before else None


def _cold_start(ck: Checker, value: Any, keypath: tuple[str, ...]) -> ColdStart | None:
    table = ck.table(value, keypath)
    if table is None:
        return None
    ck.only(table, keypath, COLD_KEYS)
    idle = _duration(ck, table, "idle", keypath)
    if "idle" not in table:
        ck.error(keypath, f"{dotted(keypath)} needs 'idle' (the silence before a cold probe, "
                          "like \"10m\")")
    probes = ck.get(table, "probes", keypath, "int", minimum=1)
    return ColdStart(idle, probes or 1) if idle is not None else None


def _slo(ck: Checker, value: Any, keypath: tuple[str, ...]) -> Slo | None:
    table = ck.table(value, keypath)
    if table is None:
        return None
    ck.only(table, keypath, SLO_KEYS)
    ttft = ck.get(table, "ttft_ms", keypath, "number", minimum=0)
    e2e = ck.get(table, "e2e_ms", keypath, "number", minimum=0)
    if ttft is None and e2e is None:
        ck.error(keypath, f"{dotted(keypath)} needs ttft_ms, e2e_ms or both")
        return None
    return Slo(ttft, e2e)


def _schedule(ck: Checker, table: Mapping[str, Any], keypath: tuple[str, ...]) -> Schedule | None:
    every = _duration(ck, table, "every", keypath)
    span = _duration(ck, table, "for", keypath)
    zone = ck.get(table, "timezone", keypath, "str")
    windows: list[Window] = []
    for text in ck.get(table, "windows", keypath, "str_list") or ():
        try:
            windows.append(Window.parse(text))
        except ValueError as exc:
            ck.error(keypath + ("windows",), str(exc))
    if zone is not None:
        try:
            from zoneinfo import ZoneInfo

            ZoneInfo(zone)
        except Exception:  # noqa: BLE001 - ZoneInfoNotFoundError, ValueError
            ck.error(keypath + ("timezone",), f"unknown time zone {zone!r} (an IANA name like "
                                              "\"Europe/Paris\" or \"UTC\")")
    if every is None and span is None and not windows:
        return None
    if span is not None and every is None and not windows:
        ck.error(keypath + ("for",), "'for' needs 'every' or 'windows'")
    return Schedule(every, span, tuple(windows), zone)


def parse_campaigns(ck: Checker, value: Any) -> dict[str, CampaignSpec]:
    """The config's `[campaigns.NAME]` tables."""
    out: dict[str, CampaignSpec] = {}
    for name, entry in (ck.table(value, ("campaigns",)) or {}).items():
        spec = parse_campaign(ck, name, entry, ("campaigns", name))
        if spec is not None:
            out[name] = spec
    return out


def read_campaign_file(path: Path) -> CampaignSpec:
    """One campaign from a file; ConfigError with every problem otherwise."""
    from infertui.store.config import _read_toml

    text, doc = _read_toml(path)
    ck = Checker(path, text)
    if "campaigns" in doc and isinstance(doc["campaigns"], dict):
        ck.only(doc, (), ("campaigns",))
        found = parse_campaigns(ck, doc["campaigns"])
        if not ck.problems and len(found) != 1:
            ck.error(("campaigns",), f"a campaign file holds one campaign; this one has "
                                     f"{len(doc['campaigns'])}")
        spec = next(iter(found.values()), None)
    else:
        name = ck.get(doc, "name", (), "str") or path.stem
        spec = parse_campaign(ck, name, doc, ())
    if ck.problems or spec is None:
        problems = ck.problems or [ConfigProblem(path, None, "no campaign in this file")]
        problems.sort(key=lambda p: p.line or 0)
        raise ConfigError.from_problems(problems)
    return spec


def resolve_campaign(spec: CampaignSpec, config: Any) -> ResolvedCampaign:
    """Targets, prompts and parameters from the config; ConfigError when a
    target, a group or a saved prompt is unknown."""
    from infertui.store.config import GROUP_PREFIX

    targets, models = [], {}
    for entry in spec.targets:
        found = config.resolve_target(entry)
        for target in found:
            if target.label in models:
                continue
            targets.append(target)
            group = entry.strip()
            models[target.label] = (group[len(GROUP_PREFIX):] if group.startswith(GROUP_PREFIX)
                                    else group if "/" not in group else target.model)
    system = spec.system
    if spec.prompts:
        saved = [config.saved_prompt(name) for name in spec.prompts]
        texts = tuple(p.text for p in saved)
        system = system if system is not None else next((p.system for p in saved if p.system), None)
    else:
        texts = (spec.prompt,) if spec.prompt is not None else ()
    defaults = config.probe_params("")
    base = {f.name: getattr(defaults, f.name) for f in fields(ProbeParams)}
    base.update(spec.params)
    base.update(prompt=texts[0] if texts else "", system=system)
    reference = None
    if spec.reference is not None:
        found = config.resolve_target(spec.reference)
        reference = next((t for t in targets if t.label == found[0].label), found[0])
    return ResolvedCampaign(spec=spec, targets=tuple(targets), models=models,
                            prompt_texts=texts, system=system, params=ProbeParams(**base),
                            reference=reference)


def check_campaigns(ck: Checker, config: Any, campaigns: dict[str, CampaignSpec]
                    ) -> dict[str, CampaignSpec]:
    """The config's campaigns whose targets and saved prompts all exist."""
    good = {}
    for name, spec in campaigns.items():
        try:
            resolve_campaign(spec, config)
        except ConfigError as exc:
            ck.error(("campaigns", name), f"[campaigns.{dotted((name,))}] {exc.message}")
            continue
        good[name] = spec
    return good
