"""infertui's own network backend for httpcore: connections are asyncio
transports whose reads and writes are stamped by `StampedStream`.

httpcore does the HTTP (h11), the pooling and the proxies; this decides how
bytes reach the socket and when their times are read. It depends on no
scheduler but asyncio's own read callback, so a new release of anyio or
httpcore cannot move a timestamp.
"""

from __future__ import annotations

import asyncio
import os
import socket
from typing import Iterable, Literal

import httpcore

from infertui.core.clock import Clock, monotonic_ns
from infertui.core.net.receiver import Channel, receiver_for
from infertui.core.net.stream import StampedStream, _StampingProtocol
from infertui.core.net.threaded import ThreadStampedStream

Mode = Literal["process", "thread", "loop"]

SocketOption = tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]


class StampingBackend(httpcore.AsyncNetworkBackend):
    """Where reads are stamped: `"process"` (the default) by the receiver
    process, `"thread"` by a receiver thread, `"loop"` by the event loop's
    read callback (see BENCHMARKS.md for what each costs in accuracy). A
    clock other than the process's monotonic clock (a test's manual clock)
    always uses the loop."""

    def __init__(self, clock: Clock = monotonic_ns, mode: Mode | None = None) -> None:
        self.clock = clock
        if mode is None:
            # INFERTUI_RECEIVER=thread|loop picks another receiver (benchmarks, diagnosis).
            chosen = os.environ.get("INFERTUI_RECEIVER", "process")
            mode = chosen if chosen in ("process", "thread", "loop") else "process"  # type: ignore[assignment]
        self.mode: Mode = mode if clock is monotonic_ns else "loop"
        self.connections = 0  # opened so far

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[SocketOption] | None = None
                          ) -> StampedStream | ThreadStampedStream:
        if self.mode in ("process", "thread"):
            return await self._connect_threaded(host, port, timeout, local_address, socket_options)
        loop = asyncio.get_running_loop()
        protocol = _StampingProtocol(self.clock)
        try:
            async with asyncio.timeout(timeout):
                transport, _ = await loop.create_connection(
                    lambda: protocol, host, port,
                    local_addr=(local_address, 0) if local_address else None,
                    happy_eyeballs_delay=0.25)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"no connection to {host}:{port} within {timeout:g} s"
                                          if timeout else f"no connection to {host}:{port}") from None
        except socket.gaierror as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc.strerror or exc}") from exc
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot connect to {host}:{port}: "
                                        f"{exc.strerror or exc}") from exc
        _apply_options(transport, socket_options)
        self.connections += 1
        return StampedStream(transport, protocol, self.clock)  # type: ignore[arg-type]

    async def _connect_threaded(self, host: str, port: int, timeout: float | None,
                                local_address: str | None,
                                socket_options: Iterable[SocketOption] | None) -> ThreadStampedStream:
        loop = asyncio.get_running_loop()
        last: OSError | None = None
        sock: socket.socket | None = None
        try:
            async with asyncio.timeout(timeout):
                try:
                    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
                except socket.gaierror as exc:
                    raise httpcore.ConnectError(f"cannot resolve {host}: {exc.strerror or exc}") from exc
                for family, kind, proto, _name, address in infos:
                    candidate = socket.socket(family, kind, proto)
                    try:
                        candidate.setblocking(False)
                        candidate.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                        if local_address:
                            candidate.bind((local_address, 0))
                        await loop.sock_connect(candidate, address)
                    except OSError as exc:
                        candidate.close()
                        last = exc
                        continue
                    except BaseException:
                        candidate.close()
                        raise
                    sock = candidate
                    break
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"no connection to {host}:{port} within {timeout:g} s"
                                          if timeout else f"no connection to {host}:{port}") from None
        if sock is None:
            reason = (last.strerror or str(last)) if last is not None else "no address"
            raise httpcore.ConnectError(f"cannot connect to {host}:{port}: {reason}")
        for option in socket_options or ():
            if len(option) == 3:
                sock.setsockopt(option[0], option[1], option[2])  # type: ignore[misc]
            else:
                sock.setsockopt(option[0], option[1], None, option[3])  # type: ignore[misc]
        receiver = receiver_for(self.clock, self.mode)
        channel = Channel(sock, loop)
        receiver.add(channel)
        self.connections += 1
        return ThreadStampedStream(sock, channel, receiver, self.clock)

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[SocketOption] | None = None
                                  ) -> StampedStream:
        loop = asyncio.get_running_loop()
        protocol = _StampingProtocol(self.clock)
        try:
            async with asyncio.timeout(timeout):
                transport, _ = await loop.create_unix_connection(lambda: protocol, path)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"no connection to {path}") from None
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot connect to {path}: {exc.strerror or exc}") from exc
        _apply_options(transport, socket_options)
        self.connections += 1
        return StampedStream(transport, protocol, self.clock)  # type: ignore[arg-type]

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def _apply_options(transport: asyncio.BaseTransport,
                   options: Iterable[SocketOption] | None) -> None:
    sock = transport.get_extra_info("socket")
    if sock is None:
        return
    for option in options or ():
        if len(option) == 3:
            sock.setsockopt(option[0], option[1], option[2])  # type: ignore[misc]
        else:
            sock.setsockopt(option[0], option[1], None, option[3])  # type: ignore[misc]
