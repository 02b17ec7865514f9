"""The values a config file describes, apart from providers (core `Provider`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from infertui.core.session import RunSettings
from infertui.core.targets import ProbeParams, Target, Timeouts


@dataclass(frozen=True)
class Defaults:
    """What a probe uses when neither the command line nor a comparison says."""

    max_tokens: int = 256
    temperature: float | None = None  # None: the provider's default
    reasoning: bool | None = None  # None: the provider's default
    repeat: int = 1
    concurrency: int = 1
    warmup: int = 0
    nonce: bool = False
    timeouts: Timeouts = field(default_factory=Timeouts)


@dataclass(frozen=True)
class SavedPrompt:
    name: str
    text: str
    system: str | None = None
    source: str = "config"  # "config" (the user's file) or "state" (saved by the app)

    def to_toml(self) -> dict[str, Any]:
        out: dict[str, Any] = {"text": self.text}
        if self.system is not None:
            out["system"] = self.system
        return out


@dataclass(frozen=True)
class SavedComparison:
    """Targets + prompt + parameters: a comparison repeated with one command."""

    name: str
    targets: tuple[str, ...]  # "PROVIDER/MODEL", "group:NAME" or a bare group name
    prompt_name: str | None = None  # a saved prompt, or
    prompt_text: str | None = None  # the prompt itself
    system: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    reasoning: bool | None = None
    repeat: int | None = None
    concurrency: int | None = None
    warmup: int | None = None
    nonce: bool | None = None
    source: str = "config"

    def to_toml(self) -> dict[str, Any]:
        out: dict[str, Any] = {"targets": list(self.targets)}
        for name in ("prompt_name", "prompt_text", "system", "max_tokens", "temperature",
                     "reasoning", "repeat", "concurrency", "warmup", "nonce"):
            value = getattr(self, name)
            if value is not None:
                out["prompt" if name == "prompt_name" else name] = value
        return out


@dataclass(frozen=True)
class ResolvedComparison:
    """A saved comparison made runnable: real targets, full parameters."""

    name: str
    targets: list[Target]
    params: ProbeParams
    settings: RunSettings
