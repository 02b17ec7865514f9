"""One thread whose only work is to receive and stamp.

The event loop that parses streams, feeds the UI and saves results can be
late: at 256 concurrent streams it is busy most of the time, and a read
callback on that loop runs when the loop gets to it. This thread waits on
every probe socket at once, and when the kernel says data is there it reads
the clock first, then receives, then hands `(stamp, bytes)` to the
connection's queue and wakes the loop. Nothing else runs here: no parsing,
no JSON, no UI, no storage. What it needs is the GIL for a few microseconds
per wake-up, which a busy main thread gives up within the interpreter's
switch interval (lowered to 1 ms while the thread runs).

Sockets are registered and closed only by this thread (through a queue and a
wake-up socket), so a socket is never closed while it is being read.
"""

from __future__ import annotations

import asyncio
import os
import selectors
import socket
import sys
import threading
from collections import deque
from typing import Callable

from infertui.core.clock import Clock

RECV_BYTES = 256 << 10
HIGH_WATER = 1 << 20  # unread bytes before a socket is left unread
LOW_WATER = 1 << 18
SWITCH_INTERVAL_S = 0.001


class Channel:
    """One socket's side of the receiver: what arrived, stamped, for the
    stream on the event loop to take."""

    __slots__ = ("sock", "loop", "reads", "buffered", "eof", "error", "waiter", "paused",
                 "registered", "closed", "cid")

    def __init__(self, sock: socket.socket, loop: asyncio.AbstractEventLoop) -> None:
        self.sock = sock
        self.loop = loop
        self.reads: deque[tuple[int, bytes]] = deque()
        self.buffered = 0
        self.eof = False
        self.error: OSError | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.paused = False
        self.registered = False
        self.closed = False
        self.cid: int | None = None  # its number at the receiver process

    def wake(self) -> None:
        """On the event loop: a waiting read may go on."""
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class Receiver:
    recv_source = "receiver-thread"

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._ops: deque[tuple[str, Channel]] = deque()
        self._thread = threading.Thread(target=self._run, name="infertui-receiver", daemon=True)
        self._previous_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(self._previous_interval, SWITCH_INTERVAL_S))
        self._thread.start()

    # -- from the event loop ------------------------------------------------------
    def add(self, channel: Channel) -> None:
        self._post("add", channel)

    def resume(self, channel: Channel) -> None:
        self._post("resume", channel)

    def close(self, channel: Channel) -> None:
        """Unregister and close the socket, on the receiver's thread."""
        self._post("close", channel)

    def _post(self, op: str, channel: Channel) -> None:
        self._ops.append((op, channel))
        try:
            self._wake_w.send(b"\0")
        except (BlockingIOError, InterruptedError):
            pass  # a wake-up is already pending

    # -- the thread ----------------------------------------------------------------------
    def _run(self) -> None:
        select = self._selector.select
        clock = self.clock
        while True:
            ready = select()
            # The stamp first: the kernel had these bytes when select returned.
            stamp = clock()
            woken: dict[asyncio.AbstractEventLoop, list[Channel]] = {}
            for key, _mask in ready:
                channel: Channel | None = key.data
                if channel is None:
                    self._apply_ops()
                    continue
                if self._receive(channel, stamp):
                    woken.setdefault(channel.loop, []).append(channel)
            for loop, channels in woken.items():
                _call(loop, _wake_all, channels)

    def _receive(self, channel: Channel, stamp: int) -> bool:
        try:
            data = channel.sock.recv(RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError as exc:
            channel.error = exc
            self._unregister(channel)
            return True
        if not data:
            channel.eof = True
            self._unregister(channel)
            return True
        channel.reads.append((stamp, data))
        channel.buffered += len(data)
        if channel.buffered > HIGH_WATER:
            channel.paused = True
            self._unregister(channel)
        return True

    def _apply_ops(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        while self._ops:
            op, channel = self._ops.popleft()
            if op == "add" and not channel.closed:
                self._register(channel)
            elif op == "resume" and not channel.closed and not channel.eof and channel.error is None:
                channel.paused = False
                self._register(channel)
            elif op == "close" and not channel.closed:
                channel.closed = True
                self._unregister(channel)
                try:
                    channel.sock.close()
                except OSError:
                    pass

    def _register(self, channel: Channel) -> None:
        if not channel.registered:
            try:
                self._selector.register(channel.sock, selectors.EVENT_READ, channel)
                channel.registered = True
            except (ValueError, KeyError, OSError) as exc:
                channel.error = exc if isinstance(exc, OSError) else OSError(str(exc))
                _call(channel.loop, channel.wake)

    def _unregister(self, channel: Channel) -> None:
        if channel.registered:
            channel.registered = False
            try:
                self._selector.unregister(channel.sock)
            except (KeyError, ValueError, OSError):
                pass


def _wake_all(channels: list[Channel]) -> None:
    for channel in channels:
        channel.wake()


def _call(loop: asyncio.AbstractEventLoop, fn: Callable, *args: object) -> None:
    try:
        loop.call_soon_threadsafe(fn, *args)
    except RuntimeError:
        pass  # that loop is closed: nobody is waiting any more


_RECEIVERS: dict[str, Receiver | ProcessReceiver] = {}
_LOCK = threading.Lock()


def process_receiver_supported() -> bool:
    return hasattr(socket, "send_fds") and hasattr(socket, "AF_UNIX") and sys.platform != "win32"


def receiver_cpu_seconds() -> float:
    """CPU seconds used by this process's receiver process so far (0 when
    there is none): benchmarks add it to the client's own CPU time."""
    found = _RECEIVERS.get("process")
    if isinstance(found, ProcessReceiver):
        return found.cpu_seconds() or 0.0
    return 0.0


def receiver_for(clock: Clock, kind: str = "process") -> Receiver | ProcessReceiver:
    """The process's receiver: one serves every event loop. `kind` is
    "process" (stamps in a process of their own, where the platform passes
    sockets between processes) or "thread"."""
    if kind == "process" and not process_receiver_supported():
        kind = "thread"
    with _LOCK:
        found = _RECEIVERS.get(kind)
        if isinstance(found, ProcessReceiver) and not found.alive:
            found = None
        if found is None:
            found = _RECEIVERS[kind] = ProcessReceiver() if kind == "process" else Receiver(clock)
        return found


class ProcessReceiver:
    """The same service as `Receiver`, from a process of its own
    (core/net/receiver_proc.py): stamps never wait for this process's
    interpreter lock, its garbage collector or its event loop. A thread here
    takes the stamped frames the child forwards and hands them to each
    connection's loop; how late it runs changes nothing in the stamps."""

    recv_source = "receiver-process"

    def __init__(self) -> None:
        import itertools
        import struct
        import subprocess
        from pathlib import Path

        from infertui.core.net import receiver_proc

        self._frame = receiver_proc.FRAME
        self._u32 = struct.Struct("<I")
        self._ids = itertools.count(1)
        self._channels: dict[int, Channel] = {}
        self._control, child_control = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._data, child_data = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        for sock in (child_control, child_data):
            sock.set_inheritable(True)
        self._lock = threading.Lock()
        self._proc = subprocess.Popen(
            [sys.executable, "-I", str(Path(receiver_proc.__file__)), str(child_control.fileno()),
             str(child_data.fileno())],
            pass_fds=(child_control.fileno(), child_data.fileno()), stdin=subprocess.DEVNULL)
        child_control.close()
        child_data.close()
        self._thread = threading.Thread(target=self._demux, name="infertui-receiver-demux", daemon=True)
        self._thread.start()
        import atexit

        atexit.register(self.stop)

    def stop(self) -> None:
        """End the child and wait for it: no process is left behind, and its
        CPU time is counted with this process's children."""
        try:
            self._control.close()
        except OSError:
            pass
        try:
            self._proc.wait(timeout=2)
        except Exception:  # noqa: BLE001 - a child that does not end is killed
            self._proc.kill()

    @property
    def alive(self) -> bool:
        return self._proc.poll() is None

    def cpu_seconds(self) -> float | None:
        """CPU time the receiver process has used (Linux; None elsewhere), so
        a benchmark can count it with the client's own."""
        try:
            with open(f"/proc/{self._proc.pid}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    # -- from the event loop ------------------------------------------------------
    def add(self, channel: Channel) -> None:
        cid = next(self._ids)
        channel.cid = cid
        self._channels[cid] = channel
        channel.registered = True
        self._send(b"A", cid, channel.sock.fileno())

    def resume(self, channel: Channel) -> None:
        if channel.cid is not None and not channel.closed:
            channel.paused = False
            self._send(b"R", channel.cid)

    def close(self, channel: Channel) -> None:
        if channel.closed:
            return
        channel.closed = True
        if channel.cid is not None:
            self._send(b"C", channel.cid)
            self._channels.pop(channel.cid, None)
        try:
            channel.sock.close()  # the child closes its own copy
        except OSError:
            pass

    def _send(self, op: bytes, cid: int, fd: int | None = None) -> None:
        msg = op + self._u32.pack(cid)
        with self._lock:
            try:
                if fd is None:
                    self._control.send(msg)
                else:
                    socket.send_fds(self._control, [msg], [fd])
            except OSError:
                pass  # the child is gone; reads will end with the connection

    # -- the demultiplexing thread ---------------------------------------------
    def _demux(self) -> None:
        frame, u32 = self._frame, self._u32
        buf = bytearray()
        need = frame.size
        while True:
            try:
                got = self._data.recv(1 << 20)
            except OSError:
                got = b""
            if not got:
                self._child_gone()
                return
            buf += got
            woken: dict[asyncio.AbstractEventLoop, list[Channel]] = {}
            pos = 0
            while len(buf) - pos >= need:
                cid, stamp, length = frame.unpack_from(buf, pos)
                if length == 0xFFFFFFFF:
                    if len(buf) - pos < need + 4:
                        break
                    code = u32.unpack_from(buf, pos + need)[0]
                    pos += need + 4
                    channel = self._channels.get(cid)
                    if channel is not None:
                        channel.error = OSError(code, os.strerror(code))
                        woken.setdefault(channel.loop, []).append(channel)
                    continue
                if len(buf) - pos < need + length:
                    break
                data = bytes(buf[pos + need:pos + need + length])
                pos += need + length
                channel = self._channels.get(cid)
                if channel is None or channel.closed:
                    continue
                if length == 0:
                    channel.eof = True
                else:
                    channel.reads.append((stamp, data))
                    channel.buffered += length
                    if channel.buffered > HIGH_WATER and not channel.paused:
                        channel.paused = True
                        self._send(b"P", cid)
                woken.setdefault(channel.loop, []).append(channel)
            del buf[:pos]
            for loop, channels in woken.items():
                _call(loop, _wake_all, channels)

    def _child_gone(self) -> None:
        for channel in list(self._channels.values()):
            if channel.error is None and not channel.eof:
                channel.error = OSError(0, "infertui's receiver process ended")
            _call(channel.loop, channel.wake)
