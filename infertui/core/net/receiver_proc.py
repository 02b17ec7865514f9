"""The receiver process: wait on every probe socket, stamp, receive, forward.

Run by `ProcessReceiver` as `python -I receiver_proc.py CONTROL_FD DATA_FD`
(by file path, stdlib only, so it starts in milliseconds without importing
infertui). It shares nothing with the measuring process but the sockets: no
interpreter lock, no event loop, no garbage collector of the process that
parses, draws and saves. When the kernel says a socket has data, this reads
the clock first, then receives, then forwards `(channel, stamp, bytes)` to
the parent through DATA_FD; CLOCK_MONOTONIC is the same clock in both
processes.

Control messages (SOCK_SEQPACKET, one per datagram, an fd attached to "add"):
  b"A" + id   add the socket passed with the message as channel `id`
  b"C" + id   close channel `id`
  b"P" + id   pause reading channel `id` (the parent has enough unread)
  b"R" + id   resume reading channel `id`
Data frames (SOCK_STREAM): id (u32), stamp (u64), length (u32), bytes;
length 0 is the end of the stream, 0xFFFFFFFF an error whose errno follows
as a u32. Frames for one channel keep their order.
"""

from __future__ import annotations

import errno as errno_codes
import os
import selectors
import socket
import struct
import sys
import time

FRAME = struct.Struct("<IQI")
CONTROL = struct.Struct("<I")
END, ERROR = 0, 0xFFFFFFFF
RECV_BYTES = 256 << 10
OUT_HIGH = 32 << 20  # forwarded bytes the parent has not taken yet: stop reading past this


def main(control_fd: int, data_fd: int) -> None:
    control = socket.socket(fileno=control_fd)
    data = socket.socket(fileno=data_fd)
    data.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(control, selectors.EVENT_READ, None)
    socks: dict[int, socket.socket] = {}
    paused: set[int] = set()
    out = bytearray()
    reading_all = True
    clock = time.perf_counter_ns

    def register(cid: int) -> None:
        if cid in socks and cid not in paused and reading_all:
            try:
                sel.register(socks[cid], selectors.EVENT_READ, cid)
            except (KeyError, ValueError, OSError):
                pass

    def unregister(cid: int) -> None:
        sock = socks.get(cid)
        if sock is not None:
            try:
                sel.unregister(sock)
            except (KeyError, ValueError, OSError):
                pass

    def flush() -> None:
        nonlocal out
        if out:
            try:
                sent = data.send(out)
            except (BlockingIOError, InterruptedError):
                sent = 0
            del out[:sent]
        want_write = bool(out)
        try:
            key = sel.get_key(data)
        except KeyError:
            key = None
        if want_write and key is None:
            sel.register(data, selectors.EVENT_WRITE, "data")
        elif not want_write and key is not None:
            sel.unregister(data)

    while True:
        ready = sel.select()
        stamp = clock()  # the kernel had these bytes when select returned
        for key, _mask in ready:
            cid = key.data
            if cid is None:
                if not _control(control, socks, paused, register, unregister):
                    return
                continue
            if cid == "data":
                continue
            sock = socks.get(cid)
            if sock is None:
                continue
            try:
                chunk = sock.recv(RECV_BYTES)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError as exc:
                out += FRAME.pack(cid, stamp, ERROR) + CONTROL.pack(exc.errno or errno_codes.EIO)
                unregister(cid)
                continue
            if not chunk:
                out += FRAME.pack(cid, stamp, END)
                unregister(cid)
                continue
            out += FRAME.pack(cid, stamp, len(chunk))
            out += chunk
        flush()
        # Never hold more than OUT_HIGH for a parent that does not read.
        if reading_all and len(out) > OUT_HIGH:
            reading_all = False
            for cid in socks:
                unregister(cid)
        elif not reading_all and len(out) < OUT_HIGH // 4:
            reading_all = True
            for cid in socks:
                register(cid)


def _control(control: socket.socket, socks: dict, paused: set, register, unregister) -> bool:
    """Apply one control message; False when the parent is gone."""
    try:
        msg, fds, _flags, _addr = socket.recv_fds(control, 64, 4)
    except (BlockingIOError, InterruptedError):
        return True
    except OSError:
        return False
    if not msg:
        for fd in fds:
            os.close(fd)
        return False
    op, cid = msg[:1], CONTROL.unpack(msg[1:5])[0]
    if op == b"A":
        for fd in fds[1:]:
            os.close(fd)
        if fds:
            sock = socket.socket(fileno=fds[0])
            sock.setblocking(False)
            socks[cid] = sock
            register(cid)
    elif op == b"C":
        unregister(cid)
        paused.discard(cid)
        sock = socks.pop(cid, None)
        if sock is not None:
            sock.close()
    elif op == b"P":
        paused.add(cid)
        unregister(cid)
    elif op == b"R":
        paused.discard(cid)
        register(cid)
    return True


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
