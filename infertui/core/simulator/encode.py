"""A plan's bytes in each wire format, as the real servers send them.

A stream is a list of frames; the front ends sleep each frame's delay, then
send its bytes as one write. Frames that carry a step say so (`kind`), which
is what the ground truth records. Preambles (OpenAI's role-only chunk,
Anthropic's message_start) go out at once, before the first token, as the
real services do: a client that stops its TTFT clock there is wrong.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from infertui.core.simulator.engine import REASONING, StreamPlan
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
    return f"data: {_json(obj)}{sep}".encode("utf-8")


def _event(name: str, obj: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {_json(obj)}\n\n".encode("utf-8")


def encode_stream(api: Api | str, plan: StreamPlan, *, model: str, created: int = 0,
                  include_usage: bool = True) -> list[Frame]:
    """`include_usage` is OpenAI's stream_options.include_usage; the other
    formats always report usage."""
    api = Api(api)
    if plan.http_error is not None:
        raise ValueError("an HTTP error has no stream; use error_body")
    if api is Api.OPENAI:
        frames = _openai(plan, model, created, include_usage)
    elif api is Api.ANTHROPIC:
        frames = _anthropic(plan, model)
    else:
        frames = _gemini(plan, model)
    if plan.failure is not None and plan.failure.kind != "error":
        frames.append(Frame(plan.failure.delay_s, b""))  # the body ends, or the link drops, here
    return frames


# OpenAI chat completions ------------------------------------------------------

def _openai(plan: StreamPlan, model: str, created: int, include_usage: bool) -> list[Frame]:
    envelope = {"id": f"chatcmpl-{plan.request_id}", "object": "chat.completion.chunk",
                "created": created, "model": model,
                "system_fingerprint": f"fp_{plan.request_id[:10]}"}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        body = {**envelope, "choices": [{"index": 0, "delta": delta, "logprobs": None,
                                         "finish_reason": finish}]}
        if include_usage:
            body["usage"] = None
        return _data(body)

    frames = [Frame(0.0, chunk({"role": "assistant", "content": ""}))]
    for step in plan.steps:
        field = "reasoning_content" if step.kind == REASONING else "content"
        frames.append(Frame(step.delay_s, chunk({field: step.text}), step.kind, step.tokens))
    if plan.failure is not None:
        if plan.failure.kind == "error":
            frames.append(Frame(plan.failure.delay_s, _data({"error": {
                "message": plan.failure.message, "type": "server_error", "param": None,
                "code": "overloaded"}})))
        return frames
    frames.append(Frame(plan.end_delay_s, chunk({}, plan.finish_reason)))
    if include_usage:
        usage = {"prompt_tokens": plan.input_tokens, "completion_tokens": plan.output_tokens,
                 "total_tokens": plan.input_tokens + plan.output_tokens,
                 "prompt_tokens_details": {"cached_tokens": 0},
                 "completion_tokens_details": {"reasoning_tokens": plan.reasoning_tokens}}
        frames.append(Frame(0.0, _data({**envelope, "choices": [], "usage": usage})))
    frames.append(Frame(0.0, b"data: [DONE]\n\n"))
    return frames


# Anthropic messages ----------------------------------------------------------

_ANTHROPIC_STOP = {"stop": "end_turn", "length": "max_tokens"}


def _anthropic(plan: StreamPlan, model: str) -> list[Frame]:
    start = {"type": "message_start", "message": {
        "id": f"msg_{plan.request_id}", "type": "message", "role": "assistant", "model": model,
        "content": [], "stop_reason": None, "stop_sequence": None,
        "usage": {"input_tokens": plan.input_tokens, "cache_creation_input_tokens": 0,
                  "cache_read_input_tokens": 0, "output_tokens": 1}}}
    frames = [Frame(0.0, _event("message_start", start)),
              Frame(0.0, _event("ping", {"type": "ping"}))]
    index = -1
    block: str | None = None

    def close_block() -> bytes:
        out = b""
        if block == REASONING:
            out += _event("content_block_delta", {
                "type": "content_block_delta", "index": index,
                "delta": {"type": "signature_delta", "signature": f"sim{plan.request_id}"}})
        return out + _event("content_block_stop", {"type": "content_block_stop", "index": index})

    for step in plan.steps:
        data = b""
        if step.kind != block:
            if block is not None:
                data += close_block()
            index += 1
            block = step.kind
            opened = ({"type": "thinking", "thinking": ""} if block == REASONING
                      else {"type": "text", "text": ""})
            data += _event("content_block_start", {"type": "content_block_start", "index": index,
                                                   "content_block": opened})
        delta = ({"type": "thinking_delta", "thinking": step.text} if step.kind == REASONING
                 else {"type": "text_delta", "text": step.text})
        data += _event("content_block_delta", {"type": "content_block_delta", "index": index,
                                               "delta": delta})
        frames.append(Frame(step.delay_s, data, step.kind, step.tokens))
    if plan.failure is not None:
        if plan.failure.kind == "error":
            frames.append(Frame(plan.failure.delay_s, _event("error", {
                "type": "error", "error": {"type": "overloaded_error",
                                           "message": plan.failure.message}})))
        return frames
    end = close_block() if block is not None else b""
    frames.append(Frame(plan.end_delay_s, end + _event("message_delta", {
        "type": "message_delta",
        "delta": {"stop_reason": _ANTHROPIC_STOP[plan.finish_reason or "stop"],
                  "stop_sequence": None},
        "usage": {"output_tokens": plan.output_tokens}})))
    frames.append(Frame(0.0, _event("message_stop", {"type": "message_stop"})))
    return frames


# Gemini streamGenerateContent?alt=sse -----------------------------------------

_GEMINI_STOP = {"stop": "STOP", "length": "MAX_TOKENS"}


def _gemini(plan: StreamPlan, model: str) -> list[Frame]:
    frames: list[Frame] = []
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

    finishing = plan.failure is None
    finish = _GEMINI_STOP[plan.finish_reason or "stop"]
    last = len(plan.steps) - 1
    for i, step in enumerate(plan.steps):
        part: dict[str, Any] = {"text": step.text}
        if step.kind == REASONING:
            part["thought"] = True
        ends = finishing and i == last and plan.end_delay_s == 0
        frames.append(Frame(step.delay_s, response([part], finish if ends else None,
                                                   final_usage if ends else running),
                            step.kind, step.tokens))
    if plan.failure is not None:
        if plan.failure.kind == "error":
            frames.append(Frame(plan.failure.delay_s, _data({"error": {
                "code": 503, "message": plan.failure.message, "status": "UNAVAILABLE"}},
                "\r\n\r\n")))
    elif not plan.steps or plan.end_delay_s > 0:
        frames.append(Frame(plan.end_delay_s, response([], finish, final_usage)))
    return frames


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

