"""One probe: one streaming request, timed where the bytes arrive.

"Request sent" is the moment httpx reports the request's last byte written to
the socket (its `trace` extension); everything before it (infertui's own
concurrency slot, the connection pool, connecting) is recorded apart and never
folded into the provider's latency. Every outcome is a `ProbeResult`; no
exception escapes except cancellation, which is recorded first.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

import httpx

from infertui.core.clock import Clock, monotonic_ns
from infertui.core.errors import http_error, redact, shorten
from infertui.core.events import ProbeChunk, ProbeFinished, ProbeHeaders, ProbeSent, RunEvent
from infertui.core.loopmon import SATURATED_LAG_MS, LoopMonitor
from infertui.core.result import ErrorKind, ProbeError, ProbeResult, Status
from infertui.core.sse import SSEDecoder
from infertui.core.targets import ProbeParams, Target
from infertui.core.wire import wire_format
from infertui.core.wire.base import (
    FinishReport,
    MetaReport,
    ProtocolError,
    StreamFailure,
    TextDelta,
    UsageReport,
)

REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-generation-id", "openai-request-id",
                      "x-amzn-requestid", "cf-ray")
MAX_ERROR_BODY = 64 * 1024

Emit = Callable[[RunEvent], None]


def _no_emit(_event: RunEvent) -> None:
    return None


class _StallWatchdog:
    """Expires the probe's deadline when no read has completed for `stall_s`."""

    __slots__ = ("loop", "deadline", "stall_s", "last_read", "_handle")

    def __init__(self, loop: asyncio.AbstractEventLoop, deadline: asyncio.Timeout, stall_s: float) -> None:
        self.loop = loop
        self.deadline = deadline
        self.stall_s = stall_s
        self.last_read = loop.time()
        self._handle: asyncio.TimerHandle | None = loop.call_at(self.last_read + stall_s, self._check)

    def _check(self) -> None:
        due = self.last_read + self.stall_s
        if self.loop.time() >= due:
            self._handle = None
            self.deadline.reschedule(self.loop.time())  # fires now: TimeoutError in the probe
        else:
            self._handle = self.loop.call_at(due, self._check)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


class _Timing:
    """Marks from httpx's trace callback, on the probe's clock."""

    __slots__ = ("clock", "on_sent", "connect_start", "connected", "sent", "headers")

    def __init__(self, clock: Clock, on_sent: Callable[[], None]) -> None:
        self.clock = clock
        self.on_sent = on_sent
        self.connect_start: int | None = None
        self.connected: int | None = None
        self.sent: int | None = None
        self.headers: int | None = None

    async def trace(self, name: str, info: Mapping[str, Any]) -> None:
        now = self.clock()
        if name.endswith("send_request_body.complete"):
            self.sent = now
            self.on_sent()
        elif name.endswith("receive_response_headers.complete"):
            self.headers = now
        elif name == "connection.connect_tcp.started":
            self.connect_start = now
        elif name in ("connection.connect_tcp.complete", "connection.start_tls.complete",
                      "connection.connect_unix_socket.complete"):
            self.connected = now


async def run_probe(
    client: httpx.AsyncClient,
    target: Target,
    params: ProbeParams,
    *,
    probe_id: str,
    seq: int = 0,
    warmup: bool = False,
    nonce: str | None = None,
    clock: Clock = monotonic_ns,
    emit: Emit = _no_emit,
    queued_at_ns: int | None = None,
    monitor: LoopMonitor | None = None,
    environ: Mapping[str, str] | None = None,
) -> ProbeResult:
    result = ProbeResult(probe_id=probe_id, target=target, seq=seq, warmup=warmup, nonce=nonce)
    probe = _Probe(client, target, params, result, clock, emit, environ)
    start_ns = clock()
    if queued_at_ns is not None:
        result.queue_ns = start_ns - queued_at_ns
    try:
        await probe.execute(start_ns)
    except asyncio.CancelledError:
        result.status = Status.CANCELLED
        probe.finish(monitor)
        emit(ProbeFinished(result))
        raise
    probe.finish(monitor)
    emit(ProbeFinished(result))
    return result


class _Probe:
    def __init__(self, client: httpx.AsyncClient, target: Target, params: ProbeParams,
                 result: ProbeResult, clock: Clock, emit: Emit,
                 environ: Mapping[str, str] | None) -> None:
        self.client = client
        self.target = target
        self.params = params
        self.result = result
        self.clock = clock
        self.emit = emit
        self.fmt = wire_format(target.provider.api)
        self.api_key = target.provider.api_key(environ)
        self.environ = environ
        self.timing = _Timing(clock, self._announce_sent)
        self.sent_ns: int | None = None
        self.streaming = False
        self._sent_announced = False

    def _announce_sent(self) -> None:
        """ProbeSent goes out when the request's last byte does (or, for a
        transport that reports no trace, with the response headers)."""
        if not self._sent_announced:
            self._sent_announced = True
            r = self.result
            self.emit(ProbeSent(r.probe_id, self.target, r.seq, r.warmup))

    # -- outcome helpers ----------------------------------------------------
    def fail(self, kind: ErrorKind, message: str, http_status: int | None = None) -> None:
        if self.result.error is None:
            self.result.error = ProbeError(kind, shorten(redact(message, [self.api_key])), http_status)
        self.result.status = Status.ERROR

    def finish(self, monitor: LoopMonitor | None) -> None:
        r = self.result
        end = self.clock()
        if self.sent_ns is not None:
            r.end_ns = end - self.sent_ns
            if monitor is not None:
                offsets = {c.offset_ns for c in r.chunks}
                offsets.update(t for t in (r.headers_ns, r.first_byte_ns) if t is not None)
                lag = monitor.lag_at_ms(sorted(self.sent_ns + o for o in offsets))
                r.loop_lag_ms = lag
                r.client_saturated = lag is not None and lag > SATURATED_LAG_MS

    # -- the request --------------------------------------------------------
    async def execute(self, start_ns: int) -> None:
        provider = self.target.provider
        if provider.needs_key() and not self.api_key:
            self.fail(ErrorKind.AUTH, provider.key_problem(self.environ)
                      or f"no API key: export {provider.api_key_env}")
            return
        prompt = self.params.prompt if not self.result.nonce else f"[{self.result.nonce}] {self.params.prompt}"
        try:
            wire = self.fmt.build_request(self.target, self.params, self.api_key, prompt)
            request = self.client.build_request(
                wire.method, wire.url, headers=wire.headers,
                content=json.dumps(wire.body).encode() if wire.body is not None else None,
                extensions={"trace": self.timing.trace},
            )
        except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError) as exc:
            self.fail(ErrorKind.BAD_REQUEST, f"cannot build the request: {exc}")
            return
        timeouts = provider.timeouts
        loop = asyncio.get_running_loop()
        total_deadline = loop.time() + timeouts.total
        phase = "headers"
        try:
            async with asyncio.timeout_at(min(total_deadline, loop.time() + timeouts.headers)) as deadline:
                handed_ns = self.clock()
                response = await self.client.send(request, stream=True)
                try:
                    self._on_headers(response, handed_ns, start_ns)
                    if response.status_code >= 400:
                        await self._read_error(response)
                        return
                    phase = "stall"
                    await self._stream(response, deadline, loop, total_deadline, timeouts.stall)
                finally:
                    await response.aclose()
        except TimeoutError:
            which = "total" if loop.time() >= total_deadline - 0.001 else phase
            limit = {"total": timeouts.total, "headers": timeouts.headers, "stall": timeouts.stall}[which]
            what = {"total": "total time", "headers": "waiting for response headers",
                    "stall": "no data between chunks"}[which]
            self.fail(ErrorKind.TIMEOUT, f"timeout ({which}): {what} exceeded {limit:g} s")
        except httpx.TimeoutException as exc:
            label = "connect" if isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout)) else "read"
            limit = timeouts.connect if label == "connect" else timeouts.stall
            self.fail(ErrorKind.TIMEOUT, f"timeout ({label}): {type(exc).__name__} after {limit:g} s")
        except httpx.ConnectError as exc:
            self.fail(ErrorKind.CONNECT, f"cannot connect to {self.target.provider.base_url}: {exc or type(exc).__name__}")
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            if self.streaming:
                self.fail(ErrorKind.TRUNCATED, f"stream cut off: {exc or type(exc).__name__}")
            elif self.sent_ns is None:
                self.fail(ErrorKind.CONNECT, f"connection failed: {exc or type(exc).__name__}")
            else:
                self.fail(ErrorKind.PROTOCOL, f"bad response: {exc or type(exc).__name__}")
        except ProtocolError as exc:
            self.fail(ErrorKind.PROTOCOL, str(exc))
        except httpx.HTTPError as exc:
            self.fail(ErrorKind.CONNECT, f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # noqa: BLE001
            # A provider's bad day (or a library's) must never become a crash,
            # nor cancel the probes running beside this one.
            self.fail(ErrorKind.PROTOCOL, f"unexpected {type(exc).__name__}: {exc}")

    def _on_headers(self, response: httpx.Response, handed_ns: int, start_ns: int) -> None:
        r = self.result
        now = self.clock()
        t = self.timing
        if t.sent is not None:
            self.sent_ns, r.sent_source = t.sent, "trace"
        else:
            self.sent_ns, r.sent_source = handed_ns, "fallback"
        r.sent_clock_ns = self.sent_ns
        r.sent_at = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        r.pre_send_ns = self.sent_ns - start_ns
        if t.connect_start is not None and t.connected is not None:
            r.connect_ns = t.connected - t.connect_start
        elif t.sent is not None:
            r.connect_ns = 0  # a reused connection
        headers_at = t.headers if t.headers is not None else now
        r.headers_ns = headers_at - self.sent_ns
        r.http_status = response.status_code
        for name in REQUEST_ID_HEADERS:
            value = response.headers.get(name)
            if value:
                r.request_id = value
                break
        self._announce_sent()
        self.emit(ProbeHeaders(r.probe_id, response.status_code, r.headers_ns))

    async def _read_error(self, response: httpx.Response) -> None:
        body = bytearray()
        async for part in response.aiter_bytes():
            body.extend(part)
            if len(body) >= MAX_ERROR_BODY:
                break
        text = body.decode("utf-8", errors="replace")
        message = None
        try:
            message = self.fmt.error_message(json.loads(text))
        except ValueError:
            pass
        message = message or text.strip() or response.reason_phrase or f"HTTP {response.status_code}"
        self.result.error = http_error(response.status_code, message, response.headers, self.api_key)
        self.result.status = Status.ERROR

    async def _stream(self, response: httpx.Response, deadline: asyncio.Timeout,
                      loop: asyncio.AbstractEventLoop, total_deadline: float, stall_s: float) -> None:
        r = self.result
        sent = self.sent_ns
        assert sent is not None
        clock = self.clock
        decoder = SSEDecoder()
        parser = self.fmt.new_parser()
        last_read: int | None = None
        max_gap = 0
        failure: StreamFailure | None = None
        self.streaming = True
        body = response.aiter_bytes()
        # The stall limit is kept by a watchdog that wakes once per stall
        # period, not by re-arming a timer on every read (the hot path).
        deadline.reschedule(total_deadline)
        watchdog = _StallWatchdog(loop, deadline, stall_s)
        try:
            while failure is None:
                try:
                    raw = await body.__anext__()
                except StopAsyncIteration:
                    break
                watchdog.last_read = loop.time()
                now = clock()
                if r.first_byte_ns is None:
                    r.first_byte_ns = now - sent
                events = decoder.feed(raw)
                if not events:
                    continue
                if last_read is not None and now - last_read > max_gap:
                    max_gap = now - last_read
                last_read = now
                failure = self._apply(parser, events, now - sent)
        finally:
            watchdog.stop()
        if failure is None:
            failure = self._apply(parser, decoder.close(), clock() - sent)
        r.max_gap_ns = max_gap if last_read is not None else None
        if failure is not None:
            message = failure.message if not failure.code else f"{failure.message} ({failure.code})"
            self.fail(ErrorKind.PROVIDER_ERROR, message, response.status_code)
        elif not parser.finished:
            self.fail(ErrorKind.TRUNCATED, f"stream ended without a finish after {len(r.chunks)} chunks")
        else:
            r.status = Status.OK

    def _apply(self, parser: Any, events: list[Any], offset: int) -> StreamFailure | None:
        """Feed one read's events to the parser; all share the read's arrival
        offset, since their bytes arrived together."""
        r = self.result
        failure = None
        for event in events:
            r.event_count += 1
            for item in parser.feed(event):
                if type(item) is TextDelta:
                    r.record_chunk(offset, item.kind, item.text)
                    self.emit(ProbeChunk(r.probe_id, item.kind, item.text, offset))
                elif type(item) is UsageReport:
                    r.usage.merge(item.usage)
                elif type(item) is FinishReport:
                    r.finish_reason = item.reason
                elif type(item) is MetaReport:
                    r.server_model = r.server_model or item.server_model
                    r.system_fingerprint = r.system_fingerprint or item.system_fingerprint
                    if r.request_id is None and item.response_id:
                        r.request_id = item.response_id
                elif type(item) is StreamFailure:
                    failure = failure or item
        return failure
