"""The clients the timing benchmark compares, each run in a fresh process:

  python bench/timing_clients.py TOOL PORT CONCURRENCY REQUESTS

prints one JSON document: per request its id (the 12 hex digits in the
prompt's `[…]`, which the server logs), the client's TTFT in ms, and the
client's CPU seconds in all.

- infertui: the real Runner (one target, CONCURRENCY lanes), as `infertui
  probe` runs it.
- infertui-thread, infertui-loop: the same with reads stamped by a receiver
  thread, or by the event loop's read callback, instead of the receiver
  process (INFERTUI_RECEIVER).
- lean: the floor for a Python client: asyncio protocols over raw sockets, a
  prebuilt request, the send stamped right before the write, each read
  stamped in its callback, no HTTP or JSON parsing (a byte search for the
  first content event).
- httpx-trace: how infertui timed before its own network backend: httpx's
  default transport, "sent" from the `send_request_body.complete` trace,
  arrivals when the coroutine got the bytes.
- openai-sdk: the official SDK timed around `create(...)` (needs the
  `bench` extra); one unmeasured warm-up call per lane first.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROMPT = "Count slowly."
MAX_TOKENS = 40


def _body(rid: str) -> bytes:
    return json.dumps({"model": "bench", "messages": [{"role": "user", "content": f"[{rid}] {PROMPT}"}],
                       "stream": True, "max_tokens": MAX_TOKENS}).encode()


async def run_infertui(port: int, c: int, n: int) -> list[dict]:
    from infertui.core import metrics
    from infertui.core.runner import Runner
    from infertui.core.session import RunSettings
    from infertui.core.targets import Api, ProbeParams, Provider, Target

    provider = Provider(name="bench", api=Api.OPENAI, base_url=f"http://127.0.0.1:{port}/v1",
                        max_concurrency=c)
    runner = Runner([Target(provider, "bench")], ProbeParams(PROMPT, max_tokens=MAX_TOKENS),
                    RunSettings(repeat=n, concurrency=c, nonce=True))
    session = await runner.run()
    return [{"id": p.nonce, "ttft_ms": metrics.ttft_ms(p), "ok": p.ok,
             "sent_source": p.sent_source, "saturated": p.client_saturated} for p in session.probes]


class _Lean(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.first_ns: int | None = None
        self.done: asyncio.Future[None] | None = None
        self.tail = b""

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter_ns()
        if self.first_ns is None and b'"content"' in data:
            self.first_ns = now
        self.tail = (self.tail + data)[-16:]
        if self.tail.endswith(b"\r\n0\r\n\r\n") and self.done is not None and not self.done.done():
            self.done.set_result(None)

    def connection_lost(self, exc) -> None:
        if self.done is not None and not self.done.done():
            self.done.set_exception(ConnectionError("lost"))


async def run_lean(port: int, c: int, n: int) -> list[dict]:
    loop = asyncio.get_running_loop()
    out: list[dict] = []
    counts = [n // c + (1 if i < n % c else 0) for i in range(c)]

    async def lane(k: int) -> None:
        transport, proto = await loop.create_connection(_Lean, "127.0.0.1", port)
        for _ in range(k):
            rid = os.urandom(6).hex()
            body = _body(rid)
            request = (b"POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\n"
                       b"content-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))
            proto.first_ns, proto.tail = None, b""
            proto.done = loop.create_future()
            sent = time.perf_counter_ns()
            transport.write(request)
            await proto.done
            out.append({"id": rid, "ttft_ms": (proto.first_ns - sent) / 1e6, "ok": True})
        transport.close()

    await asyncio.gather(*(lane(k) for k in counts if k))
    return out


async def run_httpx_trace(port: int, c: int, n: int) -> list[dict]:
    import httpx

    out: list[dict] = []
    counts = [n // c + (1 if i < n % c else 0) for i in range(c)]

    async def lane(k: int) -> None:
        async with httpx.AsyncClient(timeout=60) as client:
            for _ in range(k):
                rid = os.urandom(6).hex()
                marks: dict[str, int] = {}

                async def trace(name: str, info: dict) -> None:
                    if name.endswith("send_request_body.complete"):
                        marks["sent"] = time.perf_counter_ns()

                req = client.build_request("POST", f"http://127.0.0.1:{port}/v1/chat/completions",
                                           content=_body(rid), headers={"content-type": "application/json"},
                                           extensions={"trace": trace})
                resp = await client.send(req, stream=True)
                first = None
                async for part in resp.aiter_bytes():
                    if first is None and b'"content"' in part:
                        first = time.perf_counter_ns()
                await resp.aclose()
                out.append({"id": rid, "ttft_ms": (first - marks["sent"]) / 1e6, "ok": True})

    await asyncio.gather(*(lane(k) for k in counts if k))
    return out


async def run_openai_sdk(port: int, c: int, n: int) -> list[dict]:
    """The official SDK's streaming loop as people time it: a timer started
    before `create(...)`, stopped at the first content delta. Each lane makes
    one call first, not measured (the SDK's lazy imports and first
    connection would otherwise dominate its figures)."""
    import httpx
    from openai import AsyncOpenAI

    client = AsyncOpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="bench", max_retries=0,
                         http_client=httpx.AsyncClient(limits=httpx.Limits(max_connections=c),
                                                       timeout=httpx.Timeout(120.0)))
    out: list[dict] = []
    counts = [n // c + (1 if i < n % c else 0) for i in range(c)]

    async def one(record: bool) -> None:
        rid = os.urandom(6).hex()
        t0 = time.perf_counter_ns()
        stream = await client.chat.completions.create(
            model="bench", messages=[{"role": "user", "content": f"[{rid}] {PROMPT}"}], stream=True,
            max_tokens=MAX_TOKENS)
        first = None
        async for chunk in stream:
            if first is None and chunk.choices and chunk.choices[0].delta.content:
                first = time.perf_counter_ns()
        if record:
            out.append({"id": rid, "ttft_ms": (first - t0) / 1e6, "ok": first is not None})

    async def lane(k: int) -> None:
        await one(False)
        for _ in range(k):
            await one(True)

    await asyncio.gather(*(lane(k) for k in counts if k))
    await client.close()
    return out


def _with_receiver(kind: str):
    async def run(port: int, c: int, n: int) -> list[dict]:
        os.environ["INFERTUI_RECEIVER"] = kind
        return await run_infertui(port, c, n)
    return run


TOOLS = {"infertui": run_infertui, "infertui-thread": _with_receiver("thread"),
         "infertui-loop": _with_receiver("loop"), "lean": run_lean, "httpx-trace": run_httpx_trace,
         "openai-sdk": run_openai_sdk}


def main() -> None:
    tool, port, c, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    cpu0 = time.process_time()
    records = asyncio.run(TOOLS[tool](port, c, n))
    cpu = time.process_time() - cpu0
    if tool.startswith("infertui"):
        from infertui.core.net.receiver import receiver_cpu_seconds  # noqa: PLC0415

        cpu += receiver_cpu_seconds()  # the receiver process works for this client too
    json.dump({"tool": tool, "records": records, "cpu_s": cpu}, sys.stdout)


if __name__ == "__main__":
    main()
