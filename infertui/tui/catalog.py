"""What the target picker offers: providers, their models, model groups.

Plain data, no Textual: built from the config, the models each provider
listed, and the local servers found running. Entries are what a user can
pick; a group entry stands for one model on every provider that serves it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from infertui.core.models import ModelList
from infertui.core.targets import Provider, Target

_DATE_SUFFIX = re.compile(r"-(20\d{2}-?\d{2}-?\d{2}|\d{4})$")
_NOISE_SUFFIXES = ("-instruct", "-chat", "-latest", "-turbo", "-versatile", "-fp8", "-fp16", "-bf16")


def canonical_model(model: str) -> str:
    """A name that the same model has on every provider: no organisation
    prefix, lower case, `-` for `_`, `:` and `.`-free tags, no -instruct/-chat
    or date suffix. `meta-llama/Llama-3.3-70B-Instruct` -> `llama-3.3-70b`."""
    name = model.rsplit("/", 1)[-1].lower().replace("_", "-")
    name = name.removeprefix("models/")
    if ":" in name:  # ollama's `llama3.3:70b` -> `llama3.3-70b`; `:latest` dropped
        base, tag = name.split(":", 1)
        name = base if tag in ("latest", "") else f"{base}-{tag}"
    changed = True
    while changed:
        changed = False
        for suffix in _NOISE_SUFFIXES:
            if name.endswith(suffix):
                name, changed = name[: -len(suffix)], True
        stripped = _DATE_SUFFIX.sub("", name)
        if stripped != name and stripped:
            name, changed = stripped, True
    return name


@dataclass(frozen=True)
class Entry:
    """One line in the picker. `key` is what selecting it means:
    `PROVIDER/MODEL` or `group:NAME`."""

    key: str
    label: str
    targets: tuple[Target, ...] = ()
    kind: str = "target"  # target | group | missing-key | not-running | listing | error
    provider: str = ""
    detail: str = ""

    @property
    def selectable(self) -> bool:
        return self.kind in ("target", "group")

    def matches(self, words: list[str]) -> bool:
        hay = f"{self.key} {self.label} {self.detail}".lower()
        return all(w in hay for w in words)


@dataclass
class Catalog:
    entries: list[Entry] = field(default_factory=list)

    def by_key(self) -> dict[str, Entry]:
        return {e.key: e for e in self.entries if e.selectable}

    def filtered(self, query: str) -> list[Entry]:
        words = query.lower().split()
        return [e for e in self.entries if e.matches(words)] if words else list(self.entries)


def build_catalog(
    providers: Mapping[str, Provider],
    model_lists: Mapping[str, ModelList],
    *,
    environ: Mapping[str, str],
    local_names: Iterable[str] = (),
    running: Iterable[str] = (),
    groups: Mapping[str, Mapping[str, str]] | None = None,
    listing: Iterable[str] = (),
) -> Catalog:
    """Simulated providers first when nothing else is ready, then the ready
    providers' models, then configured and automatic groups at the top, then
    providers that need a key or are not running, each saying why."""
    local = set(local_names)
    up = set(running)
    busy = set(listing)
    ready: list[Provider] = []
    missing: list[Entry] = []
    for p in providers.values():
        if p.simulated:
            ready.append(p)
        elif p.name in local and p.name not in up:
            port = p.base_url.split("://", 1)[-1].split("/", 1)[0]
            missing.append(Entry(f"!{p.name}", f"{p.name}  not running on {port}",
                                 kind="not-running", provider=p.name, detail=p.description))
        elif p.needs_key() and not p.api_key(environ):
            missing.append(Entry(f"!{p.name}", f"{p.name}  no key: export {p.api_key_env}",
                                 kind="missing-key", provider=p.name, detail=p.description))
        else:
            ready.append(p)
    # Simulated providers lead only when they are all there is to race.
    real = [p for p in ready if not p.simulated]
    ready.sort(key=lambda p: (not p.simulated) if not real else p.simulated)

    targets: list[Entry] = []
    served: dict[str, list[Target]] = {}
    for p in ready:
        listed = model_lists.get(p.name)
        if listed is None:
            if p.name in busy:
                targets.append(Entry(f"!{p.name}", f"{p.name}  listing models…", kind="listing",
                                     provider=p.name))
            continue
        if not listed.ok:
            targets.append(Entry(f"!{p.name}", f"{p.name}  {listed.error}", kind="error",
                                 provider=p.name, detail="type PROVIDER/MODEL to add a model by hand"))
            continue
        for model in listed.models:
            target = Target(p, model)
            targets.append(Entry(target.label, target.label, (target,), provider=p.name,
                                 detail=canonical_model(model)))
            served.setdefault(canonical_model(model), []).append(target)

    group_entries: list[Entry] = []
    for name, members in (groups or {}).items():
        found = tuple(Target(providers[pn], m) for pn, m in members.items() if pn in providers
                      and any(r.name == pn for r in ready))
        if found:
            group_entries.append(Entry(f"group:{name}", f"{name}  on {len(found)} providers", found,
                                       kind="group", detail=" ".join(t.label for t in found)))
    named = {e.key.removeprefix("group:") for e in group_entries}
    for canon, serving in served.items():
        providers_serving = {t.provider.name for t in serving}
        if len(providers_serving) >= 2 and canon not in named:
            group_entries.append(Entry(f"group:{canon}", f"{canon}  on {len(providers_serving)} "
                                       "providers", tuple(serving), kind="group",
                                       detail=" ".join(t.label for t in serving)))
    return Catalog(group_entries + targets + missing)
