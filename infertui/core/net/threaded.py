"""A stamped stream whose reads are taken by a receiver (core/net/receiver.py).

Sends happen on the event loop, synchronously after the stamp (the same rule
as `StampedStream`); receives are stamped by the receiver, a process of its
own (`recv_source: "receiver-process"`) or a thread (`"receiver-thread"`),
so a busy event loop delays when the probe *parses* bytes, never the time
they are said to have arrived. TLS runs over
memory BIOs: the receiver stamps the encrypted bytes as they arrive, and the
stream decrypts them when the probe reads.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from typing import Any

import httpcore

from infertui.core.clock import Clock
from infertui.core.net.receiver import LOW_WATER, Channel, ProcessReceiver, Receiver
from infertui.core.net.stream import CURRENT_SEND, _readable_now, _Stamped, wait_for_reads


class ThreadStampedStream(_Stamped):
    sent_source = "socket"
    recv_source = "receiver-thread"

    def __init__(self, sock: socket.socket, channel: Channel, receiver: Receiver | ProcessReceiver,
                 clock: Clock,
                 tls: ssl.SSLObject | None = None, incoming: ssl.MemoryBIO | None = None,
                 outgoing: ssl.MemoryBIO | None = None) -> None:
        super().__init__(clock)
        self._sock = sock
        self._channel = channel
        self._receiver = receiver
        self.recv_source = receiver.recv_source
        self._tls = tls
        self._incoming = incoming
        self._outgoing = outgoing

    # -- writing --------------------------------------------------------------
    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        channel = self._channel
        if channel.closed or channel.error is not None:
            raise httpcore.WriteError("the connection is closed")
        self._starting_write()
        if self._tls is not None:
            self._tls.write(buffer)
            wire = self._outgoing.read() if self._outgoing is not None else b""
        else:
            wire = buffer
        record = CURRENT_SEND.get()
        stamp = self._clock()
        try:
            sent = self._sock.send(wire)  # to the kernel now
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError as exc:
            raise httpcore.WriteError(f"the connection failed while sending: {exc.strerror or exc}") from exc
        self._wrote(stamp, len(buffer), record)
        if sent < len(wire):
            await self._send_rest(wire[sent:], timeout)

    async def _send_rest(self, data: bytes, timeout: float | None) -> None:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                await loop.sock_sendall(self._sock, data)
        except TimeoutError:
            raise httpcore.WriteTimeout("timed out writing the request") from None
        except OSError as exc:
            raise httpcore.WriteError(f"the connection failed while sending: {exc.strerror or exc}") from exc

    # -- reading --------------------------------------------------------------
    async def _next_raw(self, timeout: float | None) -> tuple[int, bytes] | None:
        """The next stamped read, or None at the end of the stream."""
        channel = self._channel
        if not channel.reads:
            if channel.eof or channel.error is not None or channel.closed:
                if channel.error is not None and not channel.eof:
                    raise httpcore.ReadError(f"the connection was lost: {channel.error.strerror or channel.error}")
                return None
            await wait_for_reads(channel, timeout)
            if not channel.reads:
                return await self._next_raw(timeout)
        stamp, data = channel.reads.popleft()
        channel.buffered -= len(data)
        if channel.paused and channel.buffered < LOW_WATER:
            channel.paused = False
            self._receiver.resume(channel)
        return stamp, data

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        while True:
            if self._tls is not None:
                plain = self._decrypt(max_bytes)
                if plain:
                    return self._took(plain, self.last_read_ns)
            got = await self._next_raw(timeout)
            if got is None:
                if self._tls is not None:
                    return self._took(b"", self.last_read_ns)
                return b""
            stamp, data = got
            if self._tls is None:
                channel = self._channel
                if len(data) > max_bytes:
                    channel.reads.appendleft((stamp, data[max_bytes:]))
                    channel.buffered += len(data) - max_bytes
                    data = data[:max_bytes]
                return self._took(data, stamp)
            # Encrypted: the plaintext it completes arrived with this read.
            assert self._incoming is not None
            self._incoming.write(data)
            self.last_read_ns = stamp

    def _decrypt(self, max_bytes: int) -> bytes:
        assert self._tls is not None
        try:
            return self._tls.read(max_bytes)
        except ssl.SSLWantReadError:
            return b""
        except ssl.SSLZeroReturnError:
            return b""
        except ssl.SSLError as exc:
            raise httpcore.ReadError(f"TLS error: {exc}") from exc

    # -- TLS ----------------------------------------------------------------------
    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> ThreadStampedStream:
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = ssl_context.wrap_bio(incoming, outgoing, server_side=False,
                                   server_hostname=server_hostname)
        try:
            async with asyncio.timeout(timeout):
                while True:
                    try:
                        tls.do_handshake()
                        break
                    except ssl.SSLWantReadError:
                        pending = outgoing.read()
                        if pending:
                            await asyncio.get_running_loop().sock_sendall(self._sock, pending)
                        got = await self._next_raw(None)
                        if got is None:
                            raise httpcore.ConnectError(
                                "TLS handshake failed: the server closed the connection") from None
                        incoming.write(got[1])
                pending = outgoing.read()
                if pending:
                    await asyncio.get_running_loop().sock_sendall(self._sock, pending)
        except TimeoutError:
            await self.aclose()
            raise httpcore.ConnectTimeout("timed out during the TLS handshake") from None
        except (ssl.SSLError, OSError) as exc:
            await self.aclose()
            raise httpcore.ConnectError(f"TLS handshake failed: {exc}") from exc
        return ThreadStampedStream(self._sock, self._channel, self._receiver, self._clock,
                                   tls, incoming, outgoing)

    # -- the rest of httpcore's interface ---------------------------------------
    async def aclose(self) -> None:
        channel = self._channel
        if not channel.closed:
            self._receiver.close(channel)

    def get_extra_info(self, info: str) -> Any:
        if info == "ssl_object":
            return self._tls
        if info == "client_addr":
            return _name(self._sock.getsockname)
        if info == "server_addr":
            return _name(self._sock.getpeername)
        if info == "socket":
            return self._sock
        if info == "is_readable":
            return self.server_closed()
        return None

    def server_closed(self) -> bool:
        channel = self._channel
        if channel.eof or channel.error is not None or channel.reads or channel.closed:
            return True
        try:
            return _readable_now(self._sock.fileno())
        except (OSError, ValueError):
            return True


def _name(get: Any) -> Any:
    try:
        return get()
    except OSError:
        return None
