"""The simulator over real loopback sockets, and the `infertui sim` command."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import subprocess
import sys
import time

import httpx
import pytest

from infertui.cli.common import CliError
from infertui.core.simulator import SimServer, builtin_providers, sim_models
from infertui.core.targets import Api, ProbeParams, Provider, Target
from infertui.core.wire import wire_format
from tests.core.test_simulator_helpers import FINISH_NAMES, count_tokens, decode

STEADY = {"ttft_ms": 50, "ttft_sigma": 0, "prefill_ms_per_ktok": 0, "tokens_per_s": 500,
          "gap_sigma": 0, "rate_sigma": 0}


def at(server: SimServer, provider: Provider) -> Provider:
    """A built-in provider pointed at the loopback server."""
    return Provider(name=provider.name, api=provider.api, base_url=server.url_for(provider.name))


async def stream(client: httpx.AsyncClient, provider: Provider, model: str, max_tokens: int = 32):
    fmt = wire_format(provider.api)
    request = fmt.build_request(Target(provider, model), ProbeParams("Hello", max_tokens=max_tokens), None, "Hello")
    sent: list[int] = []

    async def trace(name: str, info: dict) -> None:
        if name.endswith("send_request_body.complete"):
            sent.append(time.perf_counter_ns())

    chunks, arrived = [], []
    async with client.stream(request.method, request.url, headers=request.headers, json=request.body,
                             extensions={"trace": trace}) as response:
        async for chunk in response.aiter_raw():
            arrived.append(time.perf_counter_ns())
            chunks.append(chunk)
    return response, chunks, arrived, sent[0]


@pytest.mark.parametrize("provider", builtin_providers(), ids=lambda p: p.name)
async def test_all_three_formats_over_real_sockets(provider):
    async with SimServer(seed=4, time_scale=0) as server, httpx.AsyncClient() as client:
        assert server.port > 0 and server.url == f"http://127.0.0.1:{server.port}/v1"
        response, chunks, _, _ = await stream(client, at(server, provider), "reasoning", max_tokens=300)
        assert response.status_code == 200
        assert response.headers["transfer-encoding"] == "chunked"
        got = decode(provider.api, chunks)
        truth = server.ground_truth[response.headers["x-sim-request-id"]]
        assert got.finished and got.text and got.reasoning
        assert got.usage.output_tokens == truth.output_tokens == sum(truth.event_tokens)
        assert got.finish == FINISH_NAMES[provider.api][truth.finish_reason]
        assert truth.provider == provider.name and truth.complete


async def test_generic_base_url_serves_profiles_in_any_format():
    async with SimServer(time_scale=0) as server, httpx.AsyncClient() as client:
        for api in Api:
            provider = Provider(name="x", api=api, base_url=server.url)
            response, chunks, _, _ = await stream(client, provider, "multi-token", max_tokens=40)
            assert response.status_code == 200
            assert decode(api, chunks).usage.output_tokens == 40
            assert server.ground_truth[response.headers["x-sim-request-id"]].provider == "sim"


@pytest.mark.parametrize("provider", builtin_providers(), ids=lambda p: p.name)
async def test_models_endpoint_and_unknown_model(provider):
    async with SimServer(time_scale=0) as server, httpx.AsyncClient() as client:
        target = at(server, provider)
        fmt = wire_format(provider.api)
        request = fmt.models_request(target, None)
        listed = await client.request(request.method, request.url, headers=request.headers)
        assert listed.status_code == 200
        assert fmt.parse_models(listed.json()) == sorted(sim_models(provider.name))
        response, chunks, _, _ = await stream(client, target, "gpt-9")
        assert response.status_code == 404
        assert "gpt-9" in fmt.error_message(httpx.Response(404, content=b"".join(chunks)).json())


async def test_first_token_timing_over_sockets_and_ground_truth_endpoint():
    async with SimServer(seed=1, overrides={"fast": STEADY}) as server, httpx.AsyncClient() as client:
        provider = at(server, builtin_providers()[0])
        response, chunks, arrived, sent = await stream(client, provider, "fast", max_tokens=4)
        assert b'"role":"assistant"' in chunks[0]  # the preamble goes out at once
        client_ttft_ms = (arrived[1] - sent) / 1e6
        assert 49.0 <= client_ttft_ms < 85.0
        request_id = response.headers["x-request-id"]
        reply = await client.get(f"{server.origin}/_sim/ground-truth", params={"request_id": request_id})
        assert reply.status_code == 200
        truth = reply.json()
        assert truth["request_id"] == response.headers["x-sim-request-id"]
        assert truth["clock"] == "perf_counter_ns" and truth["planned_ttft_ns"] == 50_000_000
        assert len(truth["event_ns"]) == 4 and truth["event_kinds"] == ["content"] * 4
        assert truth["first_content_ns"] == truth["event_ns"][0]
        assert 49.0 <= truth["ttft_ns"] / 1e6 < 70.0
        # Same clock in both places: the server wrote the token just before it arrived.
        assert 0 <= arrived[1] - truth["first_content_ns"] < 15_000_000
        assert abs(sent - truth["received_ns"]) < 10_000_000
        missing = await client.get(f"{server.origin}/_sim/ground-truth", params={"request_id": "nope"})
        assert missing.status_code == 404
        listing = await client.get(f"{server.origin}/_sim/ground-truth")
        assert listing.json()["request_ids"] == [truth["request_id"]]


async def test_a_long_answer_is_generated_a_step_at_a_time(monkeypatch):
    # One server, many connections: a request must cost the loop little
    # before its first byte and per step, or the others are read late.
    made = count_tokens(monkeypatch)
    slow = {**STEADY, "ttft_ms": 150, "tokens_per_s": 20, "answer_tokens": 20_000, "answer_sigma": 0}
    async with SimServer(seed=2, overrides={"fast": slow}) as server, httpx.AsyncClient() as client:
        provider = at(server, builtin_providers()[0])
        request = wire_format(provider.api).build_request(Target(provider, "fast"),
                                                          ProbeParams("Hello", max_tokens=8000), None, "Hello")
        async with client.stream(request.method, request.url, headers=request.headers,
                                 json=request.body) as response:
            assert made.n <= 2  # during the 150 ms before the first token
            body = response.aiter_raw()
            await anext(body)  # the preamble
            while b'"content":"' not in await anext(body):
                pass
            assert made.n <= 4  # a token every 50 ms: the next one or two, no more
        truth = server.ground_truth[response.headers["x-sim-request-id"]]
        assert truth.output_tokens == 8000 and len(truth.event_ns) <= 3


async def test_keep_alive_reuses_one_connection():
    async with SimServer(time_scale=0) as server, httpx.AsyncClient() as client:
        provider = at(server, builtin_providers()[1])
        for _ in range(3):
            response, _, _, _ = await stream(client, provider, "fast", max_tokens=3)
            assert response.status_code == 200
        await client.get(f"{server.url}/models")
        assert server.connections_accepted == 1
        assert len(server.ground_truth) == 3


async def test_dropped_connection_and_http_errors_over_sockets():
    overrides = {"fast": {"p_disconnect": 1.0}, "flaky": {"p_429": 1.0, "p_500": 0, "p_stream_error": 0,
                                                           "p_truncate": 0, "p_disconnect": 0}}
    async with SimServer(time_scale=0, overrides=overrides) as server, httpx.AsyncClient() as client:
        provider = at(server, builtin_providers()[0])
        with pytest.raises(httpx.RemoteProtocolError):
            await stream(client, provider, "fast", max_tokens=20)
        response, chunks, _, _ = await stream(client, provider, "flaky")
        assert response.status_code == 429 and response.headers["retry-after"] == "2"
        assert b"Rate limit" in b"".join(chunks)


async def test_malformed_request_gets_400():
    async with SimServer(time_scale=0) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"NONSENSE\r\n\r\n")
        await writer.drain()
        reply = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        assert reply.startswith(b"HTTP/1.1 400 ")


async def test_chunked_request_body_and_expect_continue():
    body = b'{"model":"fast","stream":true,"max_tokens":2,"messages":[{"role":"user","content":"hi"}]}'
    async with SimServer(time_scale=0) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                     b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
        await writer.drain()
        assert await reader.readline() == b"HTTP/1.1 100 Continue\r\n"
        assert await reader.readline() == b"\r\n"
        half = len(body) // 2
        writer.write(b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (half, body[:half], len(body) - half, body[half:]))
        await writer.drain()
        reply = await asyncio.wait_for(reader.read(), 5)
        writer.close()
    head, _, payload = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"connection: close" in head and b"transfer-encoding: chunked" in head
    assert payload.endswith(b"0\r\n\r\n") and b"data: [DONE]" in payload


async def test_stop_ends_a_stream_in_flight():
    server = SimServer(time_scale=1.0, overrides={"slow-ttft": {"ttft_ms": 20_000, "ttft_sigma": 0}})
    arrived = asyncio.Event()
    record = server.ground_truth.add

    def record_and_tell(truth) -> None:
        record(truth)
        arrived.set()

    server.ground_truth.add = record_and_tell  # the request has reached the server
    await server.start()
    async with httpx.AsyncClient() as client:
        provider = at(server, builtin_providers()[0])
        pending = asyncio.create_task(stream(client, provider, "slow-ttft"))
        await asyncio.wait_for(arrived.wait(), 5)
        started = time.perf_counter()
        await server.stop()
        with pytest.raises(httpx.HTTPError):
            await asyncio.wait_for(pending, 5)
        assert time.perf_counter() - started < 2


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.com", ""])
def test_refuses_anything_but_loopback(host):
    with pytest.raises(ValueError, match="loopback only"):
        SimServer(host=host)


def test_localhost_binds_127_0_0_1():
    assert SimServer(host="localhost").host == "127.0.0.1"


def test_runs_in_a_thread_for_synchronous_callers():
    with SimServer(time_scale=0).run_in_thread() as running:
        body = {"model": "demo-8b", "stream": True, "max_tokens": 5,
                "messages": [{"role": "user", "content": "hi"}]}
        with httpx.Client() as client:
            response = client.post(f"{running.url_for('sim-beta')}/messages", json=body)
        assert response.status_code == 200
        assert decode(Api.ANTHROPIC, [response.content]).usage.output_tokens == 5
        assert running.ground_truth[response.headers["request-id"]].complete


# The `infertui sim` command ---------------------------------------------------------

def parse(argv: list[str]) -> argparse.Namespace:
    from infertui.cli import sim

    parser = argparse.ArgumentParser(prog="infertui")
    sim.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_cli_defaults_and_bad_input():
    args = parse(["sim"])
    assert (args.port, args.host, args.seed, args.time_scale) == (8765, "127.0.0.1", 0, 1.0)
    for argv, message in ((["sim", "--host", "0.0.0.0"], "loopback only"),
                          (["sim", "--port", "70000"], "--port"),
                          (["sim", "--time-scale", "-1"], "--time-scale")):
        args = parse(argv)
        with pytest.raises(CliError, match=message):
            args.func(args)


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name == "nt", reason="POSIX signals")
def test_cli_serves_until_ctrl_c_and_exits_cleanly():
    code = ("import argparse, sys; from infertui.cli import sim; p = argparse.ArgumentParser(); "
            "sim.register(p.add_subparsers()); a = p.parse_args(sys.argv[1:]); sys.exit(a.func(a))")
    proc = subprocess.Popen([sys.executable, "-c", code, "sim", "--port", "0", "--time-scale", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        banner = [proc.stdout.readline()]
        while banner[-1] and "Ctrl+C" not in banner[-1]:
            banner.append(proc.stdout.readline())
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", banner[0])
        assert match, banner
        assert f"{match.group(1)}/sim-alpha/v1" in "".join(banner)
        origin = match.group(1)
        models = httpx.get(f"{origin}/sim-gamma/v1beta/models?pageSize=1000", timeout=5)
        assert models.status_code == 200 and models.json()["models"][0]["name"] == "models/demo-70b"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert "simulator stopped" in out
