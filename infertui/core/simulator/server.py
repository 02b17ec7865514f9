"""The simulator over real loopback sockets: a minimal HTTP/1.1 server.

Same planning and encoding as the transport; this only parses requests and
writes replies. Streams go out with chunked transfer encoding, one chunk per
event, drained before the next, so each step leaves at its own time. A step
is generated only when it is next, so one long answer never keeps the loop
from reading the other connections' requests.
`GET /_sim/ground-truth?request_id=ID` tells another process what really
happened. It binds loopback addresses only.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from infertui.core.clock import Clock, monotonic_ns
from infertui.core.simulator.service import SimReply, SimService
from infertui.core.simulator.threaded import ThreadedSimServer
from infertui.core.simulator.truth import GroundTruthLog

MAX_HEADER_LINES = 100
MAX_BODY = 16 * 1024 * 1024


def check_loopback(host: str) -> str:
    """The address to bind, or a ValueError: the simulator is for this
    machine only."""
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is None or not address.is_loopback:
        raise ValueError(f"the simulator listens on loopback only (127.0.0.1 or ::1), not {host!r}")
    return host


class _Malformed(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _Request:
    __slots__ = ("method", "path", "query", "headers", "body", "keep_alive")

    def __init__(self, method: str, target: str, version: str, headers: dict[str, str],
                 body: bytes) -> None:
        parts = urlsplit(target)
        self.method = method
        self.path = unquote(parts.path) or "/"
        self.query = dict(parse_qsl(parts.query, keep_blank_values=True))
        self.headers = headers
        self.body = body
        connection = headers.get("connection", "").lower()
        self.keep_alive = ("close" not in connection if version == "HTTP/1.1"
                           else "keep-alive" in connection)


async def _line(reader: asyncio.StreamReader) -> bytes:
    try:
        return await reader.readline()
    except ValueError:  # longer than the reader's limit (64 KiB)
        raise _Malformed(431, "request line or header too long") from None


async def _read_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> _Request | None:
    line = await _line(reader)
    while line in (b"\r\n", b"\n"):  # stray blank lines between requests are allowed
        line = await _line(reader)
    if not line:
        return None
    words = line.decode("latin-1").strip().split(" ")
    if len(words) != 3 or not words[2].startswith("HTTP/1."):
        raise _Malformed(400, "malformed request line")
    method, target, version = words
    headers: dict[str, str] = {}
    for _ in range(MAX_HEADER_LINES + 1):
        raw = await _line(reader)
        if raw in (b"\r\n", b"\n", b""):
            break
        name, sep, value = raw.decode("latin-1").partition(":")
        if not sep:
            raise _Malformed(400, "malformed header line")
        headers[name.strip().lower()] = value.strip()
    else:
        raise _Malformed(431, "too many header lines")
    if headers.get("expect", "").lower() == "100-continue":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        await writer.drain()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _read_chunked(reader)
    else:
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError:
            raise _Malformed(400, "bad Content-Length") from None
        if not 0 <= length <= MAX_BODY:
            raise _Malformed(413, "request body too large")
        body = await reader.readexactly(length) if length else b""
    return _Request(method, target, version, headers, body)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while True:
        size_line = (await _line(reader)).split(b";")[0].strip()
        try:
            size = int(size_line, 16)
        except ValueError:
            raise _Malformed(400, "bad chunk size") from None
        if size == 0:
            while (await _line(reader)) not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return bytes(body)
        if len(body) + size > MAX_BODY:
            raise _Malformed(413, "request body too large")
        body += await reader.readexactly(size)
        await _line(reader)


def _head(status: int, headers: Mapping[str, str]) -> bytes:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Unknown"
    lines = [f"HTTP/1.1 {status} {phrase}", "server: infertui-sim"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class SimServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, seed: int = 0,
                 time_scale: float = 1.0, clock: Clock = monotonic_ns,
                 overrides: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.host = check_loopback(host)
        self.port = port
        self.service = SimService(seed=seed, clock=clock, time_scale=time_scale, overrides=overrides)
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self.connections_accepted = 0

    @property
    def ground_truth(self) -> GroundTruthLog:
        return self.service.ground_truth

    @property
    def origin(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def url(self) -> str:
        """The generic provider `sim`: every profile as a model."""
        return f"{self.origin}/v1"

    def url_for(self, provider: str) -> str:
        """A named provider's base URL, e.g. `http://127.0.0.1:PORT/sim-alpha/v1`."""
        return f"{self.origin}/{provider}/v1"

    async def start(self) -> None:
        if self._server is not None:
            return
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def __aenter__(self) -> SimServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def run_in_thread(self) -> ThreadedSimServer:
        """Start on an event loop of its own in a daemon thread, for
        synchronous callers (an SDK in a benchmark). Use as a context
        manager, or call `.stop()`."""
        return ThreadedSimServer(self).start()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        self.connections_accepted += 1
        try:
            while True:
                try:
                    request = await _read_request(reader, writer)
                except _Malformed as exc:
                    writer.write(_head(exc.status, {"content-length": "0", "connection": "close"}))
                    await writer.drain()
                    return
                if request is None:
                    return
                received_ns = self.service.clock()
                arrived = asyncio.get_running_loop().time()
                reply = self.service.handle(request.method, request.path, request.query,
                                            request.headers, request.body, received_ns=received_ns)
                if not await self._respond(writer, reply, request.keep_alive, arrived):
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away: nothing to answer
        except asyncio.CancelledError:
            pass  # the server is stopping
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await writer.wait_closed()

    async def _respond(self, writer: asyncio.StreamWriter, reply: SimReply, keep_alive: bool,
                       arrived: float) -> bool:
        """Write the reply; False when the connection must not be reused.
        `arrived`: the loop time the request arrived, which delays count from."""
        service = self.service
        record = reply.record
        await service.wait_before_headers(reply, arrived)
        headers = dict(reply.headers)
        if not keep_alive:
            headers["connection"] = "close"
        try:
            if reply.frames is None:
                headers["content-length"] = str(len(reply.body))
                writer.write(_head(reply.status, headers) + reply.body)
                await writer.drain()
                if record is not None:
                    record.headers_ns = record.end_ns = service.clock()
                    record.complete = True
                return keep_alive
            headers["transfer-encoding"] = "chunked"
            writer.write(_head(reply.status, headers))
            await writer.drain()
            if record is not None:
                record.headers_ns = service.clock()
            async with contextlib.aclosing(service.play(reply, arrived)) as frames:
                async for frame in frames:
                    if not frame.data:
                        continue
                    # The truth is stamped before the write: no client can
                    # have the bytes earlier, so a correct client's TTFT is
                    # never below it.
                    if frame.kind and record is not None:
                        record.mark(frame.kind, frame.tokens, service.clock())
                    writer.write(b"%x\r\n%s\r\n" % (len(frame.data), frame.data))
                    await writer.drain()
            if reply.disconnect:
                writer.transport.abort()  # mid-body, no final chunk: a dropped connection
                if record is not None:
                    record.complete = True
                return False
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            if record is not None:
                record.complete = True
            return keep_alive
        finally:
            if record is not None and record.end_ns is None:
                record.end_ns = service.clock()

