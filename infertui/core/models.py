"""Which models a provider serves, and which local servers are running.

The TUI's target picker calls these from a worker; they raise nothing a
provider's bad day can cause: failures come back as text to show.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Iterable, Mapping
from urllib.parse import urlsplit

import httpx

from infertui.core.errors import redact, shorten
from infertui.core.targets import Provider
from infertui.core.wire import wire_format

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


@dataclass
class ModelList:
    provider: str
    models: list[str] = field(default_factory=list)
    error: str | None = None  # why the list is empty, for the user

    @property
    def ok(self) -> bool:
        return self.error is None


async def list_models(client: httpx.AsyncClient, provider: Provider,
                      environ: Mapping[str, str] | None = None, timeout_s: float = 8.0) -> ModelList:
    """GET the provider's model list through its own wire format."""
    key = provider.api_key(environ)
    if provider.needs_key() and not key:
        return ModelList(provider.name, error=f"no API key: export {provider.api_key_env}")
    fmt = wire_format(provider.api)
    try:
        wire = fmt.models_request(provider, key)
        response = await asyncio.wait_for(
            client.request(wire.method, wire.url, headers=wire.headers), timeout_s)
    except (TimeoutError, httpx.TimeoutException):
        return ModelList(provider.name, error=f"no answer from {provider.base_url} in {timeout_s:g} s")
    except httpx.HTTPError as exc:
        message = redact(str(exc) or type(exc).__name__, [key])
        return ModelList(provider.name, error=shorten(f"cannot list models: {message}"))
    except (OSError, ValueError) as exc:
        return ModelList(provider.name, error=shorten(f"cannot list models: {exc}"))
    try:
        payload = json.loads(response.text)
    except ValueError:
        payload = None
    if response.status_code >= 400:
        detail = None
        try:
            detail = fmt.error_message(payload) if payload is not None else None
        except (AttributeError, KeyError, TypeError):
            detail = None
        detail = detail or response.reason_phrase or ""
        return ModelList(provider.name, error=shorten(redact(
            f"HTTP {response.status_code} listing models: {detail}".rstrip(": "), [key])))
    try:
        models = fmt.parse_models(payload)
    except (AttributeError, KeyError, TypeError, ValueError):
        models = []
    if not models:
        return ModelList(provider.name, error="the model list was empty or unreadable")
    return ModelList(provider.name, models=list(models))


def loopback_port(provider: Provider) -> int | None:
    """The port of a provider on this machine (None for remote ones)."""
    try:
        parts = urlsplit(provider.base_url)
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if host not in LOOPBACK_HOSTS and f"[{host}]" not in LOOPBACK_HOSTS:
        return None
    if port is None:
        port = 443 if parts.scheme == "https" else 80
    return port


async def port_open(port: int, host: str = "127.0.0.1", timeout_s: float = 0.3,
                    attempts: int = 3) -> bool:
    """A TCP connect to the port. A refusal is final (nothing listens); a
    connect that does not finish in time is tried again with twice the time,
    `attempts` times in all: on a busy machine a running server's accept can
    take longer than a first guess."""
    wait = timeout_s
    for _ in range(max(1, attempts)):
        try:
            _reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), wait)
        except TimeoutError:
            wait *= 2
            continue
        except OSError:
            return False
        writer.close()
        try:
            await writer.wait_closed()
        except OSError:
            pass
        return True
    return False


async def detect_local(providers: Iterable[Provider], timeout_s: float = 0.3) -> list[Provider]:
    """The loopback providers whose port accepts a connection, checked at once."""
    candidates = [(p, port) for p in providers
                  if not p.simulated and (port := loopback_port(p)) is not None]
    found = await asyncio.gather(*(port_open(port, timeout_s=timeout_s) for _p, port in candidates))
    return [p for (p, _port), up in zip(candidates, found, strict=True) if up]
