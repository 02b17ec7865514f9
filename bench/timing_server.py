"""A loopback streaming server that keeps the truth, for the timing benchmark.

Every chat completion's first content event is written TTFT_MS after the
server has read the whole request, then TOKENS more at TOKEN_MS intervals;
the connection stays open (keep-alive). For every request it appends one line
to the truth file: the request id (the 12 hex digits in `[…]` in the prompt), when
the request was read, and when the first content event was handed to the
kernel, both on CLOCK_MONOTONIC (`time.perf_counter_ns`), the clock every
client in the benchmark stamps with.

Run: python bench/timing_server.py TRUTH_FILE  (prints the port on stdout)
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time

TTFT_MS = 250.0
TOKENS = 40
TOKEN_MS = 20.0

_ID = re.compile(rb"\[([0-9a-f]{12})\]")  # the request id, in the prompt
HEAD = (b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n"
        b"connection: keep-alive\r\nx-request-id: %s\r\n\r\n")


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def _event(obj: dict) -> bytes:
    return _chunk(b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n")


TOKEN = _event({"id": "b", "object": "chat.completion.chunk", "model": "bench",
                "choices": [{"index": 0, "delta": {"content": "tok "}}]})
TAIL = (_event({"id": "b", "choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]})
        + _event({"id": "b", "choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": TOKENS}})
        + _chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")


class _Conn(asyncio.Protocol):
    def __init__(self, truth) -> None:
        self.truth = truth
        self.buf = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buf[:end].decode("latin-1")
            headers = {k.strip().lower(): v.strip() for k, _, v in
                       (line.partition(":") for line in head.split("\r\n")[1:])}
            length = int(headers.get("content-length", "0"))
            if len(self.buf) < end + 4 + length:
                return
            body = self.buf[end + 4:end + 4 + length]
            self.buf = self.buf[end + 4 + length:]
            read_ns = time.perf_counter_ns()
            found = _ID.search(body)
            self._answer(found.group(1).decode() if found else "-", read_ns)

    def _answer(self, rid: str, read_ns: int) -> None:
        loop = asyncio.get_running_loop()
        transport = self.transport
        due = loop.time() + TTFT_MS / 1000

        def first() -> None:
            if transport.is_closing():
                return
            # Stamped before the write: the client cannot see the bytes before
            # this time, so no correct client reads a TTFT below the truth.
            first_ns = time.perf_counter_ns()
            transport.write(HEAD % rid.encode() + TOKEN)
            self.truth.write(f"{rid} {read_ns} {first_ns}\n")
            self.truth.flush()
            for i in range(1, TOKENS):
                loop.call_at(due + i * TOKEN_MS / 1000, more, i)

        def more(i: int) -> None:
            if transport.is_closing():
                return
            transport.write(TOKEN + (TAIL if i == TOKENS - 1 else b""))

        loop.call_at(due, first)


async def main(truth_path: str) -> None:
    with open(truth_path, "a", buffering=1) as truth:  # noqa: ASYNC230 - once, before serving
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: _Conn(truth), "127.0.0.1", 0, backlog=1024)
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
