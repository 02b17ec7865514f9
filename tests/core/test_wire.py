import json

import pytest

from infertui.core.result import ChunkKind
from infertui.core.sse import SSEDecoder, SSEEvent
from infertui.core.targets import Api, ProbeParams, Provider, Target
from infertui.core.wire import wire_format
from infertui.core.wire.base import (
    FinishReport,
    MetaReport,
    ProtocolError,
    StreamDone,
    StreamFailure,
    TextDelta,
    UsageReport,
)
from tests.core.streams import ANTHROPIC_STREAM, GEMINI_STREAM, OPENAI_STREAM


def parse(api: Api, stream: bytes):
    decoder = SSEDecoder()
    parser = wire_format(api).new_parser()
    items = []
    for event in decoder.feed(stream) + decoder.close():
        items.extend(parser.feed(event))
    return parser, items


def texts(items, kind):
    return "".join(i.text for i in items if isinstance(i, TextDelta) and i.kind is kind)


def last_usage(items):
    from infertui.core.result import Usage
    usage = Usage()
    for i in items:
        if isinstance(i, UsageReport):
            usage.merge(i.usage)
    return usage


def test_openai_stream():
    parser, items = parse(Api.OPENAI, OPENAI_STREAM)
    assert parser.finished
    # The role-only chunk with content "" yields no token.
    deltas = [i for i in items if isinstance(i, TextDelta)]
    assert [d.text for d in deltas] == ["Think ", "more.", "Hello", " wörld, café"]
    assert texts(items, ChunkKind.REASONING) == "Think more."
    assert texts(items, ChunkKind.CONTENT) == "Hello wörld, café"
    assert [i.reason for i in items if isinstance(i, FinishReport)] == ["stop"]
    usage = last_usage(items)
    assert (usage.input_tokens, usage.output_tokens, usage.reasoning_tokens, usage.cached_tokens) == (12, 9, 3, 4)
    meta = next(i for i in items if isinstance(i, MetaReport))
    assert (meta.server_model, meta.system_fingerprint, meta.response_id) == ("llama-3.3-70b", "fp_1", "chatcmpl-1")
    assert isinstance(items[-1], StreamDone)


def test_openai_usage_on_finish_chunk_and_groq():
    p = wire_format(Api.OPENAI).new_parser()
    items = p.feed(SSEEvent(json.dumps({"choices": [{"delta": {"content": "x"}, "finish_reason": "length"}],
                                        "usage": {"prompt_tokens": 3, "completion_tokens": 5}})))
    assert last_usage(items).output_tokens == 5 and p.finished
    items = wire_format(Api.OPENAI).new_parser().feed(SSEEvent(json.dumps(
        {"choices": [], "x_groq": {"usage": {"prompt_tokens": 2, "completion_tokens": 40}}})))
    assert last_usage(items).output_tokens == 40


@pytest.mark.parametrize("payload,message", [
    ({"error": {"message": "Upstream rate limited", "code": 429}}, "Upstream rate limited"),
    ({"object": "error", "message": "vLLM says no", "type": "BadRequestError", "code": 400}, "vLLM says no"),
])
def test_openai_in_stream_errors(payload, message):
    items = wire_format(Api.OPENAI).new_parser().feed(SSEEvent(json.dumps(payload)))
    assert len(items) == 1 and isinstance(items[0], StreamFailure)
    assert items[0].message == message


def test_openai_garbage_is_a_protocol_error():
    with pytest.raises(ProtocolError):
        wire_format(Api.OPENAI).new_parser().feed(SSEEvent("{not json"))


def test_anthropic_stream_cumulative_usage():
    parser, items = parse(Api.ANTHROPIC, ANTHROPIC_STREAM)
    assert parser.finished
    assert texts(items, ChunkKind.REASONING) == "Let me see."
    assert texts(items, ChunkKind.CONTENT) == "Hi there"
    usage = last_usage(items)
    # message_delta usage is cumulative: the last value, never a sum (7+15).
    assert usage.output_tokens == 15
    # input_tokens are all prompt tokens, as OpenAI and Gemini count them:
    # Anthropic's uncached 25 plus 5 read from its cache.
    assert usage.input_tokens == 30 and usage.cached_tokens == 5
    assert [i.reason for i in items if isinstance(i, FinishReport)] == ["end_turn"]


def test_anthropic_error_event_and_zero_input_from_gateway():
    p = wire_format(Api.ANTHROPIC).new_parser()
    start = p.feed(SSEEvent('{"type":"message_start","message":{"id":"m","model":"c",'
                            '"usage":{"input_tokens":0,"output_tokens":1}}}'))
    assert last_usage(start).input_tokens is None  # 0 at start is not trusted
    assert last_usage(start).output_tokens is None  # a placeholder, not a count
    later = p.feed(SSEEvent('{"type":"message_delta","delta":{},"usage":{"input_tokens":31,"output_tokens":2}}'))
    assert last_usage(later).input_tokens == 31
    err = p.feed(SSEEvent('{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}', event="error"))
    assert isinstance(err[0], StreamFailure) and err[0].message == "Overloaded" and err[0].code == "overloaded_error"
    assert not p.finished


def test_gemini_stream():
    parser, items = parse(Api.GEMINI, GEMINI_STREAM)
    assert parser.finished
    assert texts(items, ChunkKind.REASONING) == "Pondering"
    assert texts(items, ChunkKind.CONTENT) == "Bonjour"
    usage = last_usage(items)
    assert (usage.input_tokens, usage.output_tokens, usage.reasoning_tokens, usage.cached_tokens) == (8, 5, 3, 2)
    assert [i.reason for i in items if isinstance(i, FinishReport)] == ["STOP"]


def test_gemini_without_finish_is_not_finished():
    parser, _ = parse(Api.GEMINI, GEMINI_STREAM.rsplit(b"data:", 1)[0])
    assert not parser.finished


def _target(api: Api, **kw) -> Target:
    return Target(Provider(name="p", api=api, base_url="https://example.test/v1", api_key_env="K", **kw), "m/x")


def test_openai_request_shape():
    req = wire_format(Api.OPENAI).build_request(
        _target(Api.OPENAI, extra_body={"top_p": 0.5}, reasoning_off={"reasoning": {"enabled": False}}),
        ProbeParams("hi", max_tokens=64, temperature=0.0, reasoning=False, system="sys"), "secret", "hi")
    assert req.url == "https://example.test/v1/chat/completions"
    assert req.headers["authorization"] == "Bearer secret"
    assert req.body["stream_options"] == {"include_usage": True}
    assert req.body["max_tokens"] == 64 and req.body["temperature"] == 0.0 and req.body["top_p"] == 0.5
    assert req.body["reasoning"] == {"enabled": False}
    assert req.body["messages"][0] == {"role": "system", "content": "sys"}


def test_anthropic_and_gemini_request_shapes():
    a = wire_format(Api.ANTHROPIC).build_request(_target(Api.ANTHROPIC), ProbeParams("hi", 100, reasoning=True),
                                                 "k", "hi")
    assert a.url.endswith("/v1/messages") and a.headers["x-api-key"] == "k"
    assert a.headers["anthropic-version"] == "2023-06-01"
    assert a.body["thinking"]["type"] == "enabled" and a.body["max_tokens"] > a.body["thinking"]["budget_tokens"]
    g = wire_format(Api.GEMINI).build_request(_target(Api.GEMINI), ProbeParams("hi", 50, reasoning=False), "k", "hi")
    assert g.url == "https://example.test/v1/models/m/x:streamGenerateContent?alt=sse"
    assert g.headers["x-goog-api-key"] == "k"
    assert g.body["generationConfig"] == {"maxOutputTokens": 50, "thinkingConfig": {"thinkingBudget": 0}}


def test_model_lists():
    assert wire_format(Api.OPENAI).parse_models({"data": [{"id": "b"}, {"id": "a"}]}) == ["a", "b"]
    assert wire_format(Api.GEMINI).parse_models({"models": [
        {"name": "models/gemini-x", "supportedGenerationMethods": ["generateContent"]},
        {"name": "models/embed", "supportedGenerationMethods": ["embedContent"]}]}) == ["gemini-x"]
