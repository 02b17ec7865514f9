"""The simulator in-process: an httpx transport, no sockets.

The built-in providers (`http://sim-alpha.invalid/v1`, ...) are served here;
the host names the provider. Each step of a stream is its own body chunk,
generated and handed over when it is due (counted from the request's
arrival), so a client measures real time, and the client's own event loop,
which this runs on, never spends longer than one chunk's work at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import Any

import httpx

from infertui.core.clock import Clock, monotonic_ns
from infertui.core.simulator.service import SimReply, SimService
from infertui.core.simulator.truth import GroundTruthLog

_SIM_SUFFIX = ".invalid"


class _SimByteStream(httpx.AsyncByteStream):
    def __init__(self, service: SimService, reply: SimReply, request: httpx.Request,
                 arrived: float) -> None:
        self._service = service
        self._reply = reply
        self._request = request
        self._arrived = arrived
        self._frames: AsyncGenerator[bytes, None] | None = None

    def __aiter__(self) -> AsyncIterator[bytes]:
        self._frames = self._play()
        return self._frames

    async def aclose(self) -> None:
        # A client that stops reading early closes the stream: end the
        # playback now, so the ground truth says so at once.
        if self._frames is not None:
            await self._frames.aclose()

    async def _play(self) -> AsyncGenerator[bytes, None]:
        record = self._reply.record
        clock = self._service.clock
        try:
            async with contextlib.aclosing(self._service.play(self._reply, self._arrived)) as frames:
                async for frame in frames:
                    if not frame.data:
                        continue
                    if frame.kind and record is not None:
                        record.mark(frame.kind, frame.tokens, clock())
                    yield frame.data
            if record is not None:
                record.complete = True
            if self._reply.disconnect:
                raise httpx.RemoteProtocolError(
                    "peer closed connection without sending complete message body "
                    "(simulated disconnect)", request=self._request)
        finally:
            if record is not None:
                record.end_ns = clock()


class SimTransport(httpx.AsyncBaseTransport):
    """Serves every simulated provider: `http://NAME.invalid/...` is provider
    NAME. `time_scale` multiplies every planned delay (0: no sleeping at all,
    for deterministic snapshots). `overrides` adjust profiles, see
    `service.check_overrides`."""

    def __init__(self, seed: int = 0, clock: Clock = monotonic_ns, time_scale: float = 1.0,
                 overrides: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.service = SimService(seed=seed, clock=clock, time_scale=time_scale, overrides=overrides)

    @property
    def ground_truth(self) -> GroundTruthLog:
        return self.service.ground_truth

    @property
    def time_scale(self) -> float:
        return self.service.time_scale

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        # The request has reached the server: this is "request sent" for the
        # client, reported before any simulated delay.
        trace = request.extensions.get("trace")
        if trace is not None:
            await trace("http11.send_request_body.complete", {"request": request})
        service = self.service
        received_ns = service.clock()
        arrived = asyncio.get_running_loop().time()
        host = request.url.host
        provider = host[: -len(_SIM_SUFFIX)] if host.endswith(_SIM_SUFFIX) else None
        headers = {name.lower(): value for name, value in request.headers.items()}
        query = dict(request.url.params.multi_items())
        reply = service.handle(request.method, request.url.path, query, headers, body,
                               received_ns=received_ns, provider=provider or None)
        await service.wait_before_headers(reply, arrived)
        record = reply.record
        if record is not None:
            record.headers_ns = service.clock()
        if trace is not None:
            await trace("http11.receive_response_headers.complete", {"request": request})
        extensions = {"http_version": b"HTTP/1.1"}
        if reply.frames is None:
            if record is not None:
                record.end_ns = record.headers_ns
                record.complete = True
            # A stream, not `content=`: a response built from bytes counts as
            # already read, and a streaming client could not read it again.
            headers = {**reply.headers, "content-length": str(len(reply.body))}
            return httpx.Response(reply.status, headers=headers, stream=httpx.ByteStream(reply.body),
                                  extensions=extensions)
        return httpx.Response(reply.status, headers=reply.headers,
                              stream=_SimByteStream(service, reply, request, arrived),
                              extensions=extensions)
