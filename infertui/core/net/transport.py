"""An httpx transport over httpcore with infertui's stamping backend.

httpx builds the request and hands back the response; httpcore speaks
HTTP/1.1 and keeps the connection; `StampingBackend` owns the sockets. The
response carries its `StampedStream` in `extensions["network_stream"]`.

Proxies from the environment (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY)
are honoured here, through the same backend, so a proxied probe is stamped
the same way (the client is built with `trust_env=False` so httpx does not
mount transports of its own for them).
"""

from __future__ import annotations

import ssl
import urllib.request
from typing import Any, AsyncIterable, AsyncIterator

import httpcore
import httpx

from infertui.core.clock import Clock, monotonic_ns
from infertui.core.net.backend import StampingBackend

_MAP: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    # Most specific first.
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


def _mapped(exc: Exception, request: httpx.Request | None) -> Exception:
    for source, target in _MAP:
        if isinstance(exc, source):
            mapped = target(str(exc), request=request) if request is not None else target(str(exc))
            mapped.__cause__ = exc
            return mapped
    return exc


class _Body(httpx.AsyncByteStream):
    def __init__(self, stream: AsyncIterable[bytes], request: httpx.Request) -> None:
        self._stream = stream
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for part in self._stream:
                yield part
        except Exception as exc:  # noqa: BLE001 - re-raised as httpx's own kind
            raise _mapped(exc, self._request) from None

    async def aclose(self) -> None:
        close = getattr(self._stream, "aclose", None)
        if close is not None:
            try:
                await close()
            except Exception as exc:  # noqa: BLE001 - re-raised as httpx's own kind
                raise _mapped(exc, self._request) from None


class StampedTransport(httpx.AsyncBaseTransport):
    def __init__(self, *, ssl_context: ssl.SSLContext | None = None, max_connections: int = 1,
                 keepalive_expiry: float | None = 5.0, clock: Clock = monotonic_ns,
                 trust_env: bool = True) -> None:
        self.backend = StampingBackend(clock)
        self._ssl_context = ssl_context
        self._limits: dict[str, Any] = {"max_connections": max_connections,
                                        "max_keepalive_connections": max_connections,
                                        "keepalive_expiry": keepalive_expiry}
        self._direct = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context, network_backend=self.backend, **self._limits)
        self._trust_env = trust_env
        self._proxies: dict[str, httpcore.AsyncConnectionPool] = {}

    def _pool_for(self, url: httpx.URL) -> httpcore.AsyncConnectionPool:
        if not self._trust_env:
            return self._direct
        proxy_url = _proxy_for(url)
        if proxy_url is None:
            return self._direct
        pool = self._proxies.get(proxy_url)
        if pool is None:
            proxy = httpx.URL(proxy_url)
            if proxy.scheme not in ("http", "https"):
                raise httpx.ProxyError(f"proxy {proxy.scheme}:// is not supported "
                                       "(set NO_PROXY for this host, or use an http:// proxy)")
            pool = httpcore.AsyncHTTPProxy(
                proxy_url=httpcore.URL(scheme=proxy.raw_scheme, host=proxy.raw_host,
                                       port=proxy.port, target=proxy.raw_path),
                ssl_context=self._ssl_context, network_backend=self.backend, **self._limits)
            self._proxies[proxy_url] = pool
        return pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=request.url.raw_scheme, host=request.url.raw_host,
                             port=request.url.port, target=request.url.raw_path),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        try:
            response = await self._pool_for(request.url).handle_async_request(core_request)
        except Exception as exc:  # noqa: BLE001 - re-raised as httpx's own kind
            raise _mapped(exc, request) from None
        assert isinstance(response.stream, AsyncIterable)
        return httpx.Response(status_code=response.status, headers=response.headers,
                              stream=_Body(response.stream, request),
                              extensions=response.extensions)

    async def aclose(self) -> None:
        await self._direct.aclose()
        for pool in self._proxies.values():
            await pool.aclose()


def _proxy_for(url: httpx.URL) -> str | None:
    proxies = urllib.request.getproxies_environment()
    if not proxies:
        return None
    host = url.host
    # Present in the stdlib since Python 2 but missing from typeshed.
    if host and urllib.request.proxy_bypass_environment(host, proxies):  # type: ignore[attr-defined]
        return None
    return proxies.get(url.scheme) or proxies.get("all")
