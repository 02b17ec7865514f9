"""The user's configuration: presets, their providers, model groups, saved
prompts and comparisons, defaults.

Two files, two owners. `config.toml` is the user's: read, never written (so
its comments survive). `state.toml` is the app's own (prompts and comparisons
saved from the UI, UI preferences), written with tomli-w by `store.state`.
A problem in the user's file is fatal (`ConfigError`, `file:line: message`);
unknown keys are problems too, because a misspelt key silently ignored would
change what gets measured. A problem in the app's file becomes a notice and
the bad entry is skipped.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Mapping

from infertui.core.session import RunSettings
from infertui.core.targets import ProbeParams, Provider, Target, split_target
from infertui.store import paths
from infertui.store.campaign_config import check_campaigns, parse_campaigns
from infertui.store.checker import Checker, suggest
from infertui.store.config_model import Defaults, ResolvedComparison, SavedComparison, SavedPrompt
from infertui.store.config_parse import (
    STATE_KEYS,
    TOP_LEVEL_KEYS,
    parse_comparisons,
    parse_defaults,
    parse_groups,
    parse_prompts,
    parse_provider,
)
from infertui.store.errors import ConfigError, ConfigProblem
from infertui.store.presets import PRESETS, is_local

GROUP_PREFIX = "group:"


@dataclass
class Config:
    path: Path  # the user's config file (it may not exist)
    state_path: Path  # the app's own file
    exists: bool
    providers: dict[str, Provider]
    model_groups: dict[str, dict[str, str]]  # canonical name -> {provider: model id}
    prompts: dict[str, SavedPrompt]
    comparisons: dict[str, SavedComparison]
    defaults: Defaults = field(default_factory=Defaults)
    ui: dict[str, Any] = field(default_factory=dict)  # preferences saved by the TUI
    notices: list[str] = field(default_factory=list)
    user_providers: frozenset[str] = frozenset()  # names the user's file defines or overrides
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ, repr=False)
    campaigns: dict[str, Any] = field(default_factory=dict)  # name -> CampaignSpec

    # --- targets ------------------------------------------------------------

    def provider(self, name: str) -> Provider:
        found = self.providers.get(name)
        if found is None:
            raise ConfigError(None, None, f"unknown provider {name!r}"
                              f"{suggest(name, self.providers)}; see `infertui config check`")
        return found

    def group(self, name: str) -> dict[str, str]:
        found = self.model_groups.get(name)
        if found is None:
            known = ", ".join(sorted(self.model_groups)) or "none defined"
            raise ConfigError(None, None, f"unknown model group {name!r}"
                              f"{suggest(name, self.model_groups)} (groups: {known})")
        return found

    def resolve_target(self, spec: str) -> list[Target]:
        """`PROVIDER/MODEL` (split at the first '/'), `group:NAME`, or a bare group name."""
        spec = spec.strip()
        if spec.startswith(GROUP_PREFIX):
            name = spec[len(GROUP_PREFIX):]
            return [Target(self.provider(p), model) for p, model in self.group(name).items()]
        if "/" not in spec:
            if spec in self.model_groups:
                return [Target(self.provider(p), m) for p, m in self.model_groups[spec].items()]
            hint = (f"; {spec!r} is a provider: add /MODEL" if spec in self.providers
                    else suggest(spec, list(self.model_groups)))
            raise ConfigError(None, None, f"target {spec!r} is neither PROVIDER/MODEL nor a "
                              f"model group{hint}")
        try:
            provider, model = split_target(spec)
        except ValueError as exc:
            raise ConfigError(None, None, str(exc)) from None
        return [Target(self.provider(provider), model)]

    def resolve_targets(self, specs: Iterable[str]) -> list[Target]:
        """Every spec expanded, in order, each target once."""
        seen: dict[str, Target] = {}
        for spec in specs:
            for target in self.resolve_target(spec):
                seen.setdefault(target.label, target)
        return list(seen.values())

    def missing_keys(self, targets: Iterable[Target],
                     environ: Mapping[str, str] | None = None) -> list[Target]:
        """Targets whose provider wants a key that is not in the environment."""
        env = self.environ if environ is None else environ
        return [t for t in targets if t.provider.needs_key() and not t.provider.api_key(env)]

    def ready_providers(self, environ: Mapping[str, str] | None = None) -> list[Provider]:
        """Providers usable now: simulated, keyless (local), or with their key exported."""
        env = self.environ if environ is None else environ
        return [p for p in self.providers.values()
                if p.simulated or not p.needs_key() or p.api_key(env)]

    def is_local(self, name: str) -> bool:
        return is_local(self.provider(name))

    # --- parameters ---------------------------------------------------------

    def probe_params(self, prompt: str, *, system: str | None = None,
                     max_tokens: int | None = None, temperature: float | None = None,
                     reasoning: bool | None = None) -> ProbeParams:
        d = self.defaults
        return ProbeParams(
            prompt=prompt, system=system,
            max_tokens=d.max_tokens if max_tokens is None else max_tokens,
            temperature=d.temperature if temperature is None else temperature,
            reasoning=d.reasoning if reasoning is None else reasoning,
        )

    def run_settings(self, *, repeat: int | None = None, concurrency: int | None = None,
                     warmup: int | None = None, nonce: bool | None = None) -> RunSettings:
        d = self.defaults
        return RunSettings(
            repeat=d.repeat if repeat is None else repeat,
            concurrency=d.concurrency if concurrency is None else concurrency,
            warmup=d.warmup if warmup is None else warmup,
            nonce=d.nonce if nonce is None else nonce,
        )

    def saved_prompt(self, name: str) -> SavedPrompt:
        found = self.prompts.get(name)
        if found is None:
            raise ConfigError(None, None, f"no saved prompt {name!r}{suggest(name, self.prompts)}")
        return found

    def resolve_comparison(self, name: str) -> ResolvedComparison:
        saved = self.comparisons.get(name)
        if saved is None:
            known = ", ".join(sorted(self.comparisons)) or "none saved"
            raise ConfigError(None, None, f"no saved comparison {name!r}"
                              f"{suggest(name, self.comparisons)} (saved: {known})")
        system = saved.system
        if saved.prompt_name is not None:
            prompt = self.saved_prompt(saved.prompt_name)
            text, system = prompt.text, system if system is not None else prompt.system
        else:
            text = saved.prompt_text or ""
        return ResolvedComparison(
            name=name,
            targets=self.resolve_targets(saved.targets),
            params=self.probe_params(text, system=system, max_tokens=saved.max_tokens,
                                     temperature=saved.temperature, reasoning=saved.reasoning),
            settings=self.run_settings(repeat=saved.repeat, concurrency=saved.concurrency,
                                       warmup=saved.warmup, nonce=saved.nonce),
        )


# --- loading --------------------------------------------------------------------

_AT_LINE = re.compile(r"^(?P<msg>.*?) \(at line (?P<line>\d+), column (?P<col>\d+)\)$")


def _read_toml(path: Path) -> tuple[str, dict[str, Any]]:
    """The text and the parsed document; syntax errors as `file:line:`."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(path, None, f"cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise ConfigError(path, line, "not UTF-8 text") from None
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = _AT_LINE.match(message)
        if found:
            raise ConfigError(path, int(found["line"]), f"invalid TOML: {found['msg']} "
                              f"(column {found['col']})") from None
        last_line = text.count("\n") + 1 if "end of document" in message else None
        raise ConfigError(path, last_line, f"invalid TOML: {message}") from None


def _builtin_providers() -> dict[str, Provider]:
    """The simulator's providers (no network, no key) and the presets."""
    out: dict[str, Provider] = {}
    try:
        from infertui.core.simulator import builtin_providers
    except ImportError:
        pass
    else:
        found = builtin_providers()
        for provider in (found.values() if isinstance(found, Mapping) else found):
            out[provider.name] = provider
    for name, preset in PRESETS.items():
        out.setdefault(name, preset)
    return out


def _check_comparisons(ck: Checker, config: Config,
                       comparisons: dict[str, SavedComparison]) -> dict[str, SavedComparison]:
    good: dict[str, SavedComparison] = {}
    for name, saved in comparisons.items():
        keypath = ("comparisons", name)
        before = len(ck.problems)
        for spec in saved.targets:
            try:
                config.resolve_target(spec)
            except ConfigError as exc:
                ck.error(keypath + ("targets",), f"[comparisons.{name}] targets: {exc.message}")
        if saved.prompt_name is not None and saved.prompt_name not in config.prompts:
            ck.error(keypath + ("prompt",), f"[comparisons.{name}] prompt {saved.prompt_name!r} "
                     f"is not a saved prompt{suggest(saved.prompt_name, config.prompts)}")
        if len(ck.problems) == before:
            good[name] = saved
    return good


def _load_state(state_path: Path, config: Config) -> tuple[dict[str, SavedPrompt],
                                                            dict[str, SavedComparison]]:
    """The app's own file: problems become notices, bad entries are skipped."""
    if not state_path.is_file():
        return {}, {}
    try:
        text, doc = _read_toml(state_path)
    except ConfigError as exc:
        config.notices.append(f"{exc} (the app's saved prompts and comparisons were skipped)")
        return {}, {}
    ck = Checker(state_path, text)
    ck.only(doc, (), STATE_KEYS)
    prompts = parse_prompts(ck, doc.get("prompts", {}), "state")
    comparisons = parse_comparisons(ck, doc.get("comparisons", {}), "state")
    ui = ck.table(doc.get("ui", {}), ("ui",))
    config.ui = dict(ui or {})
    for name in list(prompts):
        if name in config.prompts:
            config.notices.append(f"{state_path}: saved prompt {name!r} is hidden by the one in "
                                  f"{config.path}")
            del prompts[name]
    config.prompts.update(prompts)
    comparisons = {k: v for k, v in comparisons.items() if k not in config.comparisons}
    comparisons = _check_comparisons(ck, config, comparisons)
    config.notices.extend(str(p) for p in ck.problems)
    return prompts, comparisons


def builtin_config(environ: Mapping[str, str] | None = None) -> Config:
    """The simulator and the presets, nothing of the user's: what the TUI runs
    with while it shows why the user's config could not be loaded."""
    env = os.environ if environ is None else environ
    return Config(path=paths.config_file(None, env), state_path=paths.state_file(env),
                  exists=False, providers=_builtin_providers(), model_groups={}, prompts={},
                  comparisons={}, environ=env)


def load_config(path: str | os.PathLike[str] | None = None,
                environ: Mapping[str, str] | None = None) -> Config:
    """Read the user's config (an explicit `path`, else config.toml in the config
    dir; a missing default file means presets only) and the app's state file."""
    env = os.environ if environ is None else environ
    config_path = paths.config_file(path, env)
    exists = config_path.is_file()
    if path is not None and not exists:
        raise ConfigError(config_path, None, "no such config file (write a starter one with "
                          "`infertui --config FILE config init`)")
    text, doc = _read_toml(config_path) if exists else ("", {})
    ck = Checker(config_path, text)
    ck.only(doc, (), TOP_LEVEL_KEYS)

    defaults, default_timeouts = parse_defaults(ck, doc.get("defaults"))
    providers = _builtin_providers()
    if default_timeouts:
        providers = {n: replace(p, timeouts=replace(p.timeouts, **default_timeouts))
                     for n, p in providers.items()}
    user_table = ck.table(doc.get("providers", {}), ("providers",)) or {}
    for name, table in user_table.items():
        provider = parse_provider(ck, name, table, providers.get(name), default_timeouts)
        if provider is not None:
            providers[name] = provider

    config = Config(
        path=config_path, state_path=paths.state_file(env), exists=exists,
        providers=providers,
        model_groups=parse_groups(ck, doc.get("groups", {}), providers),
        prompts=parse_prompts(ck, doc.get("prompts", {}), "config"),
        comparisons={}, defaults=defaults, user_providers=frozenset(user_table), environ=env,
    )
    comparisons = parse_comparisons(ck, doc.get("comparisons", {}), "config")
    config.comparisons = _check_comparisons(ck, config, comparisons)
    config.campaigns = check_campaigns(ck, config, parse_campaigns(ck, doc.get("campaigns", {})))
    if ck.problems:
        ck.problems.sort(key=lambda p: p.line or 0)
        raise ConfigError.from_problems(ck.problems)
    _, state_comparisons = _load_state(config.state_path, config)
    config.comparisons.update(state_comparisons)
    return config


__all__ = ["Config", "ConfigError", "ConfigProblem", "Defaults", "SavedPrompt",
           "SavedComparison", "ResolvedComparison", "builtin_config", "load_config", "GROUP_PREFIX"]
