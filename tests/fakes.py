"""A scripted provider behind an httpx transport: exact bytes at exact times.

It reports "request sent" through httpx's trace extension the way a real
connection does, so the probe's timing path is the production one.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import AsyncIterator

import httpx


@dataclass
class Script:
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"content-type": "text/event-stream"})
    # (delay in seconds before this part, bytes)
    parts: list[tuple[float, bytes]] = field(default_factory=list)
    headers_delay: float = 0.0
    # Raise this after the parts, as a dropped connection would.
    raise_after: Exception | None = None


class _Body(httpx.AsyncByteStream):
    def __init__(self, script: Script) -> None:
        self.script = script

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for delay, data in self.script.parts:
            if delay:
                await asyncio.sleep(delay)
            yield data
        if self.script.raise_after is not None:
            raise self.script.raise_after


class ScriptedTransport(httpx.AsyncBaseTransport):
    def __init__(self, *scripts: Script) -> None:
        self.scripts = list(scripts)
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        trace = request.extensions.get("trace")
        await request.aread()
        if trace is not None:
            await trace("http11.send_request_body.complete", {"request": request})
        self.requests.append(request)
        script = self.scripts[min(len(self.requests) - 1, len(self.scripts) - 1)]
        if script.headers_delay:
            await asyncio.sleep(script.headers_delay)
        return httpx.Response(script.status, headers=script.headers, stream=_Body(script))


def sse_parts(stream: bytes, delay: float = 0.0) -> list[tuple[float, bytes]]:
    """One part per SSE event (split at blank lines), each after `delay`."""
    sep = b"\r\n\r\n" if b"\r\n\r\n" in stream else b"\n\n"
    pieces = [p + sep for p in stream.split(sep) if p]
    return [(delay, p) for p in pieces]
