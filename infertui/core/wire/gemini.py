"""Google Gemini `:streamGenerateContent?alt=sse`."""

from __future__ import annotations

from typing import Any

from infertui.core.result import ChunkKind, Usage
from infertui.core.sse import SSEEvent
from infertui.core.targets import ProbeParams, Provider, Target
from infertui.core.wire.base import (
    FinishReport,
    MetaReport,
    ProtocolError,
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


def usage_from(meta: dict[str, Any]) -> Usage:
    """promptTokenCount already includes cachedContentTokenCount: infertui's
    input_tokens (all prompt tokens) as is."""
    candidates = as_int(meta.get("candidatesTokenCount"))
    thoughts = as_int(meta.get("thoughtsTokenCount"))
    # Gemini counts thoughts apart from candidates; output = both, as the
    # other formats count reasoning inside the output.
    output = None if candidates is None and thoughts is None else (candidates or 0) + (thoughts or 0)
    return Usage(
        input_tokens=as_int(meta.get("promptTokenCount")),
        output_tokens=output,
        reasoning_tokens=thoughts,
        cached_tokens=as_int(meta.get("cachedContentTokenCount")),
    )


class GeminiParser:
    __slots__ = ("finished", "_meta_sent")

    def __init__(self) -> None:
        self.finished = False
        self._meta_sent = False

    def feed(self, event: SSEEvent) -> list[StreamItem]:
        if event.comment:
            return []
        obj = loads(event.data)
        if isinstance(obj, list) and len(obj) == 1:
            obj = obj[0]
        if not isinstance(obj, dict):
            raise ProtocolError(f"expected a JSON object, got {type(obj).__name__}")
        if "error" in obj:
            err = obj["error"]
            code = (err.get("status") or err.get("code")) if isinstance(err, dict) else None
            return [StreamFailure(as_str(common_error_message(obj), 2000) or event.data[:200],
                                  as_str(str(code), 64) if isinstance(code, (str, int)) else None)]
        items: list[StreamItem] = []
        if not self._meta_sent and ("modelVersion" in obj or "responseId" in obj):
            self._meta_sent = True
            items.append(MetaReport(as_str(obj.get("modelVersion")), None, as_str(obj.get("responseId"))))
        candidates = obj.get("candidates")
        for candidate in candidates if isinstance(candidates, list) else []:
            if not isinstance(candidate, dict):
                break
            content = candidate.get("content")
            parts = content.get("parts") if isinstance(content, dict) else None
            for part in parts if isinstance(parts, list) else []:
                if not isinstance(part, dict):
                    continue
                text = as_text(part.get("text"))
                if text:
                    kind = ChunkKind.REASONING if part.get("thought") is True else ChunkKind.CONTENT
                    items.append(TextDelta(kind, text))
            reason = as_str(candidate.get("finishReason"), 64)
            if reason and reason != "FINISH_REASON_UNSPECIFIED":
                self.finished = True
                items.append(FinishReport(reason))
            break  # only the first candidate is measured
        meta = obj.get("usageMetadata")
        if isinstance(meta, dict):
            items.append(UsageReport(usage_from(meta)))
        feedback = obj.get("promptFeedback")
        if isinstance(feedback, dict) and feedback.get("blockReason") and not obj.get("candidates"):
            reason = as_str(feedback.get("blockReason"), 64) or "unknown reason"
            items.append(StreamFailure(f"prompt blocked: {reason}", "blocked"))
        return items


class GeminiFormat:
    name = "gemini"

    def _headers(self, provider: Provider, api_key: str | None) -> dict[str, str]:
        headers = {"content-type": "application/json"}
        if api_key:
            headers.update(key_header(provider, api_key, "x-goog-api-key"))
        headers.update(provider.headers)
        return headers

    def build_request(self, target: Target, params: ProbeParams, api_key: str | None,
                      prompt: str) -> WireRequest:
        provider = target.provider
        config: dict[str, Any] = {"maxOutputTokens": params.max_tokens}
        if params.temperature is not None:
            config["temperature"] = params.temperature
        if params.top_p is not None:
            config["topP"] = params.top_p
        if params.stop:
            config["stopSequences"] = list(params.stop)
        if params.request_seed is not None:
            config["seed"] = params.request_seed
        if params.json_output:
            config["responseMimeType"] = "application/json"
        body: dict[str, Any] = {
            "contents": [{"role": "user", "parts": [{"text": prompt}]}],
            "generationConfig": config,
        }
        if params.system:
            body["systemInstruction"] = {"parts": [{"text": params.system}]}
        if params.reasoning is True:
            merged_body(body, provider.reasoning_on or {
                "generationConfig": {"thinkingConfig": {"includeThoughts": True}}})
        elif params.reasoning is False:
            merged_body(body, provider.reasoning_off or {
                "generationConfig": {"thinkingConfig": {"thinkingBudget": 0}}})
        merged_body(body, provider.extra_body)
        model = target.model.removeprefix("models/")
        url = join_url(provider.base_url, f"models/{model}:streamGenerateContent?alt=sse")
        generation = body.get("generationConfig")  # extra_body may have replaced it
        limit = generation.get("maxOutputTokens") if isinstance(generation, dict) else None
        return WireRequest("POST", url, self._headers(provider, api_key), body,
                           max_tokens=limit if isinstance(limit, int) else None)

    def new_parser(self) -> GeminiParser:
        return GeminiParser()

    def models_request(self, provider: Provider, api_key: str | None) -> WireRequest:
        return WireRequest("GET", join_url(provider.base_url, "models?pageSize=1000"),
                           self._headers(provider, api_key))

    def parse_models(self, payload: Any) -> list[str]:
        models = payload.get("models") if isinstance(payload, dict) else None
        out = set()
        for m in models or []:
            if not isinstance(m, dict) or not isinstance(m.get("name"), str):
                continue
            methods = m.get("supportedGenerationMethods")
            if methods is None or "generateContent" in methods or "streamGenerateContent" in methods:
                out.add(m["name"].removeprefix("models/"))
        return sorted(out)

    def error_message(self, payload: Any) -> str | None:
        return common_error_message(payload)


FORMAT = GeminiFormat()
