"""OpenAI-compatible chat completions (OpenAI, vLLM, SGLang, llama.cpp, Ollama,
LM Studio, Together, Fireworks, Groq, DeepInfra, OpenRouter, ...)."""

from __future__ import annotations

from typing import Any

from infertui.core.result import ChunkKind, Usage
from infertui.core.sse import SSEEvent
from infertui.core.targets import ProbeParams, Provider, Target
from infertui.core.wire.base import (
    FinishReport,
    MetaReport,
    ProtocolError,
    StreamDone,
    StreamFailure,
    StreamItem,
    TextDelta,
    UsageReport,
    WireRequest,
    as_int,
    as_str,
    as_text,
    common_error_message,
    join_url,
    key_header,
    loads,
    merged_body,
)

_CONTENT = ChunkKind.CONTENT
_REASONING = ChunkKind.REASONING


def usage_from(payload: dict[str, Any]) -> Usage:
    """OpenAI's prompt_tokens already include cached tokens: infertui's
    input_tokens (all prompt tokens, cached or not) as is."""
    details = payload.get("completion_tokens_details") or {}
    prompt_details = payload.get("prompt_tokens_details") or {}
    return Usage(
        input_tokens=as_int(payload.get("prompt_tokens")),
        output_tokens=as_int(payload.get("completion_tokens")),
        reasoning_tokens=as_int(details.get("reasoning_tokens")) if isinstance(details, dict) else None,
        cached_tokens=as_int(prompt_details.get("cached_tokens")) if isinstance(prompt_details, dict) else None,
    )


class OpenAIParser:
    __slots__ = ("finished", "_meta_sent")

    def __init__(self) -> None:
        self.finished = False
        self._meta_sent = False

    def feed(self, event: SSEEvent) -> list[StreamItem]:
        if event.comment:
            return []
        data = event.data
        if data == "[DONE]":
            self.finished = True
            return [StreamDone()]
        obj = loads(data)
        if not isinstance(obj, dict):
            raise ProtocolError(f"expected a JSON object, got {type(obj).__name__}")
        items: list[StreamItem] = []
        if obj.get("error") or obj.get("object") == "error" or event.event == "error":
            return [StreamFailure(message=as_str(common_error_message(obj), 2000) or data[:200],
                                  code=_error_code(obj))]
        if not self._meta_sent and ("model" in obj or "system_fingerprint" in obj or "id" in obj):
            self._meta_sent = True
            items.append(MetaReport(as_str(obj.get("model")), as_str(obj.get("system_fingerprint")),
                                    as_str(obj.get("id"))))
        choices = obj.get("choices")
        if isinstance(choices, list):
            for choice in choices:
                if not isinstance(choice, dict):
                    continue
                delta = choice.get("delta")
                if isinstance(delta, dict):
                    # Reasoning first: within one chunk it precedes the answer.
                    reasoning = as_text(delta.get("reasoning_content")) or as_text(delta.get("reasoning"))
                    if reasoning:
                        items.append(TextDelta(_REASONING, reasoning))
                    content = as_text(delta.get("content"))
                    if content:
                        items.append(TextDelta(_CONTENT, content))
                reason = choice.get("finish_reason")
                if reason:
                    self.finished = True
                    items.append(FinishReport(as_str(reason, 64) or "unknown"))
        usage = obj.get("usage")
        if isinstance(usage, dict):
            items.append(UsageReport(usage_from(usage)))
        groq = obj.get("x_groq")
        if isinstance(groq, dict) and isinstance(groq.get("usage"), dict):
            items.append(UsageReport(usage_from(groq["usage"])))
        return items


def _error_code(obj: dict[str, Any]) -> str | None:
    err = obj.get("error")
    code = err.get("code") if isinstance(err, dict) else obj.get("code")
    return None if code is None or isinstance(code, (dict, list)) else as_str(str(code), 64)


class OpenAIFormat:
    name = "openai"

    def build_request(self, target: Target, params: ProbeParams, api_key: str | None,
                      prompt: str) -> WireRequest:
        provider = target.provider
        messages: list[dict[str, str]] = []
        if params.system:
            messages.append({"role": "system", "content": params.system})
        messages.append({"role": "user", "content": prompt})
        body: dict[str, Any] = {
            "model": target.model,
            "messages": messages,
            "stream": True,
            "stream_options": {"include_usage": True},
            provider.max_tokens_field: params.max_tokens,
        }
        if params.temperature is not None:
            body["temperature"] = params.temperature
        if params.top_p is not None:
            body["top_p"] = params.top_p
        if params.stop:
            body["stop"] = list(params.stop)
        if params.request_seed is not None:
            body["seed"] = params.request_seed
        if params.json_output:
            body["response_format"] = {"type": "json_object"}
        if params.reasoning is True and provider.reasoning_on is not None:
            merged_body(body, provider.reasoning_on)
        elif params.reasoning is False and provider.reasoning_off is not None:
            merged_body(body, provider.reasoning_off)
        merged_body(body, provider.extra_body)
        headers = {"content-type": "application/json", "accept": "text/event-stream"}
        if api_key:
            headers.update(key_header(provider, api_key, "authorization", "Bearer "))
        headers.update(provider.headers)
        limit = body.get(provider.max_tokens_field)
        return WireRequest("POST", join_url(provider.base_url, "chat/completions"), headers, body,
                           max_tokens=limit if isinstance(limit, int) else None)

    def new_parser(self) -> OpenAIParser:
        return OpenAIParser()

    def models_request(self, provider: Provider, api_key: str | None) -> WireRequest:
        headers = {"accept": "application/json"}
        if api_key:
            headers.update(key_header(provider, api_key, "authorization", "Bearer "))
        headers.update(provider.headers)
        return WireRequest("GET", join_url(provider.base_url, "models"), headers)

    def parse_models(self, payload: Any) -> list[str]:
        data = payload.get("data") if isinstance(payload, dict) else payload
        if isinstance(payload, dict) and data is None:
            data = payload.get("models")  # Ollama's /api/tags shape, if pointed there
        ids = []
        for item in data or []:
            if isinstance(item, dict):
                ident = item.get("id") or item.get("name") or item.get("model")
                if isinstance(ident, str):
                    ids.append(ident)
            elif isinstance(item, str):
                ids.append(item)
        return sorted(set(ids))

    def error_message(self, payload: Any) -> str | None:
        return common_error_message(payload)


FORMAT = OpenAIFormat()
