"""What a wire format turns SSE events into, and what it must provide."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Mapping, Protocol

from infertui.core.result import ChunkKind, Usage
from infertui.core.sse import SSEEvent
from infertui.core.targets import ProbeParams, Provider, Target
from infertui.textsafe import clean_str


class ProtocolError(Exception):
    """The stream could not be decoded (bad JSON, unexpected shape)."""


@dataclass(slots=True)
class TextDelta:
    kind: ChunkKind
    text: str


@dataclass(slots=True)
class UsageReport:
    usage: Usage


@dataclass(slots=True)
class FinishReport:
    reason: str


@dataclass(slots=True)
class MetaReport:
    server_model: str | None = None
    system_fingerprint: str | None = None
    response_id: str | None = None


@dataclass(slots=True)
class StreamFailure:
    """An error reported inside an HTTP 200 stream."""

    message: str
    code: str | None = None


@dataclass(slots=True)
class StreamDone:
    """The format's explicit end marker ([DONE], message_stop)."""


StreamItem = TextDelta | UsageReport | FinishReport | MetaReport | StreamFailure | StreamDone


@dataclass
class WireRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: dict[str, Any] | None = None
    # The output limit as sent (each format names it differently), so a
    # `length` finish can give the exact output count.
    max_tokens: int | None = None


class StreamParser(Protocol):
    # True once the stream has said it finished properly (a finish reason,
    # message_stop); a stream that ends before is `truncated`.
    finished: bool

    def feed(self, event: SSEEvent) -> list[StreamItem]: ...


class WireFormat(Protocol):
    name: str

    def build_request(self, target: Target, params: ProbeParams, api_key: str | None,
                      prompt: str) -> WireRequest: ...

    def new_parser(self) -> StreamParser: ...

    def models_request(self, provider: Provider, api_key: str | None) -> WireRequest: ...

    def parse_models(self, payload: Any) -> list[str]: ...

    def error_message(self, payload: Any) -> str | None: ...


def loads(data: str) -> Any:
    try:
        return json.loads(data)
    except ValueError as exc:
        snippet = data if len(data) <= 120 else data[:117] + "..."
        raise ProtocolError(f"undecodable event: {snippet!r}") from exc


def join_url(base: str, path: str) -> str:
    return base.rstrip("/") + "/" + path.lstrip("/")


def key_header(provider: Provider, api_key: str, name: str, prefix: str = "") -> dict[str, str]:
    """The header that carries the key: the format's own (`name`, `prefix`),
    or the one the provider names with api_key_header / api_key_prefix."""
    if provider.api_key_header:
        return {provider.api_key_header: f"{provider.api_key_prefix}{api_key}"}
    return {name: f"{prefix}{api_key}"}


def merged_body(body: dict[str, Any], *extras: Mapping[str, Any] | None) -> dict[str, Any]:
    """Shallow-merge extra body fields; nested dicts merge one level deep."""
    for extra in extras:
        for key, value in (extra or {}).items():
            if isinstance(value, Mapping) and isinstance(body.get(key), dict):
                body[key] = {**body[key], **value}
            else:
                body[key] = value
    return body


MAX_COUNT = 10**9  # no answer has a billion tokens: a count above is a bad value, dropped
MAX_META = 512  # ids, model names, fingerprints


def as_int(value: Any) -> int | None:
    """A token count as a server sent it: a non-negative integer below
    MAX_COUNT, else None (the estimate is used instead)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            return None
        value = int(value)
    if not isinstance(value, int) or value < 0 or value >= MAX_COUNT:
        return None
    return value


def as_str(value: Any, limit: int = MAX_META) -> str | None:
    """A string a server sent where a short string belongs (a model name, an
    id, a finish reason): anything else is dropped, lone surrogates are
    replaced, and it is cut to `limit` characters."""
    if not isinstance(value, str) or not value:
        return None
    value = clean_str(value)
    return value if len(value) <= limit else value[:limit]


def as_text(value: Any) -> str | None:
    """Streamed text: a non-empty string, surrogates replaced; anything else
    (a number, a list, an object) carries no text."""
    if not isinstance(value, str) or not value:
        return None
    return clean_str(value)


def common_error_message(payload: Any) -> str | None:
    """The human message in the usual error bodies of all three formats."""
    if isinstance(payload, dict):
        err = payload.get("error", payload)
        if isinstance(err, dict):
            msg = err.get("message") or err.get("detail") or err.get("msg")
            if isinstance(msg, str):
                return msg
        elif isinstance(err, str):
            return err
        msg = payload.get("message") or payload.get("detail")
        if isinstance(msg, str):
            return msg
    if isinstance(payload, list) and payload:
        return common_error_message(payload[0])
    return None

