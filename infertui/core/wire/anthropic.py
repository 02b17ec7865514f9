"""Anthropic messages streaming."""

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

ANTHROPIC_VERSION = "2023-06-01"


def usage_from(payload: dict[str, Any]) -> Usage:
    """Anthropic counts cached prompt tokens apart from `input_tokens`
    (cache reads and cache writes); infertui's input_tokens are all prompt
    tokens, as OpenAI and Gemini count them, so the three are added."""
    cached = as_int(payload.get("cache_read_input_tokens"))
    created = as_int(payload.get("cache_creation_input_tokens"))
    uncached = as_int(payload.get("input_tokens"))
    total = None if uncached is None else uncached + (cached or 0) + (created or 0)
    return Usage(
        # Some gateways send 0 in message_start and the real count later: a 0
        # is only trusted when nothing better comes.
        input_tokens=total,
        output_tokens=as_int(payload.get("output_tokens")),
        cached_tokens=cached,
    )


class AnthropicParser:
    __slots__ = ("finished", "_stop_reason")

    def __init__(self) -> None:
        self.finished = False
        self._stop_reason: str | None = None

    def feed(self, event: SSEEvent) -> list[StreamItem]:
        if event.comment:
            return []
        obj = loads(event.data)
        if not isinstance(obj, dict):
            raise ProtocolError(f"expected a JSON object, got {type(obj).__name__}")
        kind = obj.get("type") or event.event
        if kind == "content_block_delta":
            delta = obj.get("delta")
            if not isinstance(delta, dict):
                return []
            dtype = delta.get("type")
            if dtype == "text_delta":
                text = as_text(delta.get("text"))
                return [TextDelta(ChunkKind.CONTENT, text)] if text else []
            if dtype == "thinking_delta":
                text = as_text(delta.get("thinking"))
                return [TextDelta(ChunkKind.REASONING, text)] if text else []
            return []  # signature_delta, input_json_delta, citations_delta
        if kind == "message_start":
            message = obj.get("message")
            if not isinstance(message, dict):
                message = {}
            items: list[StreamItem] = [MetaReport(as_str(message.get("model")), None,
                                                  as_str(message.get("id")))]
            usage = message.get("usage")
            if isinstance(usage, dict):
                u = usage_from(usage)
                if u.input_tokens == 0:
                    u.input_tokens = None
                # message_start's output_tokens is a placeholder (often 1),
                # not a count: a stream cut before message_delta has none.
                u.output_tokens = None
                items.append(UsageReport(u))
            return items
        if kind == "message_delta":
            items = []
            delta = obj.get("delta")
            reason = as_str(delta.get("stop_reason"), 64) if isinstance(delta, dict) else None
            if reason:
                self._stop_reason = reason
                items.append(FinishReport(self._stop_reason))
            usage = obj.get("usage")
            if isinstance(usage, dict):
                u = usage_from(usage)
                if u.input_tokens == 0:
                    u.input_tokens = None
                items.append(UsageReport(u))
            return items
        if kind == "message_stop":
            self.finished = True
            items = [StreamDone()]
            if self._stop_reason is None:
                items.insert(0, FinishReport("end_turn"))
            return items
        if kind == "error":
            err = obj.get("error")
            return [StreamFailure(as_str(common_error_message(obj), 2000) or event.data[:200],
                                  as_str(err.get("type"), 64) if isinstance(err, dict) else None)]
        # ping, content_block_start, content_block_stop, unknown future events
        return []


class AnthropicFormat:
    name = "anthropic"

    def _headers(self, provider: Provider, api_key: str | None) -> dict[str, str]:
        headers = {"content-type": "application/json", "anthropic-version": ANTHROPIC_VERSION}
        if api_key:
            headers.update(key_header(provider, api_key, "x-api-key"))
        headers.update(provider.headers)
        return headers

    def build_request(self, target: Target, params: ProbeParams, api_key: str | None,
                      prompt: str) -> WireRequest:
        provider = target.provider
        body: dict[str, Any] = {
            "model": target.model,
            "max_tokens": params.max_tokens,
            "messages": [{"role": "user", "content": prompt}],
            "stream": True,
        }
        if params.system:
            body["system"] = params.system
        if params.temperature is not None and params.reasoning is not True:
            body["temperature"] = params.temperature  # thinking requires the default
        if params.top_p is not None:
            body["top_p"] = params.top_p
        if params.stop:
            body["stop_sequences"] = list(params.stop)
        # The Messages API has no seed and no JSON-output switch: those
        # parameters are not sent (compliance says n/a).
        if params.reasoning is True:
            merged_body(body, provider.reasoning_on or {
                "thinking": {"type": "enabled",
                             "budget_tokens": max(1024, params.max_tokens // 2)}})
            if body["max_tokens"] <= body.get("thinking", {}).get("budget_tokens", 0):
                body["max_tokens"] = body["thinking"]["budget_tokens"] + params.max_tokens
        elif params.reasoning is False and provider.reasoning_off is not None:
            merged_body(body, provider.reasoning_off)
        merged_body(body, provider.extra_body)
        limit = body.get("max_tokens")
        return WireRequest("POST", join_url(provider.base_url, "messages"),
                           self._headers(provider, api_key), body,
                           max_tokens=limit if isinstance(limit, int) else None)

    def new_parser(self) -> AnthropicParser:
        return AnthropicParser()

    def models_request(self, provider: Provider, api_key: str | None) -> WireRequest:
        return WireRequest("GET", join_url(provider.base_url, "models?limit=1000"),
                           self._headers(provider, api_key))

    def parse_models(self, payload: Any) -> list[str]:
        data = payload.get("data") if isinstance(payload, dict) else None
        return sorted({m["id"] for m in data or [] if isinstance(m, dict) and isinstance(m.get("id"), str)})

    def error_message(self, payload: Any) -> str | None:
        return common_error_message(payload)


FORMAT = AnthropicFormat()
