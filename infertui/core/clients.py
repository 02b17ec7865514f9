"""One `httpx.AsyncClient` per provider, with explicit timeouts and limits.

Simulated providers get the in-process simulator transport; tests and tools
can hand in any transport (a fake provider is just another transport).
"""

from __future__ import annotations

import functools
import importlib
import ssl
from typing import Callable

import httpx

from infertui.core.clock import Clock, monotonic_ns
from infertui.core.net.transport import StampedTransport
from infertui.core.targets import Provider

TransportFactory = Callable[[Provider], "httpx.AsyncBaseTransport | None"]

@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process: loading the CA bundle takes tens
    of ms of CPU, which must not happen per client, nor while streams run."""
    return httpx.create_ssl_context()


def preload_http_stack() -> None:
    """Import what httpx loads lazily on its first connection (httpcore's
    backend, anyio's asyncio backend, h11): importing takes tens of ms of CPU,
    which must happen before the first probe, not while others stream."""
    for name in ("h11", "httpcore", "anyio", "anyio._backends._asyncio", "httpcore._backends.anyio"):
        try:
            importlib.import_module(name)
        except ImportError:  # a future httpx may use other modules; only a warm-up
            pass


class ClientPool:
    """Clients are per lane: httpcore's pool scans all its connections for
    every request and response (O(connections) with socket checks), which at
    64 connections in one pool saturated the event loop; one small client per
    concurrency slot keeps that scan to one connection."""

    def __init__(
        self,
        transport_factory: TransportFactory | None = None,
        *,
        clock: Clock = monotonic_ns,
        sim_seed: int = 0,
        sim_time_scale: float = 1.0,
    ) -> None:
        self._factory = transport_factory
        self._clients: dict[tuple[str, tuple[str, int | str] | None], httpx.AsyncClient] = {}
        self._clock = clock
        self._sim_seed = sim_seed
        self._sim_time_scale = sim_time_scale
        self._sim_transport: httpx.AsyncBaseTransport | None = None

    def _transport(self, provider: Provider, limit: int) -> httpx.AsyncBaseTransport:
        if self._factory is not None:
            transport = self._factory(provider)
            if transport is not None:
                return transport
        if provider.simulated:
            if self._sim_transport is None:
                from infertui.core.simulator.transport import SimTransport

                self._sim_transport = SimTransport(
                    seed=self._sim_seed, clock=self._clock, time_scale=self._sim_time_scale
                )
            return self._sim_transport
        # infertui's own network path: stamps taken where bytes leave and arrive.
        return StampedTransport(
            ssl_context=_tls_context() if provider.base_url.startswith("https:") else None,
            max_connections=limit, clock=self._clock, trust_env=True)

    def client(self, provider: Provider, max_connections: int | None = None,
               lane: tuple[str, int | str] | None = None) -> httpx.AsyncClient:
        """The client for a provider, or for one lane (a target's concurrency
        slot): a lane has its own one-connection client, like one user."""
        key = (provider.name, lane)
        existing = self._clients.get(key)
        if existing is not None:
            return existing
        t = provider.timeouts
        # Read timeouts are enforced per phase by the probe (headers, stall,
        # total); httpx only bounds connecting and writing.
        timeout = httpx.Timeout(connect=t.connect, read=None, write=t.connect, pool=t.total)
        limit = 1 if lane is not None else max(1, max_connections or provider.max_concurrency)
        client = httpx.AsyncClient(
            timeout=timeout,
            transport=self._transport(provider, limit),
            follow_redirects=False,
            # Proxies from the environment are the transport's business (so
            # proxied probes are stamped the same way); httpx must not mount
            # transports of its own for them.
            trust_env=False,
        )
        self._clients[key] = client
        return client

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()
