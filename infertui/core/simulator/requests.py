"""Reading a generation request in any of the three formats, and finding
which operation a URL path asks for.

Only what the simulation needs is read: the model, the prompt text, the
token limit, the reasoning switch, OpenAI's include_usage, stop sequences,
the seed and a JSON-output request. Requests a real
server would refuse for a missing field are refused here too (400), so a
client bug shows up against the simulator as well.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Mapping

from infertui.core.targets import Api

DEFAULT_MAX_TOKENS = 4096
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_GEMINI_PATH = re.compile(r"(?P<prefix>.*?)/models/(?P<model>[^:]+):(?P<verb>[A-Za-z]+)")


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Route:
    """`operation` is "generate" or "models"; `api` None for a models list
    whose format the headers must decide."""

    operation: str
    api: Api | None
    provider: str | None  # from a `/PROVIDER/v1` prefix
    model: str | None = None  # Gemini names it in the path
    verb: str | None = None


def route(method: str, path: str) -> Route:
    """Find the operation by the path's end, as the wire modules build URLs:
    `{base}/chat/completions`, `{base}/messages`,
    `{base}/models/{model}:streamGenerateContent`, `{base}/models`. A base
    with two or more segments names the provider in its first one."""
    path = "/" + path.strip("/")
    gemini = _GEMINI_PATH.fullmatch(path)
    if gemini:
        return _checked(method, "POST", Route("generate", Api.GEMINI, _provider(gemini["prefix"]),
                                              gemini["model"], gemini["verb"]))
    for suffix, operation, api, want in (("/chat/completions", "generate", Api.OPENAI, "POST"),
                                         ("/messages", "generate", Api.ANTHROPIC, "POST"),
                                         ("/models", "models", None, "GET")):
        if path.endswith(suffix):
            return _checked(method, want, Route(operation, api, _provider(path[:-len(suffix)])))
    raise BadRequest(f"no such endpoint: {path}", 404)


def _checked(method: str, want: str, found: Route) -> Route:
    if method.upper() != want:
        raise BadRequest(f"method {method} not allowed here; use {want}", 405)
    return found


def _provider(prefix: str) -> str | None:
    segments = [s for s in prefix.split("/") if s]
    if len(segments) < 2:
        return None
    if not _NAME.fullmatch(segments[0]):
        raise BadRequest(f"bad provider name in path: {segments[0]!r}", 404)
    return segments[0]


def models_api(headers: Mapping[str, str], query: Mapping[str, str]) -> Api | None:
    """Which format a models list is asked in, from what each client sends."""
    if "anthropic-version" in headers:
        return Api.ANTHROPIC
    if "x-goog-api-key" in headers or "pageSize" in query or "key" in query:
        return Api.GEMINI
    if headers.get("authorization", "").lower().startswith("bearer "):
        return Api.OPENAI
    return None


@dataclass(frozen=True)
class Generation:
    model: str
    prompt: str
    max_tokens: int
    reasoning: bool | None
    include_usage: bool = True
    stop: tuple[str, ...] = ()
    seed: int | None = None
    json_output: bool = False


def _load(body: bytes) -> dict[str, Any]:
    try:
        obj = json.loads(body or b"null")
    except ValueError:
        raise BadRequest("the request body is not valid JSON") from None
    if not isinstance(obj, dict):
        raise BadRequest("the request body must be a JSON object")
    return obj


def _text_of(content: Any) -> str:
    """Message content as a string or a list of parts with text."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(_text_of(part.get("text")) if isinstance(part, dict) else _text_of(part)
                         for part in content)
    return ""


def _limit(value: Any, name: str, default: int | None) -> int:
    if value is None:
        if default is None:
            raise BadRequest(f"{name}: Field required")
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BadRequest(f"{name} must be a positive integer, not {value!r}")
    return value


def _stops(value: Any, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise BadRequest(f"{name} must be a string or an array of strings")


def _seed(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"seed must be an integer, not {value!r}")
    return value


def parse_generation(api: Api, body: bytes, route_: Route, query: Mapping[str, str]) -> Generation:
    obj = _load(body)
    if api is Api.OPENAI:
        return _openai(obj)
    if api is Api.ANTHROPIC:
        return _anthropic(obj)
    return _gemini(obj, route_, query)


def _model(obj: dict[str, Any]) -> str:
    model = obj.get("model")
    if not isinstance(model, str) or not model:
        raise BadRequest("model: Field required")
    return model


def _openai(obj: dict[str, Any]) -> Generation:
    model = _model(obj)
    if obj.get("stream") is not True:
        raise BadRequest("the simulator only streams: set \"stream\": true")
    messages = obj.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("messages: must be a non-empty array")
    prompt = "\n".join(_text_of(m.get("content")) for m in messages if isinstance(m, dict))
    limit = obj.get("max_completion_tokens", obj.get("max_tokens"))
    reasoning: bool | None = None
    effort = obj.get("reasoning_effort")
    if isinstance(effort, str):
        reasoning = effort != "none"
    switch = obj.get("reasoning")
    if isinstance(switch, dict):
        reasoning = not (switch.get("enabled") is False or switch.get("effort") == "none")
    template = obj.get("chat_template_kwargs")
    if isinstance(template, dict) and isinstance(template.get("enable_thinking"), bool):
        reasoning = template["enable_thinking"]
    options = obj.get("stream_options")
    include_usage = isinstance(options, dict) and options.get("include_usage") is True
    form = obj.get("response_format")
    json_output = isinstance(form, dict) and form.get("type") in ("json_object", "json_schema")
    return Generation(model, prompt, _limit(limit, "max_tokens", DEFAULT_MAX_TOKENS),
                      reasoning, include_usage, _stops(obj.get("stop"), "stop"),
                      _seed(obj.get("seed")), json_output)


def _anthropic(obj: dict[str, Any]) -> Generation:
    model = _model(obj)
    limit = _limit(obj.get("max_tokens"), "max_tokens", None)
    if obj.get("stream") is not True:
        raise BadRequest("the simulator only streams: set \"stream\": true")
    messages = obj.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("messages: Field required")
    parts = [_text_of(obj.get("system"))] if obj.get("system") else []
    parts += [_text_of(m.get("content")) for m in messages if isinstance(m, dict)]
    thinking = obj.get("thinking")
    reasoning = None
    if isinstance(thinking, dict) and thinking.get("type") in ("enabled", "disabled"):
        reasoning = thinking["type"] == "enabled"
    return Generation(model, "\n".join(parts), limit, reasoning,
                      stop=_stops(obj.get("stop_sequences"), "stop_sequences"))


def _gemini(obj: dict[str, Any], route_: Route, query: Mapping[str, str]) -> Generation:
    if route_.verb != "streamGenerateContent":
        raise BadRequest("the simulator only streams: use :streamGenerateContent?alt=sse")
    if query.get("alt") != "sse":
        raise BadRequest("the simulator streams Server-Sent Events only: add ?alt=sse")
    contents = obj.get("contents")
    if not isinstance(contents, list) or not contents:
        raise BadRequest("contents is not specified")
    texts = [_text_of(content.get("parts")) for content in contents if isinstance(content, dict)]
    config = obj.get("generationConfig") or {}
    if not isinstance(config, dict):
        raise BadRequest("generationConfig must be an object")
    thinking = config.get("thinkingConfig")
    reasoning = None
    if isinstance(thinking, dict):
        if thinking.get("thinkingBudget") == 0:
            reasoning = False
        elif thinking.get("includeThoughts") is True:
            reasoning = True
    model = (route_.model or "").removeprefix("models/")
    return Generation(model, "\n".join(texts),
                      _limit(config.get("maxOutputTokens"), "maxOutputTokens", DEFAULT_MAX_TOKENS),
                      reasoning, stop=_stops(config.get("stopSequences"), "stopSequences"),
                      seed=_seed(config.get("seed")),
                      json_output=config.get("responseMimeType") == "application/json")
