"""Local-server detection on a busy machine: a server whose accept is slow
is still found (a connect that times out is tried again, with more time),
and a refused port is final at once."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

from infertui.core.models import port_open


async def test_a_slow_accept_is_retried_and_found():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    # One connection waiting in the backlog: the next SYN waits too.
    waiting = socket.create_connection(("127.0.0.1", port))
    try:
        assert await port_open(port, timeout_s=0.05, attempts=1) is False

        def accept_later() -> None:
            time.sleep(0.15)
            server.settimeout(2)
            for _ in range(3):
                try:
                    server.accept()
                except OSError:
                    return

        threading.Thread(target=accept_later, daemon=True).start()
        assert await port_open(port, timeout_s=0.05, attempts=4) is True
    finally:
        waiting.close()
        server.close()


async def test_a_refused_port_is_not_retried():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    started = time.perf_counter()
    assert await port_open(port, timeout_s=0.5, attempts=3) is False
    assert time.perf_counter() - started < 0.5
    await asyncio.sleep(0)
