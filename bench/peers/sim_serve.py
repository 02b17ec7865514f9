"""The simulator as a loopback server in a process of its own, with the
profile `fast` made exact: every stream's first content event leaves 250 ms
after the server has read its request, then 40 one-token chunks at 50 per
second. Its ground truth (GET /_sim/ground-truth) is what the tools'
TTFTs are checked against.

Run: python bench/peers/sim_serve.py PORT_FILE   (writes the port there once listening)
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from infertui.core.simulator.server import SimServer

TTFT_MS = 250.0
ANSWER_TOKENS = 40
EXACT = {"ttft_ms": TTFT_MS, "ttft_sigma": 0.0, "prefill_ms_per_ktok": 0.0, "tokens_per_s": 50.0,
         "rate_sigma": 0.0, "gap_sigma": 0.0, "answer_tokens": ANSWER_TOKENS, "answer_sigma": 0.0,
         "chunk_tokens_min": 1, "chunk_tokens_max": 1}
MODEL = "fast"


async def main(port_file: Path) -> None:
    server = SimServer(port=0, seed=1, overrides={MODEL: EXACT})
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    port_file.write_text(str(server.port))  # noqa: ASYNC240 - once, before anything else runs
    await stop.wait()
    await server.stop()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
