"""What does a streamed chunk cost infertui's client, beside the openai SDK?

Run: .venv/bin/python bench/bench_probe.py [--no-write]   (needs the `bench` extra: openai)

The simulator runs as a loopback HTTP server in its own process, streaming
one-token chunks at a steady rate; the client's CPU time per chunk is
measured for infertui's whole path (network backend, HTTP, SSE decoder,
parser, timeline) and for the openai SDK's streaming loop, alternately, three
times each. How exact the TTFT is under load is bench/bench_timing.py's.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import time

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from common import machine_notes, median, write_section  # noqa: E402

from infertui.core.clients import ClientPool  # noqa: E402
from infertui.core.net.receiver import receiver_cpu_seconds  # noqa: E402
from infertui.core.runner import Runner  # noqa: E402
from infertui.core.session import RunSettings  # noqa: E402
from infertui.core.sse import SSEDecoder  # noqa: E402
from infertui.core.targets import Api, ProbeParams, Provider, Target, Timeouts  # noqa: E402
from infertui.core.wire import wire_format  # noqa: E402

# One-token chunks at a steady 2,000 per second per stream: each socket read
# carries about one event, as in real streaming (a flood as fast as the server
# can write would batch several events per read and flatter the figure).
FLOOD_RATE = 2000.0
FLOOD = {"ttft_ms": 0.0, "ttft_sigma": 0.0, "prefill_ms_per_ktok": 0.0, "tokens_per_s": FLOOD_RATE,
         "rate_sigma": 0.0, "gap_sigma": 0.0, "answer_tokens": 4000, "answer_sigma": 0.0,
         "chunk_tokens_min": 1, "chunk_tokens_max": 1}


def serve(port_queue: multiprocessing.Queue) -> None:
    from infertui.core.simulator.server import SimServer

    async def main() -> None:
        server = SimServer(port=0, seed=1, overrides={"multi-token": FLOOD})
        await server.start()
        port_queue.put(server.port)
        await asyncio.Event().wait()

    asyncio.run(main())


async def cpu_per_chunk_infertui(url: str, streams: int) -> tuple[float, int]:
    provider = Provider("bench", Api.OPENAI, url, max_concurrency=streams, timeouts=Timeouts(total=300))
    runner = Runner([Target(provider, "multi-token")], ProbeParams("hello", max_tokens=4000),
                    RunSettings(repeat=streams, concurrency=streams), clients=ClientPool(), monitor_loop=False)
    cpu0 = time.process_time() + receiver_cpu_seconds()
    session = await runner.run()
    # The receiver process's CPU is the client's too.
    cpu = time.process_time() + receiver_cpu_seconds() - cpu0
    chunks = sum(len(p.chunks) for p in session.probes)
    return cpu * 1e6 / max(1, chunks), chunks


async def cpu_per_chunk_sdk(url: str, streams: int) -> tuple[float, int]:
    from openai import AsyncOpenAI

    client = AsyncOpenAI(base_url=url, api_key="bench", max_retries=0)
    chunks = 0

    async def one() -> None:
        nonlocal chunks
        stream = await client.chat.completions.create(
            model="multi-token", messages=[{"role": "user", "content": "hello"}], stream=True, max_tokens=4000)
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                chunks += 1

    await one()  # warm the SDK's lazy imports outside the measurement
    chunks = 0
    cpu0 = time.process_time()
    await asyncio.gather(*(one() for _ in range(streams)))
    cpu = time.process_time() - cpu0
    await client.close()
    return cpu * 1e6 / max(1, chunks), chunks


def parse_only_rate() -> float:
    """Chunks per CPU second through the SSE decoder and the OpenAI parser
    alone, on bytes split as a socket would deliver them (~4 KiB reads)."""
    event = (b'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m",'
             b'"choices":[{"index":0,"delta":{"content":" word"},"finish_reason":null}]}\n\n')
    blob = event * 20_000
    reads = [blob[i:i + 4096] for i in range(0, len(blob), 4096)]
    rates = []
    for _ in range(5):
        decoder, parser = SSEDecoder(), wire_format(Api.OPENAI).new_parser()
        t0 = time.process_time()
        n = 0
        for raw in reads:
            for ev in decoder.feed(raw):
                n += len(parser.feed(ev))
        rates.append(n / (time.process_time() - t0))
    return median(rates)


async def main(write: bool) -> None:
    ctx = multiprocessing.get_context("spawn")
    ports: multiprocessing.Queue = ctx.Queue()
    server = ctx.Process(target=serve, args=(ports,), daemon=True)
    server.start()
    try:
        port = ports.get(timeout=30)
        origin = f"http://127.0.0.1:{port}"
        url = f"{origin}/v1"
        # Alternate the two, three times each, and keep the medians.
        mine_runs, sdk_runs = [], []
        for _ in range(3):
            mine_runs.append(await cpu_per_chunk_infertui(url, 8))
            sdk_runs.append(await cpu_per_chunk_sdk(url, 8))
        cpu_mine, n_mine = median([c for c, _ in mine_runs]), mine_runs[0][1]
        cpu_sdk, n_sdk = median([c for c, _ in sdk_runs]), sdk_runs[0][1]
        parse_rate = parse_only_rate()
    finally:
        server.terminate()
        server.join(5)

    lines = [
        "## Probe engine: CPU per streamed chunk",
        "",
        "Command: `.venv/bin/python bench/bench_probe.py` (part of `bench/run`).",
        f"Machine: {machine_notes()}.",
        "",
        "The simulator serves from its own process on 127.0.0.1. How exact TTFT is, against a "
        "server's truth and under load, is in the timing section below.",
        "",
        "| client CPU per streamed chunk (median of 3 alternating runs) | µs/chunk | chunks per run | chunks/s per core |",
        "| --- | ---: | ---: | ---: |",
        f"| infertui (receiver process + network backend + httpcore + SSE decoder + parser + timeline), 8 streams × 4,000 one-token chunks at "
        f"{FLOOD_RATE:,.0f}/s each | {cpu_mine:.1f} | {n_mine} | {1e6 / cpu_mine:,.0f} |",
        f"| openai SDK streaming loop, same server | {cpu_sdk:.1f} | {n_sdk} | {1e6 / cpu_sdk:,.0f} |",
        f"| ratio SDK / infertui | {cpu_sdk / cpu_mine:.2f}× | | |",
        f"| SSE decoder + OpenAI parser alone (4 KiB reads) | {1e6 / parse_rate:.1f} | 20000 | {parse_rate:,.0f} |",
        "",
        "Target (applies to the last row): ≥ 30,000 chunks/s parsed per core.",
    ]
    if write:
        write_section("bench_probe", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="CPU per streamed chunk")
    parser.add_argument("--no-write", action="store_true", help="print, do not touch BENCHMARKS.md")
    asyncio.run(main(write=not parser.parse_args().no_write))
