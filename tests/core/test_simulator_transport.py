"""The simulator in-process, behind an httpx transport: timing, formats, errors."""

from __future__ import annotations

import time

import httpx
import pytest

from infertui.core.clock import ManualClock
from infertui.core.simulator import SimTransport, builtin_providers, sim_models
from infertui.core.targets import Api, ProbeParams, Provider, Target
from infertui.core.wire import wire_format
from tests.core.test_simulator_helpers import FINISH_NAMES, count_tokens, decode

PROVIDERS = {p.api: p for p in builtin_providers()}
STEADY = {"ttft_ms": 50, "ttft_sigma": 0, "prefill_ms_per_ktok": 0, "tokens_per_s": 400,
          "gap_sigma": 0, "rate_sigma": 0}
NO_FAILURES = {"p_429": 0, "p_500": 0, "p_stream_error": 0, "p_truncate": 0, "p_disconnect": 0}


class Exchange:
    def __init__(self) -> None:
        self.status = 0
        self.headers: httpx.Headers = httpx.Headers()
        self.chunks: list[bytes] = []
        self.chunk_ns: list[int] = []
        self.sent_ns: int | None = None
        self.body = b""

    async def trace(self, name: str, info: dict) -> None:
        if name.endswith("send_request_body.complete"):
            self.sent_ns = time.perf_counter_ns()


async def exchange(transport: httpx.AsyncBaseTransport, provider: Provider, model: str,
                   max_tokens: int = 64, reasoning: bool | None = None) -> Exchange:
    fmt = wire_format(provider.api)
    request = fmt.build_request(Target(provider, model), ProbeParams("Hi there", max_tokens=max_tokens,
                                                                     reasoning=reasoning), None, "Hi there")
    out = Exchange()
    async with (httpx.AsyncClient(transport=transport) as client,
                client.stream(request.method, request.url, headers=request.headers, json=request.body,
                              extensions={"trace": out.trace}) as response):
        out.status, out.headers = response.status_code, response.headers
        async for chunk in response.aiter_raw():
            out.chunk_ns.append(time.perf_counter_ns())
            out.chunks.append(chunk)
    out.body = b"".join(out.chunks)
    return out


@pytest.mark.parametrize("api", [Api.OPENAI, Api.ANTHROPIC, Api.GEMINI])
async def test_each_builtin_provider_streams_its_format(api):
    transport = SimTransport(seed=3, time_scale=0)
    provider = PROVIDERS[api]
    got = await exchange(transport, provider, "reasoning", max_tokens=400)
    assert got.status == 200
    assert got.headers["content-type"].startswith("text/event-stream")
    decoded = decode(api, got.chunks)
    assert decoded.finished and decoded.text and decoded.reasoning
    truth = transport.ground_truth[got.headers["x-sim-request-id"]]
    assert ((truth.provider, truth.model, truth.api, truth.profile)
            == (provider.name, "reasoning", api.value, "reasoning"))
    assert decoded.usage.output_tokens == truth.output_tokens == sum(truth.event_tokens)
    assert decoded.finish == FINISH_NAMES[api][truth.finish_reason]
    assert truth.complete and truth.event_kinds[0] == "reasoning" and truth.event_kinds[-1] == "content"
    # Each step was a body chunk of its own.
    assert sum(1 for n in decoded.deltas_per_chunk if n == 1) == len(truth.event_ns)
    assert max(decoded.deltas_per_chunk) == 1


@pytest.mark.parametrize("api", [Api.OPENAI, Api.ANTHROPIC, Api.GEMINI])
async def test_reasoning_switch_reaches_the_simulator(api):
    transport = SimTransport(seed=3, time_scale=0)
    provider = PROVIDERS[api]
    default = decode(api, (await exchange(transport, provider, "demo-reasoner", max_tokens=900)).chunks)
    off = decode(api, (await exchange(transport, provider, "demo-reasoner", max_tokens=900,
                                      reasoning=False)).chunks)
    on = decode(api, (await exchange(transport, provider, "demo-reasoner", max_tokens=900,
                                     reasoning=True)).chunks)
    assert off.text and not off.reasoning
    assert on.text and on.reasoning
    # sim-gamma's reasoner thinks unseen unless the thoughts are asked for.
    assert bool(default.reasoning) is (api is not Api.GEMINI)
    assert default.usage.output_tokens > off.usage.output_tokens


async def test_same_seed_replays_the_same_session():
    async def session(seed: int) -> list[tuple]:
        transport = SimTransport(seed=seed, time_scale=0)
        out = []
        for api in (Api.OPENAI, Api.ANTHROPIC, Api.GEMINI):
            for model in ("demo-70b", "demo-8b", "jittery"):
                try:
                    got = await exchange(transport, PROVIDERS[api], model, max_tokens=40)
                except httpx.RemoteProtocolError:
                    out.append(("dropped",))
                    continue
                decoded = decode(api, got.chunks)
                out.append((got.status, got.headers.get("x-sim-request-id"), decoded.text,
                            decoded.usage.output_tokens, len(got.chunks)))
        return out

    first, again, other = await session(11), await session(11), await session(12)
    assert first == again
    assert [x[2] for x in first if len(x) > 2] != [x[2] for x in other if len(x) > 2]


async def test_request_id_headers_match_the_format():
    transport = SimTransport(seed=1, time_scale=0)
    openai = await exchange(transport, PROVIDERS[Api.OPENAI], "fast")
    anthropic = await exchange(transport, PROVIDERS[Api.ANTHROPIC], "fast")
    assert openai.headers["x-request-id"].startswith("req_")
    assert anthropic.headers["request-id"].startswith("req_")
    for got, header in ((openai, "x-request-id"), (anthropic, "request-id")):
        record = transport.ground_truth[got.headers[header]]
        assert record.request_id == got.headers["x-sim-request-id"]
    assert len(transport.ground_truth) == 2


async def test_first_token_time_is_real_and_matches_ground_truth():
    transport = SimTransport(seed=5, overrides={"fast": STEADY})
    got = await exchange(transport, PROVIDERS[Api.OPENAI], "fast", max_tokens=5)
    truth = transport.ground_truth[got.headers["x-sim-request-id"]]
    # Chunk 0 is the role-only preamble, sent at once; chunk 1 the first token.
    assert got.chunks[0].count(b'"role":"assistant"') == 1 and b'"content":""' in got.chunks[0]
    client_ttft_ms = (got.chunk_ns[1] - got.sent_ns) / 1e6
    assert 49.0 <= client_ttft_ms < 80.0
    assert truth.planned_ttft_ns == 50_000_000
    assert 49.0 <= truth.ttft_ns / 1e6 < 70.0
    # The client's sent mark and first-chunk arrival agree with the server's record.
    assert abs(got.sent_ns - truth.received_ns) < 5_000_000
    assert abs(got.chunk_ns[1] - truth.first_content_ns) < 10_000_000
    # 400 tok/s: a token every 2.5 ms. Each leaves no earlier than planned and
    # not much later (a late wake-up is caught up, not carried forward).
    due_ms = [50 + 2.5 * i for i in range(5)]
    sent_ms = [(t - truth.received_ns) / 1e6 for t in truth.event_ns]
    assert all(due <= sent < due + 20 for due, sent in zip(due_ms, sent_ms, strict=True)), sent_ms


@pytest.mark.parametrize("api", [Api.OPENAI, Api.ANTHROPIC, Api.GEMINI])
async def test_headers_and_first_token_cost_the_same_whatever_the_answer_length(monkeypatch, api):
    # The transport runs on the client's own loop: answering must not stall
    # it for the length of the answer, before the headers or between steps.
    made = count_tokens(monkeypatch)
    long = {"answer_tokens": 20_000, "answer_sigma": 0, **NO_FAILURES}
    transport = SimTransport(seed=1, time_scale=0, overrides={"fast": long})
    provider = PROVIDERS[api]
    for max_tokens in (40, 8000):
        made.n = 0
        built = wire_format(api).build_request(Target(provider, "fast"), ProbeParams("Hi", max_tokens=max_tokens),
                                               None, "Hi")
        request = httpx.Request(built.method, built.url, headers=built.headers, json=built.body)
        response = await transport.handle_async_request(request)
        assert response.status_code == 200 and made.n == 0
        body = response.stream.__aiter__()
        record = transport.ground_truth[response.headers["x-sim-request-id"]]
        while not record.event_ns:
            await anext(body)
        assert made.n <= 2  # the first token, and one looked ahead
        await response.aclose()
        assert record.output_tokens == max_tokens and not record.complete


async def test_hidden_reasoning_ground_truth_gets_its_planned_ttft_at_the_first_step():
    steady = {"ttft_sigma": 0, "reasoning_sigma": 0, "prefill_ms_per_ktok": 0}
    transport = SimTransport(seed=3, time_scale=0.01, overrides={"sim-gamma/demo-reasoner": steady})
    got = await exchange(transport, PROVIDERS[Api.GEMINI], "demo-reasoner", max_tokens=600)
    truth = transport.ground_truth[got.headers["x-sim-request-id"]]
    assert truth.event_kinds[0] == "content"
    # 300 ms, then 120 unseen tokens at ~140 tok/s (~0.86 s), times 0.01
    assert 10_000_000 < truth.planned_ttft_ns < 13_500_000
    assert truth.ttft_ns >= truth.planned_ttft_ns - 1_000_000


async def test_time_scale_zero_never_sleeps_but_still_streams_step_by_step():
    transport = SimTransport(seed=2, time_scale=0)
    started = time.perf_counter()
    got = await exchange(transport, PROVIDERS[Api.ANTHROPIC], "slow-ttft", max_tokens=50)
    assert time.perf_counter() - started < 0.5  # the plan says ~1.5 s before the first token
    truth = transport.ground_truth[got.headers["request-id"]]
    assert truth.planned_ttft_ns == 0
    assert len(got.chunks) >= len(truth.event_ns) == 50


async def test_time_scale_shrinks_delays():
    transport = SimTransport(seed=2, time_scale=0.02)
    got = await exchange(transport, PROVIDERS[Api.GEMINI], "slow-ttft", max_tokens=3)
    truth = transport.ground_truth[got.headers["x-sim-request-id"]]
    assert 10e6 < truth.planned_ttft_ns < 80e6  # ~1.5 s x 0.02
    assert truth.ttft_ns >= truth.planned_ttft_ns - 1_000_000


async def test_flaky_model_returns_429_with_retry_after_and_500():
    transport = SimTransport(seed=4, time_scale=0)
    statuses: dict[int, list[Exchange]] = {}
    for _ in range(60):
        try:
            got = await exchange(transport, PROVIDERS[Api.OPENAI], "flaky", max_tokens=8)
        except httpx.RemoteProtocolError:
            continue  # one of flaky's dropped connections
        statuses.setdefault(got.status, []).append(got)
    assert {200, 429, 500} <= set(statuses)
    for limited in statuses[429]:
        assert limited.headers["retry-after"] == "2"
        assert limited.headers["content-type"] == "application/json"
        assert "Rate limit" in wire_format(Api.OPENAI).error_message(httpx.Response(429, content=limited.body).json())
        assert transport.ground_truth[limited.headers["x-request-id"]].http_status == 429
    assert "retry-after" not in statuses[500][0].headers


@pytest.mark.parametrize("api", [Api.OPENAI, Api.ANTHROPIC, Api.GEMINI])
async def test_unknown_model_is_404_in_the_format_error_shape(api):
    got = await exchange(SimTransport(time_scale=0), PROVIDERS[api], "no-such-model")
    assert got.status == 404
    message = wire_format(api).error_message(httpx.Response(404, content=got.body).json())
    assert "no-such-model" in message


@pytest.mark.parametrize("provider", builtin_providers(), ids=lambda p: p.name)
async def test_models_list_in_each_format(provider):
    fmt = wire_format(provider.api)
    request = fmt.models_request(provider, None)
    async with httpx.AsyncClient(transport=SimTransport(time_scale=0)) as client:
        response = await client.request(request.method, request.url, headers=request.headers)
    assert response.status_code == 200
    assert fmt.parse_models(response.json()) == sorted(sim_models(provider.name))
    if provider.api is Api.GEMINI:
        assert response.json()["models"][0]["name"] == "models/demo-70b"


async def test_cold_start_first_request_then_warm_then_cold_after_idle():
    clock = ManualClock(start_ns=1_000_000_000)
    transport = SimTransport(seed=9, clock=clock, time_scale=0)
    provider = PROVIDERS[Api.ANTHROPIC]
    first = await exchange(transport, provider, "cold-start", max_tokens=4)
    clock.advance_ms(5_000)
    second = await exchange(transport, provider, "cold-start", max_tokens=4)
    clock.advance_ms(31_000)
    third = await exchange(transport, provider, "cold-start", max_tokens=4)
    truths = [transport.ground_truth[x.headers["request-id"]] for x in (first, second, third)]
    assert [t.cold for t in truths] == [True, False, True]
    # Another model on the same provider has its own idle state.
    other = await exchange(transport, provider, "demo-70b", max_tokens=4)
    assert transport.ground_truth[other.headers["request-id"]].cold


async def test_cold_start_is_slower_in_real_time():
    transport = SimTransport(seed=9, time_scale=0.05, overrides={"cold-start": {"ttft_sigma": 0}})
    cold = await exchange(transport, PROVIDERS[Api.OPENAI], "cold-start", max_tokens=2)
    warm = await exchange(transport, PROVIDERS[Api.OPENAI], "cold-start", max_tokens=2)
    cold_ms = (cold.chunk_ns[1] - cold.sent_ns) / 1e6
    warm_ms = (warm.chunk_ns[1] - warm.sent_ns) / 1e6
    assert cold_ms > warm_ms + 100  # +3 s x 0.05 = +150 ms


async def test_dropped_connection_raises_like_a_real_transport():
    transport = SimTransport(time_scale=0, overrides={"fast": {"p_disconnect": 1.0}})
    with pytest.raises(httpx.RemoteProtocolError, match="simulated disconnect"):
        await exchange(transport, PROVIDERS[Api.OPENAI], "fast", max_tokens=20)
    (record,) = transport.ground_truth.values()
    assert record.failure == "disconnect" and record.complete and record.end_ns is not None


async def test_client_leaving_early_is_recorded_as_incomplete():
    transport = SimTransport(time_scale=0)
    provider = PROVIDERS[Api.OPENAI]
    request = wire_format(provider.api).build_request(Target(provider, "fast"), ProbeParams("x", max_tokens=50),
                                                      None, "x")
    async with (httpx.AsyncClient(transport=transport) as client,
                client.stream("POST", request.url, json=request.body) as response):
        async for _ in response.aiter_raw():
            break
    (record,) = transport.ground_truth.values()
    assert not record.complete and record.end_ns is not None and len(record.event_ns) <= 1


async def test_bad_requests_are_refused_in_the_format():
    async with httpx.AsyncClient(transport=SimTransport(time_scale=0)) as client:
        no_stream = await client.post("http://sim-alpha.invalid/v1/chat/completions",
                                      json={"model": "fast", "messages": [{"role": "user", "content": "x"}]})
        no_max = await client.post("http://sim-beta.invalid/v1/messages",
                                   json={"model": "fast", "stream": True,
                                         "messages": [{"role": "user", "content": "x"}]})
        no_sse = await client.post("http://sim-gamma.invalid/v1beta/models/fast:streamGenerateContent",
                                   json={"contents": [{"parts": [{"text": "x"}]}]})
        nowhere = await client.get("http://sim-alpha.invalid/v1/completions")
    assert no_stream.status_code == 400 and "stream" in no_stream.json()["error"]["message"]
    assert no_max.status_code == 400 and no_max.json()["error"]["type"] == "invalid_request_error"
    assert no_sse.status_code == 400 and no_sse.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert nowhere.status_code == 404


def test_bad_overrides_fail_at_construction():
    with pytest.raises(ValueError, match="unknown simulator setting 'ttft'"):
        SimTransport(overrides={"fast": {"ttft": 3}})
    with pytest.raises(ValueError, match="time_scale"):
        SimTransport(time_scale=-1)
