"""How exact is infertui's TTFT, and what does a streamed chunk cost it?

Run: .venv/bin/python bench/bench_probe.py   (needs the `bench` extra: openai)

The simulator runs as a loopback HTTP server in its own process and records,
on CLOCK_MONOTONIC, when each request arrived and when its first content
event was written and drained: the ground truth. Each probe's measurement
error = client TTFT - (server first-content write - server request arrival).

Beside infertui, in the same run and against the same server, the official
`openai` SDK's streaming loop as people usually time it (a timer started
before `create(...)`, stopped at the first content delta), and infertui's
TTFT as it would read if timed from the probe coroutine's start.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import sys
import time
import urllib.request

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from common import machine_notes, median, write_section  # noqa: E402

from infertui.core import metrics  # noqa: E402
from infertui.core.clients import ClientPool  # noqa: E402
from infertui.core.runner import Runner  # noqa: E402
from infertui.core.session import RunSettings  # noqa: E402
from infertui.core.sse import SSEDecoder  # noqa: E402
from infertui.core.targets import Api, ProbeParams, Provider, Target, Timeouts  # noqa: E402
from infertui.core.wire import wire_format  # noqa: E402

TTFT_MS = 250.0
EXACT = {"ttft_ms": TTFT_MS, "ttft_sigma": 0.0, "prefill_ms_per_ktok": 0.0, "tokens_per_s": 50.0,
         "rate_sigma": 0.0, "gap_sigma": 0.0, "answer_tokens": 40, "answer_sigma": 0.0}
# One-token chunks at a steady 2,000 per second per stream: each socket read
# carries about one event, as in real streaming (a flood as fast as the server
# can write would batch several events per read and flatter the figure).
FLOOD_RATE = 2000.0
FLOOD = {"ttft_ms": 0.0, "ttft_sigma": 0.0, "prefill_ms_per_ktok": 0.0, "tokens_per_s": FLOOD_RATE,
         "rate_sigma": 0.0, "gap_sigma": 0.0, "answer_tokens": 4000, "answer_sigma": 0.0,
         "chunk_tokens_min": 1, "chunk_tokens_max": 1}
LEVELS = [(1, 40), (16, 160), (64, 256)]  # (concurrent streams, total streams)


def serve(port_queue: multiprocessing.Queue) -> None:
    from infertui.core.simulator.server import SimServer

    async def main() -> None:
        server = SimServer(port=0, seed=1, overrides={"fast": EXACT, "multi-token": FLOOD})
        await server.start()
        port_queue.put(server.port)
        await asyncio.Event().wait()

    asyncio.run(main())


def ground_truth(origin: str, request_id: str) -> tuple[int, int] | None:
    """(request arrival, first content write), ns on CLOCK_MONOTONIC."""
    url = f"{origin}/_sim/ground-truth?request_id={request_id}"
    with urllib.request.urlopen(url, timeout=10) as response:
        record = json.load(response)
    first = record.get("first_content_ns")
    if first is None:
        kinds = record.get("event_kinds") or []
        times = record.get("event_ns") or []
        first = next((t for t, k in zip(times, kinds) if k == "content"), None)
    return None if first is None else (record["received_ns"], first)


def truth_ttft_ms(origin: str, request_id: str) -> float | None:
    """The server's own view: first content write - request arrival."""
    truth = ground_truth(origin, request_id)
    return None if truth is None else (truth[1] - truth[0]) / 1e6


def pct(xs: list[float], q: float) -> float:
    return metrics.percentile(xs, q) if xs else float("nan")


async def infertui_level(url: str, origin: str, concurrency: int, total: int) -> dict:
    provider = Provider("bench", Api.OPENAI, url, max_concurrency=concurrency,
                        timeouts=Timeouts(total=120))
    runner = Runner([Target(provider, "fast")], ProbeParams("hello", max_tokens=64),
                    RunSettings(repeat=total, concurrency=concurrency))
    session = await runner.run()
    errors, clock_errors, naive, saturated = [], [], [], 0
    for p in session.probes:
        ttft = metrics.ttft_ms(p)
        truth = ground_truth(origin, p.request_id) if p.request_id else None
        if ttft is None or truth is None:
            continue
        received, first_write = truth
        errors.append(ttft - (first_write - received) / 1e6)
        # On the one clock: the first token left the server at first_write;
        # infertui's TTFT says it arrived at sent + ttft.
        clock_errors.append(ttft - (first_write - p.sent_clock_ns) / 1e6)
        # The same probe timed from its own start (slot acquired): what a
        # stopwatch around the coroutine would report.
        naive.append(ttft + p.pre_send_ns / 1e6 - (first_write - received) / 1e6)
        saturated += p.client_saturated
    return {"errors": errors, "clock": clock_errors, "naive": naive, "saturated": saturated,
            "n": len(session.probes)}


async def sdk_level(url: str, origin: str, concurrency: int, total: int) -> dict:
    import httpx
    from openai import AsyncOpenAI

    client = AsyncOpenAI(base_url=url, api_key="bench", max_retries=0,
                         http_client=httpx.AsyncClient(limits=httpx.Limits(max_connections=concurrency)))
    errors: list[float] = []
    sem = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with sem:
            t0 = time.perf_counter_ns()
            stream = await client.chat.completions.create(
                model="fast", messages=[{"role": "user", "content": "hello"}], stream=True, max_tokens=64)
            first = None
            async for chunk in stream:
                if first is None and chunk.choices and chunk.choices[0].delta.content:
                    first = time.perf_counter_ns()
            request_id = stream.response.headers.get("x-request-id")
            truth = truth_ttft_ms(origin, request_id) if request_id else None
            if first is not None and truth is not None:
                errors.append((first - t0) / 1e6 - truth)

    await asyncio.gather(*(one() for _ in range(total)))
    await client.close()
    return {"errors": errors}


async def cpu_per_chunk_infertui(url: str, streams: int) -> tuple[float, int]:
    provider = Provider("bench", Api.OPENAI, url, max_concurrency=streams, timeouts=Timeouts(total=300))
    runner = Runner([Target(provider, "multi-token")], ProbeParams("hello", max_tokens=4000),
                    RunSettings(repeat=streams, concurrency=streams), clients=ClientPool(), monitor_loop=False)
    cpu0 = time.process_time()
    session = await runner.run()
    cpu = time.process_time() - cpu0
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


async def main() -> None:
    ctx = multiprocessing.get_context("spawn")
    ports: multiprocessing.Queue = ctx.Queue()
    server = ctx.Process(target=serve, args=(ports,), daemon=True)
    server.start()
    try:
        port = ports.get(timeout=30)
        origin = f"http://127.0.0.1:{port}"
        url = f"{origin}/v1"
        rows = []
        for concurrency, total in LEVELS:
            mine = await infertui_level(url, origin, concurrency, total)
            sdk = await sdk_level(url, origin, concurrency, total)
            rows.append((concurrency, total, mine, sdk))
            print(f"c={concurrency}: infertui same-clock p50 {median(mine['clock']):.2f} p99 "
                  f"{pct(mine['clock'], 99):.2f}; server-view p50 {median(mine['errors']):.2f} |p99| "
                  f"{pct([abs(x) for x in mine['errors']], 99):.2f} ms; sdk p50 {median(sdk['errors']):.2f} "
                  f"|p99| {pct([abs(x) for x in sdk['errors']], 99):.2f} ms", file=sys.stderr)
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
        "## Probe engine: TTFT measurement error and CPU per chunk",
        "",
        "Command: `.venv/bin/python bench/bench_probe.py` (part of `bench/run`).",
        f"Machine: {machine_notes()}.",
        "",
        f"The simulator serves from its own process on 127.0.0.1; every stream's first content "
        f"event leaves {TTFT_MS:.0f} ms after its request arrived, then 50 one-token chunks/s. "
        "*infertui* times from the request's send (httpx trace); *from coroutine start* is the "
        "same infertui probe timed from the moment it got its concurrency slot; *openai SDK* is "
        "`AsyncOpenAI().chat.completions.create(stream=True)` timed from before the call to the "
        "first content delta.",
        "",
        "Two errors per probe, in ms. *Same clock*: infertui's TTFT minus (the server's first-content "
        "write − infertui's request-sent stamp), i.e. how late infertui stamped the token's arrival. "
        "*Server view*: TTFT minus (first-content write − request arrival as the server's loop read it); "
        "the server reads late when its own loop is busy, which shows as negative errors, and it is the "
        "only view available for the SDK, which has no send stamp.",
        "",
        "| concurrent streams | streams | infertui same clock p50 | same clock p99 | same clock max "
        "| infertui server view p50 | server view \\|error\\| p99 | from coroutine start p99 "
        "| openai SDK server view p50 | SDK \\|error\\| p99 | SDK/infertui \\|error\\| p99 "
        "| probes flagged client-saturated |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for concurrency, total, mine, sdk in rows:
        e, c, s = mine["errors"], mine["clock"], sdk["errors"]
        abs_e, abs_s = [abs(x) for x in e], [abs(x) for x in s]
        ratio = pct(abs_s, 99) / pct(abs_e, 99) if e and pct(abs_e, 99) > 0 else float("nan")
        lines.append(
            f"| {concurrency} | {len(e)} | {median(c):.2f} | {pct(c, 99):.2f} | {max(c):.2f} | "
            f"{median(e):.2f} | {pct(abs_e, 99):.2f} | {pct(mine['naive'], 99):.2f} | "
            f"{median(s):.2f} | {pct(abs_s, 99):.2f} | {ratio:.1f}× | {mine['saturated']} |")
    lines += [
        "",
        "Targets: p99 ≤ 2 ms at 1 stream, ≤ 5 ms at 64 streams.",
        "",
        "| client CPU per streamed chunk (median of 3 alternating runs) | µs/chunk | chunks per run | chunks/s per core |",
        "| --- | ---: | ---: | ---: |",
        f"| infertui (httpx + SSE decoder + parser + timeline), 8 streams × 4,000 one-token chunks at "
        f"{FLOOD_RATE:,.0f}/s each | {cpu_mine:.1f} | {n_mine} | {1e6 / cpu_mine:,.0f} |",
        f"| openai SDK streaming loop, same server | {cpu_sdk:.1f} | {n_sdk} | {1e6 / cpu_sdk:,.0f} |",
        f"| ratio SDK / infertui | {cpu_sdk / cpu_mine:.2f}× | | |",
        f"| SSE decoder + OpenAI parser alone (4 KiB reads) | {1e6 / parse_rate:.1f} | 20000 | {parse_rate:,.0f} |",
        "",
        "Target: ≥ 30,000 chunks/s parsed per core.",
    ]
    write_section("bench_probe", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    asyncio.run(main())
