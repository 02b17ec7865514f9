"""A plan's bytes in each wire format, as the real servers send them.

A stream is a lazy sequence of frames, each step generated and encoded only
when the front end asks for its frame; the front ends wait until a frame is
due (its `delay_s` after the previous one), then send its bytes as one write.
Frames that carry a step say so (`kind`), which is what the ground truth
records. A frame without bytes is time passing: hidden reasoning, or last,
the moment a cut body ends or its connection drops. Preambles (OpenAI's
role-only chunk, Anthropic's message_start) go out at once, before the first
token, as the real services do: a client that stops its TTFT clock there is
wrong.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from infertui.core.simulator.engine import REASONING, End, Pause, Step, StreamPlan
from infertui.core.targets import Api


@dataclass(frozen=True, slots=True)
class Frame:
    delay_s: float
    data: bytes
    kind: str | None = None  # CONTENT or REASONING when it carries a step
    tokens: int = 0


def _json(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _data(obj: Any, sep: str = "\n\n") -> bytes:
    return f"data: {_json(obj)}{sep}".encode()


def _event(name: str, obj: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {_json(obj)}\n\n".encode()


def encode_stream(api: Api | str, plan: StreamPlan, *, model: str, created: int = 0,
                  include_usage: bool = True) -> Iterator[Frame]:
    """The frames, one at a time. `include_usage` is OpenAI's
    stream_options.include_usage; the other formats always report usage."""
    api = Api(api)
    if plan.http_error is not None:
        raise ValueError("an HTTP error has no stream; use error_body")
    if api is Api.OPENAI:
        return _openai(plan, model, created, include_usage)
    if api is Api.ANTHROPIC:
        return _anthropic(plan, model)
    return _gemini(plan, model)


def _timeline(plan: StreamPlan) -> Iterator[tuple[Step | Pause | End, bool]]:
    """Each timeline item, and whether it is the last step of a stream that
    finishes with no wait after it (Gemini puts the finish in that step's
    response). It looks one item ahead: still constant work per step."""
    finishing = plan.failure is None
    held: Step | None = None
    for item in plan.iter_timeline():
        if held is not None:
            yield held, finishing and isinstance(item, End) and item.delay_s == 0
            held = None
        if isinstance(item, Step):
            held = item
        else:
            yield item, False


# OpenAI chat completions ------------------------------------------------------

def _openai(plan: StreamPlan, model: str, created: int, include_usage: bool) -> Iterator[Frame]:
    envelope = {"id": f"chatcmpl-{plan.request_id}", "object": "chat.completion.chunk",
                "created": created, "model": model,
                "system_fingerprint": f"fp_{plan.request_id[:10]}"}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        body = {**envelope, "choices": [{"index": 0, "delta": delta, "logprobs": None,
                                         "finish_reason": finish}]}
        if include_usage:
            body["usage"] = None
        return _data(body)

    yield Frame(0.0, chunk({"role": "assistant", "content": ""}))
    for item, _ in _timeline(plan):
        if isinstance(item, Step):
            field = "reasoning_content" if item.kind == REASONING else "content"
            yield Frame(item.delay_s, chunk({field: item.text}), item.kind, item.tokens)
        elif isinstance(item, Pause):
            yield Frame(item.delay_s, b"")
        elif plan.failure is not None:
            # A broken stream's last frame: the error event, or for a cut
            # body or a dropped connection, no bytes, just its moment.
            yield Frame(item.delay_s, _data({"error": {
                "message": plan.failure.message, "type": "server_error", "param": None,
                "code": "overloaded"}}) if plan.failure.kind == "error" else b"")
        else:
            yield Frame(item.delay_s, chunk({}, _OPENAI_STOP.get(plan.finish_reason or "stop",
                                                                 plan.finish_reason)))
            if include_usage:
                usage = {"prompt_tokens": plan.input_tokens, "completion_tokens": plan.output_tokens,
                         "total_tokens": plan.input_tokens + plan.output_tokens,
                         "prompt_tokens_details": {"cached_tokens": 0},
                         "completion_tokens_details": {"reasoning_tokens": plan.reasoning_tokens}}
                yield Frame(0.0, _data({**envelope, "choices": [], "usage": usage}))
            yield Frame(0.0, b"data: [DONE]\n\n")


# Anthropic messages ----------------------------------------------------------

_ANTHROPIC_STOP = {"stop": "end_turn", "length": "max_tokens", "stop_sequence": "stop_sequence"}
_OPENAI_STOP = {"stop_sequence": "stop"}


def _anthropic(plan: StreamPlan, model: str) -> Iterator[Frame]:
    start = {"type": "message_start", "message": {
        "id": f"msg_{plan.request_id}", "type": "message", "role": "assistant", "model": model,
        "content": [], "stop_reason": None, "stop_sequence": None,
        "usage": {"input_tokens": plan.input_tokens, "cache_creation_input_tokens": 0,
                  "cache_read_input_tokens": 0, "output_tokens": 1}}}
    yield Frame(0.0, _event("message_start", start))
    yield Frame(0.0, _event("ping", {"type": "ping"}))
    index = -1
    block: str | None = None

    def close_block() -> bytes:
        out = b""
        if block == REASONING:
            out += _event("content_block_delta", {
                "type": "content_block_delta", "index": index,
                "delta": {"type": "signature_delta", "signature": f"sim{plan.request_id}"}})
        return out + _event("content_block_stop", {"type": "content_block_stop", "index": index})

    for item, _ in _timeline(plan):
        if isinstance(item, Pause):
            yield Frame(item.delay_s, b"")
        elif isinstance(item, Step):
            data = b""
            if item.kind != block:
                if block is not None:
                    data += close_block()
                index += 1
                block = item.kind
                opened = ({"type": "thinking", "thinking": ""} if block == REASONING
                          else {"type": "text", "text": ""})
                data += _event("content_block_start", {"type": "content_block_start", "index": index,
                                                       "content_block": opened})
            delta = ({"type": "thinking_delta", "thinking": item.text} if item.kind == REASONING
                     else {"type": "text_delta", "text": item.text})
            data += _event("content_block_delta", {"type": "content_block_delta", "index": index,
                                                   "delta": delta})
            yield Frame(item.delay_s, data, item.kind, item.tokens)
        elif plan.failure is not None:
            yield Frame(item.delay_s, _event("error", {
                "type": "error", "error": {"type": "overloaded_error", "message": plan.failure.message}})
                if plan.failure.kind == "error" else b"")
        else:
            end = close_block() if block is not None else b""
            yield Frame(item.delay_s, end + _event("message_delta", {
                "type": "message_delta",
                "delta": {"stop_reason": _ANTHROPIC_STOP[plan.finish_reason or "stop"],
                          "stop_sequence": plan.stop_sequence},
                "usage": {"output_tokens": plan.output_tokens}}))
            yield Frame(0.0, _event("message_stop", {"type": "message_stop"}))


# Gemini streamGenerateContent?alt=sse -----------------------------------------

_GEMINI_STOP = {"stop": "STOP", "length": "MAX_TOKENS", "stop_sequence": "STOP"}


def _gemini(plan: StreamPlan, model: str) -> Iterator[Frame]:
    running = {"promptTokenCount": plan.input_tokens, "totalTokenCount": plan.input_tokens}
    final_usage: dict[str, Any] = {
        "promptTokenCount": plan.input_tokens,
        "candidatesTokenCount": plan.output_tokens - plan.reasoning_tokens,
        "totalTokenCount": plan.input_tokens + plan.output_tokens,
    }
    if plan.reasoning_tokens:
        final_usage["thoughtsTokenCount"] = plan.reasoning_tokens

    def response(parts: list[dict[str, Any]], finish: str | None, usage: dict[str, Any]) -> bytes:
        candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}}
        if finish:
            candidate["finishReason"] = finish
        candidate["index"] = 0
        return _data({"candidates": [candidate], "usageMetadata": usage, "modelVersion": model,
                      "responseId": plan.request_id}, "\r\n\r\n")

    finish = _GEMINI_STOP[plan.finish_reason or "stop"]
    finished = False  # the last step carried the finish
    for item, ends in _timeline(plan):
        if isinstance(item, Pause):
            yield Frame(item.delay_s, b"")
        elif isinstance(item, Step):
            part: dict[str, Any] = {"text": item.text}
            if item.kind == REASONING:
                part["thought"] = True
            finished = ends
            yield Frame(item.delay_s, response([part], finish if ends else None,
                                               final_usage if ends else running),
                        item.kind, item.tokens)
        elif plan.failure is not None:
            yield Frame(item.delay_s, _data({"error": {
                "code": 503, "message": plan.failure.message, "status": "UNAVAILABLE"}},
                "\r\n\r\n") if plan.failure.kind == "error" else b"")
        elif not finished:
            yield Frame(item.delay_s, response([], finish, final_usage))


# Headers, errors, model lists ----------------------------------------------------

def request_id_header(api: Api | str, plan_id: str) -> dict[str, str]:
    api = Api(api)
    if api is Api.OPENAI:
        return {"x-request-id": f"req_{plan_id}"}
    if api is Api.ANTHROPIC:
        return {"request-id": f"req_{plan_id}"}
    return {}  # Gemini names the response in the body (responseId)


def stream_headers(api: Api | str, plan_id: str) -> dict[str, str]:
    api = Api(api)
    content_type = "text/event-stream" if api is Api.GEMINI else "text/event-stream; charset=utf-8"
    return {"content-type": content_type, "cache-control": "no-cache",
            **request_id_header(api, plan_id)}


_OPENAI_ERRORS = {400: ("invalid_request_error", None), 404: ("invalid_request_error", "model_not_found"),
                  405: ("invalid_request_error", None), 429: ("requests", "rate_limit_exceeded"),
                  500: ("server_error", None)}
_ANTHROPIC_ERRORS = {400: "invalid_request_error", 404: "not_found_error", 405: "invalid_request_error",
                     429: "rate_limit_error", 500: "api_error", 529: "overloaded_error"}
_GEMINI_ERRORS = {400: "INVALID_ARGUMENT", 404: "NOT_FOUND", 405: "INVALID_ARGUMENT",
                  429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}


def error_body(api: Api | str, status: int, message: str) -> bytes:
    api = Api(api)
    if api is Api.OPENAI:
        kind, code = _OPENAI_ERRORS.get(status, ("server_error" if status >= 500 else "invalid_request_error", None))
        body: dict[str, Any] = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    elif api is Api.ANTHROPIC:
        kind = _ANTHROPIC_ERRORS.get(status, "api_error" if status >= 500 else "invalid_request_error")
        body = {"type": "error", "error": {"type": kind, "message": message}}
    else:
        body = {"error": {"code": status, "message": message,
                          "status": _GEMINI_ERRORS.get(status, "INTERNAL" if status >= 500 else "INVALID_ARGUMENT")}}
    return _json(body).encode("utf-8")


def unknown_model_message(api: Api | str, model: str) -> str:
    api = Api(api)
    if api is Api.OPENAI:
        return f"The model `{model}` does not exist or you do not have access to it."
    if api is Api.ANTHROPIC:
        return f"model: {model}"
    return f"models/{model} is not found for API version v1beta, or is not supported for generateContent."


def models_body(api: Api | str, provider: str, models: list[str]) -> bytes:
    api = Api(api)
    if api is Api.OPENAI:
        body: dict[str, Any] = {"object": "list", "data": [
            {"id": m, "object": "model", "created": 1735689600, "owned_by": provider} for m in models]}
    elif api is Api.ANTHROPIC:
        body = {"data": [{"type": "model", "id": m, "display_name": m,
                          "created_at": "2025-01-01T00:00:00Z"} for m in models],
                "has_more": False, "first_id": models[0] if models else None,
                "last_id": models[-1] if models else None}
    else:
        body = {"models": [{"name": f"models/{m}", "displayName": m,
                            "supportedGenerationMethods": ["generateContent", "streamGenerateContent"],
                            "inputTokenLimit": 131072, "outputTokenLimit": 8192} for m in models]}
    return _json(body).encode("utf-8")

