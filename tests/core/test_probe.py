import asyncio
import socket

import httpx
import pytest

from infertui.core import metrics
from infertui.core.events import ProbeChunk, ProbeFinished, ProbeHeaders, ProbeSent
from infertui.core.probe import run_probe
from infertui.core.result import ErrorKind, Status
from infertui.core.targets import Api, ProbeParams, Provider, Target, Timeouts
from tests.core.streams import ANTHROPIC_STREAM, GEMINI_STREAM, OPENAI_STREAM
from tests.fakes import Script, ScriptedTransport, sse_parts

PARAMS = ProbeParams("Say hello", max_tokens=32)


def target(api=Api.OPENAI, key_env=None, timeouts=None, base_url="http://fake.test/v1"):
    return Target(Provider(name="fake", api=api, base_url=base_url, api_key_env=key_env,
                           timeouts=timeouts or Timeouts()), "some/model")


async def probe(script: Script | None = None, *, tgt=None, environ=None, transport=None):
    events = []
    transport = transport or ScriptedTransport(script)
    async with httpx.AsyncClient(transport=transport) as client:
        result = await run_probe(client, tgt or target(), PARAMS, probe_id="p1",
                                 emit=events.append, environ=environ or {})
    return result, events


@pytest.mark.parametrize("api,stream,text,reasoning,out_tokens", [
    (Api.OPENAI, OPENAI_STREAM, "Hello wörld, café", "Think more.", 9),
    (Api.ANTHROPIC, ANTHROPIC_STREAM, "Hi there", "Let me see.", 15),
    (Api.GEMINI, GEMINI_STREAM, "Bonjour", "Pondering", 5),
])
async def test_ok_probe_in_each_format(api, stream, text, reasoning, out_tokens):
    result, events = await probe(Script(parts=sse_parts(stream, 0.005)), tgt=target(api))
    assert result.status is Status.OK, result.error
    assert result.text == text and result.reasoning_text == reasoning
    assert result.usage.output_tokens == out_tokens
    assert metrics.output_tokens(result) == (out_tokens, "usage")
    assert result.sent_source == "trace"
    # Reasoning came first; ttft (visible content) is later than ttft_any.
    assert metrics.ttft_any_ms(result) < metrics.ttft_ms(result)
    assert result.event_count >= 3
    kinds = [type(e) for e in events]
    assert kinds[0] is ProbeSent and kinds[1] is ProbeHeaders and kinds[-1] is ProbeFinished
    assert "".join(e.text for e in events if isinstance(e, ProbeChunk) and e.kind == "content") == text


async def test_probe_sent_is_announced_before_the_headers_arrive():
    events = []
    transport = ScriptedTransport(Script(headers_delay=0.2, parts=sse_parts(OPENAI_STREAM)))
    async with httpx.AsyncClient(transport=transport) as client:
        task = asyncio.create_task(run_probe(client, target(), PARAMS, probe_id="p", emit=events.append))
        await asyncio.sleep(0.1)
        assert [type(e) for e in events] == [ProbeSent]
        result = await task
    assert result.status is Status.OK and [type(e) for e in events].count(ProbeSent) == 1


async def test_ttft_counts_from_send_and_skips_role_only_chunks():
    role = b'data: {"choices":[{"delta":{"role":"assistant","content":""}}]}\n\n'
    tok = b'data: {"choices":[{"delta":{"content":"A"}}]}\n\n'
    fin = b'data: {"choices":[{"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'
    script = Script(parts=[(0.0, role), (0.120, tok), (0.030, fin)])
    result, _ = await probe(script)
    assert result.status is Status.OK
    ttft = metrics.ttft_ms(result)
    # 120 ms of sleep between the role chunk and the first token; asyncio's
    # timer resolution and a busy CI machine allow some slack upward only.
    assert 118 <= ttft <= 170, ttft
    assert result.first_byte_ns < result.first_content_ns
    assert metrics.output_tokens(result) == (1, "estimate")
    assert metrics.decode_tps(result) is None  # one token: no decode interval


async def test_multi_token_chunks_do_not_break_tps():
    # 4 chunks of 10 tokens, 100 ms apart; usage says 40 tokens.
    parts = [(0.01, b'data: {"choices":[{"delta":{"content":"aaaa bbbb "}}]}\n\n')]
    parts += [(0.1, b'data: {"choices":[{"delta":{"content":"cccc dddd "}}]}\n\n')] * 3
    parts += [(0.0, b'data: {"choices":[{"delta":{},"finish_reason":"stop"}],'
                    b'"usage":{"prompt_tokens":1,"completion_tokens":40}}\n\ndata: [DONE]\n\n')]
    result, _ = await probe(Script(parts=parts))
    tps = metrics.decode_tps(result)
    # 39 tokens over ~300 ms = ~130 tok/s; counting chunks would give ~10.
    assert 100 <= tps <= 135, tps
    assert len(result.chunks) == 4


@pytest.mark.parametrize("status,kind", [
    (401, ErrorKind.AUTH), (403, ErrorKind.AUTH), (404, ErrorKind.NOT_FOUND),
    (400, ErrorKind.BAD_REQUEST), (422, ErrorKind.BAD_REQUEST),
    (500, ErrorKind.SERVER_ERROR), (503, ErrorKind.SERVER_ERROR),
])
async def test_http_errors_are_data(status, kind):
    body = b'{"error": {"message": "the provider said no", "type": "x"}}'
    result, events = await probe(Script(status=status, headers={"content-type": "application/json"},
                                        parts=[(0, body)]))
    assert result.status is Status.ERROR
    assert result.error.kind is kind and result.error.http_status == status
    assert result.error.message == "the provider said no"
    assert isinstance(events[-1], ProbeFinished)


async def test_rate_limit_keeps_retry_after():
    result, _ = await probe(Script(status=429, headers={"retry-after": "7"}, parts=[(0, b"slow down")]))
    assert result.error.kind is ErrorKind.RATE_LIMITED
    assert result.error.retry_after == 7.0 and result.error.message == "slow down"


async def test_in_stream_error_under_200():
    parts = [(0, b'data: {"choices":[{"delta":{"content":"Hi"}}]}\n\n'),
             (0, b'data: {"error":{"message":"upstream overloaded","code":502}}\n\n')]
    result, _ = await probe(Script(parts=parts))
    assert result.status is Status.ERROR and result.error.kind is ErrorKind.PROVIDER_ERROR
    assert "upstream overloaded" in result.error.message and result.http_status == 200
    assert result.text == "Hi"  # what arrived is kept


async def test_stream_without_finish_is_truncated():
    parts = [(0, b'data: {"choices":[{"delta":{"content":"Hi"}}]}\n\n')]
    result, _ = await probe(Script(parts=parts))
    assert result.error.kind is ErrorKind.TRUNCATED and result.text == "Hi"
    result, _ = await probe(Script(parts=parts, raise_after=httpx.RemoteProtocolError("peer closed")))
    assert result.error.kind is ErrorKind.TRUNCATED


async def test_undecodable_stream_is_protocol_error():
    result, _ = await probe(Script(parts=[(0, b"data: <html>502 Bad Gateway</html>\n\n")]))
    assert result.error.kind is ErrorKind.PROTOCOL


async def test_stall_and_headers_timeouts():
    fast = Timeouts(connect=1, headers=0.1, stall=0.1, total=5)
    stall = Script(parts=[(0, b'data: {"choices":[{"delta":{"content":"Hi"}}]}\n\n'), (1.0, b"data: [DONE]\n\n")])
    result, _ = await probe(stall, tgt=target(timeouts=fast))
    assert result.error.kind is ErrorKind.TIMEOUT and "stall" in result.error.message
    result, _ = await probe(Script(headers_delay=1.0, parts=[]), tgt=target(timeouts=fast))
    assert result.error.kind is ErrorKind.TIMEOUT and "headers" in result.error.message
    total = Timeouts(connect=1, headers=5, stall=5, total=0.2)
    slow = Script(parts=[(0.08, b'data: {"choices":[{"delta":{"content":"x"}}]}\n\n')] * 10)
    result, _ = await probe(slow, tgt=target(timeouts=total))
    assert result.error.kind is ErrorKind.TIMEOUT and "total" in result.error.message


async def test_connection_refused_on_loopback():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with httpx.AsyncClient() as client:
        result = await run_probe(client, target(base_url=f"http://127.0.0.1:{port}/v1"), PARAMS, probe_id="p")
    assert result.status is Status.ERROR and result.error.kind is ErrorKind.CONNECT
    assert result.sent_source is None and metrics.ttft_ms(result) is None


async def test_missing_key_is_reported_with_the_variable_and_nothing_is_sent():
    transport = ScriptedTransport(Script())
    result, _ = await probe(tgt=target(key_env="FAKE_PROVIDER_KEY"), transport=transport)
    assert result.error.kind is ErrorKind.AUTH and "FAKE_PROVIDER_KEY" in result.error.message
    assert transport.requests == []


async def test_key_is_sent_but_never_echoed():
    secret = "sk-test-0123456789abcdef"
    body = f'{{"error": {{"message": "Incorrect API key provided: {secret}"}}}}'.encode()
    transport = ScriptedTransport(Script(status=401, parts=[(0, body)]))
    result, _ = await probe(tgt=target(key_env="FAKE_KEY"), environ={"FAKE_KEY": secret}, transport=transport)
    assert transport.requests[0].headers["authorization"] == f"Bearer {secret}"
    assert secret not in result.error.message and "***" in result.error.message


async def test_cancel_mid_stream_records_cancelled():
    events = []
    first_chunk = asyncio.Event()

    def emit(event) -> None:
        events.append(event)
        if isinstance(event, ProbeChunk):
            first_chunk.set()

    parts = [(0, b'data: {"choices":[{"delta":{"content":"Hi"}}]}\n\n'), (10, b"data: [DONE]\n\n")]
    async with httpx.AsyncClient(transport=ScriptedTransport(Script(parts=parts))) as client:
        task = asyncio.create_task(run_probe(client, target(), PARAMS, probe_id="p", emit=emit))
        await asyncio.wait_for(first_chunk.wait(), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    finished = [e for e in events if isinstance(e, ProbeFinished)]
    assert len(finished) == 1
    assert finished[0].result.status is Status.CANCELLED and finished[0].result.text == "Hi"


async def test_an_unexpected_exception_in_the_transport_is_a_result():
    class Exploding(ScriptedTransport):
        async def handle_async_request(self, request):
            raise RuntimeError("library bug")

    result, events = await probe(transport=Exploding())
    assert result.status is Status.ERROR and result.error.kind is ErrorKind.PROTOCOL
    assert "RuntimeError: library bug" in result.error.message
    assert isinstance(events[-1], ProbeFinished)


async def test_sent_at_is_when_the_request_went_out_not_when_headers_came():
    """`sent_at` (wall clock, kept and exported) is the send stamp's instant;
    a server that holds its headers back 0.3 s does not move it."""
    from datetime import UTC, datetime

    before = datetime.now(UTC).timestamp()
    result, _ = await probe(Script(headers_delay=0.3, parts=sse_parts(OPENAI_STREAM)))
    sent = datetime.fromisoformat(result.sent_at.replace("Z", "+00:00")).timestamp()
    assert result.headers_ns >= 290_000_000
    assert before - 0.001 <= sent < before + 0.1, (before, sent)
