"""No TTFT below what the server physically did, on a loaded machine.

The server (bench/timing_server.py, a process of its own) logs when it read
each request and when it handed the first content event to the kernel. A
client stamps "sent" before its last write and the arrival after the bytes
came, so a correct client's TTFT can never be below the server's. A stamp
that a scheduler can move (httpcore's trace event under anyio 4.16, which
yields inside the write) produced TTFTs up to 50 ms below the truth; this
test runs 64 streams with every core busy and fails on a single one.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import httpcore
import httpx
import pytest

from infertui.core import metrics
from infertui.core.runner import Runner
from infertui.core.session import RunSettings
from infertui.core.targets import Api, ProbeParams, Provider, Target

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def truth_server(tmp_path):
    truth = tmp_path / "truth.txt"
    proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / "timing_server.py"), str(truth)],
                            stdout=subprocess.PIPE, text=True)
    port = int(proc.stdout.readline())
    yield port, truth
    proc.kill()
    proc.wait()


@pytest.fixture
def busy_cores():
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    yield
    for proc in burners:
        proc.kill()
        proc.wait()


def read_truth(path: Path) -> dict[str, float]:
    out = {}
    for line in path.read_text().splitlines():
        rid, read_ns, first_ns = line.split()
        out[rid] = (int(first_ns) - int(read_ns)) / 1e6
    return out


async def test_no_ttft_below_the_servers_truth_with_every_core_busy(truth_server, busy_cores):
    port, truth_path = truth_server
    provider = Provider(name="truth", api=Api.OPENAI, base_url=f"http://127.0.0.1:{port}/v1",
                        max_concurrency=64)
    runner = Runner([Target(provider, "bench")], ProbeParams("Count slowly.", max_tokens=40),
                    RunSettings(repeat=64, concurrency=64, nonce=True))
    session = await runner.run()
    await asyncio.sleep(0.2)
    truth = read_truth(truth_path)
    assert [p.status for p in session.probes].count("ok") == 64, [p.error for p in session.probes]
    below = []
    for probe in session.probes:
        assert probe.sent_source == "socket", probe.sent_source
        assert probe.recv_source == "receiver-process", probe.recv_source
        ttft = metrics.ttft_ms(probe)
        if ttft < truth[probe.nonce]:
            below.append((probe.nonce, ttft, truth[probe.nonce]))
    assert below == [], f"{len(below)} TTFTs below the server's truth: {below[:5]}"


def test_the_network_contract_infertui_times_through():
    """What the stamps rely on in httpcore, checked on the installed version:
    a pool that takes a network backend, and responses that carry their
    network stream. (anyio is not on the timing path at all.)"""
    import inspect

    assert "network_backend" in inspect.signature(httpcore.AsyncConnectionPool).parameters
    assert "network_backend" in inspect.signature(httpcore.AsyncHTTPProxy).parameters
    source = inspect.getsource(httpcore.AsyncHTTP11Connection.handle_async_request)
    assert '"network_stream"' in source
    assert issubclass(httpx.ReadError, httpx.TransportError)
