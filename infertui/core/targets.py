"""What a probe is aimed at: a provider (wire format, URL, key variable) and a model."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Mapping
from urllib.parse import urlsplit, urlunsplit


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
    # Where the key goes when not in the format's own header (Authorization:
    # Bearer, x-api-key, x-goog-api-key): this header, the prefix before it.
    api_key_header: str | None = None
    api_key_prefix: str = ""
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
        """The key from the environment, or None when the variable is unset,
        empty, or holds a value that must not be sent (see `key_problem`)."""
        if not self.api_key_env:
            return None
        value = (os.environ if environ is None else environ).get(self.api_key_env)
        if not value or key_problem(self.api_key_env, value) is not None:
            return None
        return value

    def key_problem(self, environ: Mapping[str, str] | None = None) -> str | None:
        """One line saying why the key's variable cannot be used, naming the
        variable and never its value; None when it is fine or not needed."""
        if not self.api_key_env:
            return None
        value = (os.environ if environ is None else environ).get(self.api_key_env)
        if not value:
            return f"no API key: export {self.api_key_env}"
        return key_problem(self.api_key_env, value)

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
            # Never a credential: userinfo and query strings are not kept.
            "base_url": public_url(self.provider.base_url),
            "api": str(self.provider.api),
            # Prices at the time of measuring travel with the result, so cost
            # per answer can be recomputed from an export alone.
            "price_input_per_mtok": self.provider.price_input_per_mtok,
            "price_output_per_mtok": self.provider.price_output_per_mtok,
        }


_KEY_CHAR_NAMES = {"\r": "a carriage return (\\r)", "\n": "a line break (\\n)", "\t": "a tab",
                   " ": "a space"}


def key_problem(variable: str, value: str) -> str | None:
    """Why a key's value must not be sent, or None. A key is printable ASCII
    with no spaces: a value with a line break or a tab (a Windows `.env`, a
    secret made with `echo`) would be refused by the HTTP library with the
    key in its message, so it is refused here first. The message names the
    variable, never the value."""
    for i, ch in enumerate(value):
        if "!" <= ch <= "~":
            continue
        what = _KEY_CHAR_NAMES.get(ch) or (f"the control character U+{ord(ch):04X}" if ord(ch) < 0x20
                                          or 0x7F <= ord(ch) <= 0x9F else f"the non-ASCII character U+{ord(ch):04X}")
        where = "at its end" if value[i:].strip() == "" else ("at its start" if value[:i].strip() == ""
                                                            else "inside it")
        return (f"{variable} has {what} {where}; a key is printable ASCII with no spaces. "
                f"Export it again without it (for example: export {variable}=\"$(printf %s "
                f"\"${variable}\" | tr -d '\\r\\n\\t ')\")")
    return None


def public_url(url: str) -> str:
    """`url` without userinfo (`user:pass@`), query string or fragment: what
    may be stored, exported and shown."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split("?", 1)[0].split("#", 1)[0]
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


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
    # Sequences that end the answer where they would appear (not included).
    stop: tuple[str, ...] = ()
    # The sampling seed sent with the request (OpenAI `seed`, Gemini
    # `generationConfig.seed`); not the simulator's or a campaign's seed.
    request_seed: int | None = None
    top_p: float | None = None
    # Ask for an answer that is one JSON value (OpenAI `response_format`,
    # Gemini `responseMimeType`), where the API has such a switch.
    json_output: bool = False

    def __post_init__(self) -> None:
        # A list from TOML or JSON, or one sequence as a string.
        stop = self.stop
        if isinstance(stop, str):
            stop = (stop,)
        if not isinstance(stop, tuple):
            object.__setattr__(self, "stop", tuple(stop or ()))
        elif stop is not self.stop:
            object.__setattr__(self, "stop", stop)

    def to_json(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "reasoning": self.reasoning,
            "system": self.system,
            "stop": list(self.stop),
            "request_seed": self.request_seed,
            "top_p": self.top_p,
            "json_output": self.json_output,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProbeParams:
        return cls(
            prompt=data["prompt"],
            max_tokens=int(data.get("max_tokens", 256)),
            temperature=data.get("temperature"),
            reasoning=data.get("reasoning"),
            system=data.get("system"),
            stop=tuple(data.get("stop") or ()),
            request_seed=data.get("request_seed"),
            top_p=data.get("top_p"),
            json_output=bool(data.get("json_output", False)),
        )
