"""A loopback HTTP server that misbehaves on purpose, one way per path.

`http://127.0.0.1:PORT/<scenario>/v1/chat/completions` answers as the
scenario says (see SCENARIOS). It runs in a thread with its own event loop,
so a CLI in a subprocess or a probe in the test's loop can both use it, and it
logs per request when the request was read and when each event was written,
on CLOCK_MONOTONIC (the same clock as infertui's stamps).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import zlib
from dataclasses import dataclass, field
from typing import Awaitable, Callable

KEY = "sk-hostile-Zq8WmV3xLr7TnB2kPy6Hd4Fs"  # what the tests export; never a real key


@dataclass
class Exchange:
    scenario: str
    received_ns: int
    headers: dict[str, str]
    body: bytes
    writes_ns: list[int] = field(default_factory=list)
    first_content_ns: int | None = None


class _Ctx:
    def __init__(self, server: HostileServer, writer: asyncio.StreamWriter, ex: Exchange,
                 nth: int) -> None:
        self.server = server
        self.writer = writer
        self.ex = ex
        self.nth = nth  # 1 for the first request on this connection

    @property
    def key(self) -> str:
        auth = self.ex.headers.get("authorization", "")
        return auth.removeprefix("Bearer ") or self.ex.headers.get("x-api-key", "")

    async def write(self, data: bytes, content: bool = False) -> None:
        # Stamped before the write: no client can see the bytes earlier.
        now = time.perf_counter_ns()
        self.ex.writes_ns.append(now)
        if content and self.ex.first_content_ns is None:
            self.ex.first_content_ns = now
        self.writer.write(data)
        await self.writer.drain()

    async def head(self, status: int = 200, ctype: str = "text/event-stream",
                   extra: str = "", chunked: bool = True, keep_alive: bool = True) -> None:
        lines = [f"HTTP/1.1 {status} X", f"content-type: {ctype}"]
        if chunked:
            lines.append("transfer-encoding: chunked")
        lines.append("connection: keep-alive" if keep_alive else "connection: close")
        head = "\r\n".join(lines) + "\r\n" + extra + "\r\n"
        await self.write(head.encode("latin-1"))

    async def chunk(self, data: bytes, content: bool = False) -> None:
        await self.write(b"%x\r\n%s\r\n" % (len(data), data), content)

    async def end(self) -> None:
        await self.write(b"0\r\n\r\n")

    async def event(self, obj: dict, content: bool = False) -> None:
        await self.chunk(b"data: " + json.dumps(obj).encode() + b"\n\n", content)

    async def token(self, text: str) -> None:
        await self.event({"id": "c1", "model": "m", "choices": [{"index": 0, "delta": {"content": text}}]},
                         content=True)

    async def finish(self, usage: dict | None = None) -> None:
        await self.event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        await self.event({"choices": [], "usage": usage or {"prompt_tokens": 5, "completion_tokens": 3}})
        await self.chunk(b"data: [DONE]\n\n")
        await self.end()


Scenario = Callable[[_Ctx], Awaitable[bool]]  # returns True to keep the connection open


async def healthy(ctx: _Ctx) -> bool:
    """First token 150 ms after the request was read, then 20 tokens 10 ms apart."""
    await ctx.head()
    await asyncio.sleep(0.150)
    for i in range(20):
        await ctx.token(f"w{i} ")
        await asyncio.sleep(0.010)
    await ctx.finish({"prompt_tokens": 5, "completion_tokens": 20})
    return True


async def closes_after_stream(ctx: _Ctx) -> bool:
    """llama.cpp's habit: answers keep-alive, then closes after each stream."""
    await ctx.head()
    await ctx.token("hi ")
    await ctx.finish()
    return False


async def drops_second_request(ctx: _Ctx) -> bool:
    """Keeps the connection after a stream, then closes it on the next
    request without a byte of answer: the request never got served."""
    if ctx.nth > 1:
        return False
    await ctx.head()
    await ctx.token("hi ")
    await ctx.finish()
    return True


async def long_line(ctx: _Ctx) -> bool:
    """One line of 50 MB that never ends."""
    await ctx.head()
    piece = b"data: " + b"x" * (1 << 16)
    await ctx.chunk(piece)
    for _ in range(50 * 16):
        await ctx.chunk(b"x" * (1 << 16))
    await ctx.end()
    return False


async def gzip_bomb(ctx: _Ctx) -> bool:
    """Under a megabyte of gzip that inflates to 256 MiB."""
    bomb = ctx.server.bomb()
    await ctx.head(extra="content-encoding: gzip\r\n")
    for i in range(0, len(bomb), 1 << 16):
        await ctx.chunk(bomb[i:i + (1 << 16)])
    await ctx.end()
    return False


async def endless(ctx: _Ctx) -> bool:
    """Tokens as fast as the client reads them, forever."""
    await ctx.head()
    event = b"data: " + json.dumps({"choices": [{"delta": {"content": "more "}}]}).encode() + b"\n\n"
    batch = b"%x\r\n%s\r\n" % (len(event) * 64, event * 64)
    while True:
        ctx.writer.write(batch)
        await ctx.writer.drain()


async def comments_only(ctx: _Ctx) -> bool:
    """Keep-alive comments every 50 ms and never a data event."""
    await ctx.head()
    while True:
        await ctx.chunk(b": keep-alive\n\n")
        await asyncio.sleep(0.05)


async def redirect(ctx: _Ctx) -> bool:
    await ctx.write(b"HTTP/1.1 301 Moved\r\nlocation: https://elsewhere.example/v1/chat/completions\r\n"
                    b"content-length: 0\r\n\r\n")
    return True


async def html(ctx: _Ctx) -> bool:
    page = b"<html><head><title>Sign in to the portal</title></head><body>no</body></html>"
    await ctx.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: %d\r\n\r\n%s"
                    % (len(page), page))
    return True


async def json_body(ctx: _Ctx) -> bool:
    body = json.dumps({"id": "x", "choices": [{"message": {"content": "whole"}}]}).encode()
    await ctx.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
                    % (len(body), body))
    return True


async def huge_headers(ctx: _Ctx) -> bool:
    await ctx.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                    + b"x-big: " + b"y" * (200 << 10) + b"\r\n\r\n")
    return False


async def close_no_response(ctx: _Ctx) -> bool:
    return False


async def cut_mid_stream(ctx: _Ctx) -> bool:
    await ctx.head()
    await ctx.token("half ")
    await ctx.token("an ")
    return False


async def echo_key(ctx: _Ctx) -> bool:
    """Sends the caller's key back in every string it controls, and a split
    copy across two chunks of the answer."""
    key = ctx.key
    await ctx.head(extra=f"x-request-id: req-{key}\r\n")
    await ctx.event({"id": f"id-{key}", "model": f"model-{key}", "system_fingerprint": key,
                     "choices": [{"index": 0, "delta": {"content": f"your key is {key}. "}}]}, content=True)
    half = len(key) // 2
    await ctx.token("again: " + key[:half])
    await ctx.token(key[half:] + " done")
    await ctx.finish()
    return True


async def echo_key_error(ctx: _Ctx) -> bool:
    key = ctx.key
    body = json.dumps({"error": {"message": f"invalid key {key!r} (escaped: {json.dumps(key + chr(13))})"}}).encode()
    await ctx.write(b"HTTP/1.1 401 No\r\ncontent-type: application/json\r\nx-request-id: %s\r\n"
                    b"content-length: %d\r\n\r\n%s" % (key.encode(), len(body), body))
    return True


async def odd_values(ctx: _Ctx) -> bool:
    """Every field the wrong type, counts absurd, text with lone surrogates."""
    await ctx.head()
    await ctx.chunk(b'data: {"id": {"a": 1}, "model": ["m"], "system_fingerprint": 7, '
                    b'"choices": [{"delta": {"content": "ok \\ud800 then"}}]}\n\n', content=True)
    await ctx.chunk(b'data: {"choices": [{"delta": {"content": 42}}]}\n\n')
    await ctx.chunk(b'data: {"choices": [{"delta": {"content": ["a", "b"]}}]}\n\n')
    await ctx.chunk(b'data: {"choices": "nope"}\n\n')
    await ctx.chunk(b'data: {"choices": [{"delta": {}, "finish_reason": {"x": 1}}]}\n\n')
    await ctx.chunk(b'data: {"choices": [], "usage": {"prompt_tokens": 1180591620717411303424, '
                    b'"completion_tokens": -5, "completion_tokens_details": {"reasoning_tokens": NaN}}}\n\n')
    await ctx.chunk(b"data: [DONE]\n\n")
    await ctx.end()
    return True


async def retry_after_inf(ctx: _Ctx) -> bool:
    body = b'{"error": {"message": "slow down \\udfff"}}'
    await ctx.write(b"HTTP/1.1 429 Slow\r\ncontent-type: application/json\r\nretry-after: inf\r\n"
                    b"content-length: %d\r\n\r\n%s" % (len(body), body))
    return True


SCENARIOS: dict[str, Scenario] = {f.__name__: f for f in (
    healthy, closes_after_stream, drops_second_request, long_line, gzip_bomb, endless, comments_only, redirect, html,
    json_body, huge_headers, close_no_response, cut_mid_stream, echo_key, echo_key_error,
    odd_values, retry_after_inf)}


class HostileServer:
    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._bomb: bytes | None = None

    def bomb(self) -> bytes:
        """256 MiB of SSE comment lines as gzip: under a megabyte on the wire,
        and nothing in it but the body's size can stop a reader."""
        if self._bomb is None:
            z = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
            block = b": pad\n" * ((1 << 20) // 6)
            self._bomb = b"".join(z.compress(block) for _ in range(256)) + z.flush()
        return self._bomb

    def url(self, scenario: str) -> str:
        return f"http://127.0.0.1:{self.port}/{scenario}/v1"

    def start(self) -> HostileServer:
        ready = threading.Event()

        def run() -> None:
            loop = self._loop = asyncio.new_event_loop()
            self._server = loop.run_until_complete(
                asyncio.start_server(self._handle, "127.0.0.1", 0, limit=1 << 20))
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()

        self._thread = threading.Thread(target=run, name="hostile-server", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        loop = self._loop
        if loop is None:
            return

        async def shutdown() -> None:
            assert self._server is not None
            self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nth = 0
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {k.strip().lower(): v.strip() for k, _, v in
                           (line.partition(":") for line in lines[1:] if line)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                ex = Exchange(path.split("/")[1], time.perf_counter_ns(), headers, body)
                self.exchanges.append(ex)
                nth += 1
                keep = await SCENARIOS[ex.scenario](_Ctx(self, writer, ex, nth))
                if not keep:
                    return
        except (ConnectionError, asyncio.CancelledError):
            return
        finally:
            writer.close()
