"""A network stream that stamps its own bytes: httpcore reads and writes
through it, infertui reads the stamps.

- *Sent*: the clock is read in `write()`, synchronously, immediately before
  the bytes are handed to the transport, which passes them to the kernel in
  the same call. No `await` stands between the stamp and the write, so no
  scheduler (anyio's, httpcore's, the event loop's) can move it after the
  server already has the request. The stamp of the request's last write is
  the probe's "request sent" (`sent_source: "socket"`).
- *Received*: the clock is read in the protocol's `data_received`, the
  event loop's read callback for the socket (for TLS, the callback that
  decrypted the record), before anything else happens to the bytes.
  Parsing HTTP, SSE and JSON happens later, in the probe's coroutine; each
  read keeps its own stamp, and `read()` hands reads out one at a time, so
  the bytes httpcore is parsing always belong to `last_read_ns`
  (`recv_source: "read-callback"`).

Memory is bounded: past `HIGH_WATER` unread bytes the transport stops reading
from the socket until the probe catches up.
"""

from __future__ import annotations

import asyncio
import contextvars
import select
import ssl
from collections import deque
from dataclasses import dataclass
from typing import Any, cast

import httpcore

from infertui.core.clock import Clock

HIGH_WATER = 1 << 20  # unread bytes before the socket is left unread
LOW_WATER = 1 << 18


@dataclass(slots=True)
class SendRecord:
    """What the probe learns of its own request: the stream it went out on
    and when its last byte was handed to the kernel. Set through
    `CURRENT_SEND` for the task sending the request."""

    stream: httpcore.AsyncNetworkStream | None = None  # a StampedStream or a ThreadStampedStream
    last_write_ns: int | None = None
    writes: int = 0
    bytes_received_after_write: int = 0


CURRENT_SEND: contextvars.ContextVar[SendRecord | None] = contextvars.ContextVar(
    "infertui_current_send", default=None)


class _StampingProtocol(asyncio.Protocol):
    __slots__ = ("clock", "reads", "buffered", "eof", "lost", "error", "waiter", "transport",
                 "paused", "write_waiter")

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.reads: deque[tuple[int, bytes]] = deque()
        self.buffered = 0
        self.eof = False
        self.lost = False
        self.error: BaseException | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.write_waiter: asyncio.Future[None] | None = None
        self.transport: asyncio.Transport | None = None
        self.paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # create_connection's is a Transport

    def data_received(self, data: bytes) -> None:
        # The stamp first: nothing may stand between the read and its time.
        stamp = self.clock()
        self.reads.append((stamp, data))
        self.buffered += len(data)
        if self.buffered > HIGH_WATER and not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake()
        return False  # close the transport; HTTP/1.1 needs no half-close

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.error = exc
        self._wake()
        waiter, self.write_waiter = self.write_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def pause_writing(self) -> None:
        if self.write_waiter is None:
            self.write_waiter = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        waiter, self.write_waiter = self.write_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _wake(self) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class _Stamped(httpcore.AsyncNetworkStream):
    """What both stamped streams keep per connection, and how they count a
    write and a read; each takes its own stamps where its bytes move."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.last_write_ns: int | None = None
        self.last_read_ns: int | None = None
        self.bytes_in = 0
        self.bytes_out = 0
        self.requests = 0  # request cycles written on this connection
        self._reading = True  # a read came after the last write: the next write starts a request

    def _starting_write(self) -> None:
        if self._reading:
            self._reading = False
            self.requests += 1

    def _wrote(self, stamp: int, size: int, record: SendRecord | None) -> None:
        """After the bytes went to the kernel, stamped just before."""
        self.last_write_ns = stamp
        self.bytes_out += size
        if record is not None:
            record.stream = self
            record.last_write_ns = stamp
            record.writes += 1
            record.bytes_received_after_write = 0

    def _took(self, data: bytes, stamp: int | None) -> bytes:
        """A read handed to httpcore, with the stamp of its arrival."""
        self.last_read_ns = stamp
        self.bytes_in += len(data)
        self._reading = True
        record = CURRENT_SEND.get()
        if record is not None and record.stream is self:
            record.bytes_received_after_write += len(data)
        return data


async def wait_for_reads(holder: Any, timeout: float | None) -> None:
    """Until whoever stamps reads for `holder` (a protocol or a receiver's
    channel, each with a `waiter` slot) wakes it; ReadTimeout past `timeout`."""
    waiter = holder.waiter = asyncio.get_running_loop().create_future()
    try:
        async with asyncio.timeout(timeout):
            await waiter
    except TimeoutError:
        raise httpcore.ReadTimeout("timed out waiting for data") from None
    finally:
        if holder.waiter is waiter:
            holder.waiter = None


class StampedStream(_Stamped):
    """One TCP (or TLS) connection, as httpcore sees it, with stamps."""

    sent_source = "socket"
    recv_source = "read-callback"

    def __init__(self, transport: asyncio.Transport, protocol: _StampingProtocol,
                 clock: Clock) -> None:
        super().__init__(clock)
        self._transport = transport
        self._protocol = protocol

    # -- writing --------------------------------------------------------------
    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        protocol = self._protocol
        if protocol.lost or self._transport.is_closing():
            raise httpcore.WriteError("the connection is closed")
        self._starting_write()
        record = CURRENT_SEND.get()
        stamp = self._clock()
        self._transport.write(buffer)  # to the kernel now, unless its buffer is full
        self._wrote(stamp, len(buffer), record)
        if protocol.write_waiter is not None:
            try:
                async with asyncio.timeout(timeout):
                    await protocol.write_waiter
            except TimeoutError:
                raise httpcore.WriteTimeout("timed out writing the request") from None
            if protocol.lost:
                raise httpcore.WriteError(_lost_message(protocol))

    # -- reading --------------------------------------------------------------
    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        protocol = self._protocol
        if not protocol.reads:
            if protocol.eof or protocol.lost:
                return self._end()
            await wait_for_reads(protocol, timeout)
            if not protocol.reads:
                return self._end()
        stamp, data = protocol.reads.popleft()
        if len(data) > max_bytes:
            protocol.reads.appendleft((stamp, data[max_bytes:]))
            data = data[:max_bytes]
        protocol.buffered -= len(data)
        if protocol.paused and protocol.buffered < LOW_WATER:
            protocol.paused = False
            self._transport.resume_reading()
        return self._took(data, stamp)

    def _end(self) -> bytes:
        protocol = self._protocol
        if protocol.error is not None and not protocol.eof:
            raise httpcore.ReadError(_lost_message(protocol))
        return b""

    # -- the rest of httpcore's interface ---------------------------------------
    async def aclose(self) -> None:
        self._transport.close()

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> StampedStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport = await loop.start_tls(
                    self._transport, self._protocol, ssl_context,
                    server_hostname=server_hostname, ssl_handshake_timeout=timeout)
        except TimeoutError:
            self._transport.close()
            raise httpcore.ConnectTimeout("timed out during the TLS handshake") from None
        except (OSError, ssl.SSLError, ConnectionError) as exc:
            self._transport.close()
            raise httpcore.ConnectError(f"TLS handshake failed: {exc}") from exc
        if transport is None:
            raise httpcore.ConnectError("TLS handshake failed: the connection closed")
        self._protocol.transport = transport
        return StampedStream(transport, self._protocol, self._clock)

    def get_extra_info(self, info: str) -> Any:
        transport = self._transport
        if info == "ssl_object":
            return transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return transport.get_extra_info("sockname")
        if info == "server_addr":
            return transport.get_extra_info("peername")
        if info == "socket":
            return transport.get_extra_info("socket")
        if info == "is_readable":
            return self.server_closed()
        return None

    def server_closed(self) -> bool:
        """True when the server has closed (or sent something unasked) while
        the connection was idle: it must not carry another request. Asks the
        kernel too, so a close that arrived since the loop last looked counts."""
        protocol = self._protocol
        if protocol.eof or protocol.lost or protocol.reads or self._transport.is_closing():
            return True
        sock = self._transport.get_extra_info("socket")
        if sock is None:
            return False
        try:
            return _readable_now(sock.fileno())
        except (OSError, ValueError):
            return True


def _readable_now(fd: int) -> bool:
    if hasattr(select, "poll"):  # no FD_SETSIZE limit
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLPRI)
        return bool(poller.poll(0))
    readable, _, _ = select.select([fd], [], [], 0)
    return bool(readable)


def _lost_message(protocol: _StampingProtocol) -> str:
    exc = protocol.error
    if exc is None:
        return "the server closed the connection"
    text = str(exc) or type(exc).__name__
    return f"the connection was lost: {text}"
