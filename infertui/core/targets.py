"""What a probe is aimed at: a provider (wire format, URL, key variable) and a model."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Mapping


class Api(StrEnum):
    """The three streaming wire formats infertui speaks."""

    OPENAI = "openai"  # chat completions, also vLLM, SGLang, llama.cpp, Ollama, LM Studio
    ANTHROPIC = "anthropic"  # messages
    GEMINI = "gemini"  # streamGenerateContent?alt=sse


@dataclass(frozen=True)
class Timeouts:
    """Seconds. `headers` runs from the send to the response headers, `stall`
    between two reads of the body, `total` over the whole probe."""

    connect: float = 10.0
    headers: float = 120.0
    stall: float = 60.0
    total: float = 600.0


@dataclass(frozen=True)
class Provider:
    name: str
    api: Api
    base_url: str
    # Name of the environment variable holding the key; the key itself is never
    # stored in a Provider, a file, or any output.
    api_key_env: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    extra_body: Mapping[str, Any] = field(default_factory=dict)
    timeouts: Timeouts = field(default_factory=Timeouts)
    max_concurrency: int = 16
    price_input_per_mtok: float | None = None
    price_output_per_mtok: float | None = None
    # Some OpenAI-compatible servers want `max_completion_tokens`, some only
    # honour `max_tokens`.
    max_tokens_field: str = "max_tokens"
    # Body fields that switch reasoning on or off where the API has a switch;
    # None means the format's default (see each wire module).
    reasoning_on: Mapping[str, Any] | None = None
    reasoning_off: Mapping[str, Any] | None = None
    # Served in-process by the built-in simulator (no sockets).
    simulated: bool = False
    description: str = ""

    def api_key(self, environ: Mapping[str, str] | None = None) -> str | None:
        if not self.api_key_env:
            return None
        value = (os.environ if environ is None else environ).get(self.api_key_env)
        return value or None

    def needs_key(self) -> bool:
        return bool(self.api_key_env)

    def __hash__(self) -> int:  # headers/extra_body are dicts; name identifies a provider
        return hash((self.name, self.api, self.base_url))


@dataclass(frozen=True)
class Target:
    provider: Provider
    model: str

    @property
    def label(self) -> str:
        return f"{self.provider.name}/{self.model}"

    def to_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider.name,
            "model": self.model,
            "base_url": self.provider.base_url,
            "api": str(self.provider.api),
            # Prices at the time of measuring travel with the result, so cost
            # per answer can be recomputed from an export alone.
            "price_input_per_mtok": self.provider.price_input_per_mtok,
            "price_output_per_mtok": self.provider.price_output_per_mtok,
        }


def split_target(spec: str) -> tuple[str, str]:
    """`PROVIDER/MODEL`, split at the first slash: model ids contain slashes."""
    provider, sep, model = spec.partition("/")
    if not sep or not provider or not model:
        raise ValueError(f"target {spec!r} is not PROVIDER/MODEL")
    return provider, model


@dataclass(frozen=True)
class ProbeParams:
    """What is asked of every target in a session."""

    prompt: str
    max_tokens: int = 256
    temperature: float | None = None
    # None leaves the provider's default; True/False asks for reasoning on/off
    # where the API has a switch for it.
    reasoning: bool | None = None
    system: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "reasoning": self.reasoning,
            "system": self.system,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "ProbeParams":
        return cls(
            prompt=data["prompt"],
            max_tokens=int(data.get("max_tokens", 256)),
            temperature=data.get("temperature"),
            reasoning=data.get("reasoning"),
            system=data.get("system"),
        )
