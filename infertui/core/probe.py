"""One probe: one streaming request, timed where the bytes leave and arrive.

"Request sent" is read by infertui's own network backend (core/net)
immediately before the request's last bytes are handed to the kernel;
arrivals are read in the socket's read callback, before any parsing
(`sent_source: "socket"`, `recv_source: "read-callback"`). In-process
transports (the simulator, test fakes) report the send through httpx's trace
extension instead. Everything before the send (infertui's own concurrency
slot, the connection pool, connecting) is recorded apart and never folded
into the provider's latency. Every outcome is a `ProbeResult`; no exception
escapes except cancellation, which is recorded first.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any, Callable, Mapping

import httpx

from infertui.core.clock import Clock, monotonic_ns
from infertui.core.errors import http_error, shorten
from infertui.core.events import ProbeFinished, ProbeHeaders, ProbeSent, RunEvent
from infertui.core.limits import DEFAULT_LIMITS, BodyDecoder, LimitExceeded, ProbeLimits
from infertui.core.loopmon import SATURATED_LAG_MS, LoopMonitor
from infertui.core.net.stream import CURRENT_SEND, SendRecord, StampedStream
from infertui.core.net.threaded import ThreadStampedStream
from infertui.core.probe_body import BodyReader, describe_non_stream
from infertui.core.redact import Redactor
from infertui.core.result import ErrorKind, ProbeError, ProbeResult, Status
from infertui.core.sse import SSELimitError
from infertui.core.targets import ProbeParams, Target
from infertui.core.wire import wire_format
from infertui.core.wire.base import ProtocolError, as_str

REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-generation-id", "openai-request-id",
                      "x-amzn-requestid", "cf-ray")
STALE_RETRY_REASON = ("the server had closed the reused connection before the request reached "
                      "it; sent again on a new connection")

Emit = Callable[[RunEvent], None]


def _no_emit(_event: RunEvent) -> None:
    return None


class _Timing:
    """Marks from httpx's trace callback, on the probe's clock."""

    __slots__ = ("clock", "on_sent", "connect_start", "connected", "sent", "headers")

    def __init__(self, clock: Clock, on_sent: Callable[[], None]) -> None:
        self.clock = clock
        self.on_sent = on_sent
        self.reset()

    def reset(self) -> None:
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
    limits: ProbeLimits = DEFAULT_LIMITS,
) -> ProbeResult:
    result = ProbeResult(probe_id=probe_id, target=target, seq=seq, warmup=warmup, nonce=nonce)
    probe = _Probe(client, target, params, result, clock, emit, environ, limits)
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
                 environ: Mapping[str, str] | None, limits: ProbeLimits) -> None:
        self.client = client
        self.target = target
        self.params = params
        self.result = result
        self.clock = clock
        self.emit = emit
        self.limits = limits
        self.fmt = wire_format(target.provider.api)
        self.environ = environ
        self.api_key = target.provider.api_key(environ)
        self.redactor = Redactor([self.api_key])
        self.timing = _Timing(clock, self._announce_sent)
        self.sent_ns: int | None = None
        self.record = SendRecord()
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
            text = shorten(self.redactor.text(message.strip() or kind.value))
            self.result.error = ProbeError(kind, text, http_status)
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
                # Stamps from the receiver process or thread do not wait for
                # the loop; only loop-stamped timings carry its lag.
                loop_stamped = r.recv_source not in ("receiver-process", "receiver-thread")
                r.client_saturated = loop_stamped and lag is not None and lag > SATURATED_LAG_MS
        self._redact()

    def _redact(self) -> None:
        """No form of the key survives in anything the server sent back."""
        red = self.redactor
        if not red:
            return
        r = self.result
        r.request_id = red.optional(r.request_id)
        r.server_model = red.optional(r.server_model)
        r.system_fingerprint = red.optional(r.system_fingerprint)
        r.finish_reason = red.optional(r.finish_reason)
        if r.error is not None:
            r.error.message = red.text(r.error.message)
        if r.chunks:
            texts = red.pieces([c.text for c in r.chunks])
            for chunk, text in zip(r.chunks, texts, strict=True):
                chunk.text = text

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
            headers = {"accept-encoding": "identity", **wire.headers}
            content = json.dumps(wire.body).encode() if wire.body is not None else None
            self.result.max_tokens = wire.max_tokens
            # Built once to fail early on a bad URL; rebuilt per attempt.
            self.client.build_request(wire.method, wire.url, headers=headers, content=content)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError, TypeError) as exc:
            self.fail(ErrorKind.BAD_REQUEST, f"cannot build the request: {exc}")
            return
        timeouts = provider.timeouts
        loop = asyncio.get_running_loop()
        total_deadline = loop.time() + timeouts.total
        phase = "headers"
        reader: BodyReader | None = None
        try:
            async with asyncio.timeout_at(min(total_deadline, loop.time() + timeouts.headers)) as deadline:
                response = await self._send(wire.method, wire.url, headers, content)
                try:
                    self._on_headers(response, start_ns)
                    status = response.status_code
                    if 300 <= status < 400:
                        self._redirect(response)
                        return
                    if status >= 400:
                        await self._read_error(response)
                        return
                    problem = await describe_non_stream(response, self.fmt, self.limits)
                    if problem is not None:
                        self.fail(ErrorKind.PROTOCOL, problem, status)
                        return
                    phase = "stall"
                    reader = BodyReader(self, response, self.limits)
                    await reader.read(deadline, loop, total_deadline, timeouts.stall)
                finally:
                    await response.aclose()
        except TimeoutError:
            which = "total" if loop.time() >= total_deadline - 0.001 else phase
            limit = {"total": timeouts.total, "headers": timeouts.headers, "stall": timeouts.stall}[which]
            what = {"total": "total time", "headers": "waiting for response headers",
                    "stall": "no data event"}[which]
            decoder = reader.decoder if reader is not None else None
            extra = (" (only keep-alive comments came)"
                     if which == "stall" and decoder is not None and decoder.comments else "")
            self.fail(ErrorKind.TIMEOUT, f"timeout ({which}): {what} for {limit:g} s{extra}")
        except httpx.TimeoutException as exc:
            label = "connect" if isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout)) else "read"
            limit = timeouts.connect if label == "connect" else timeouts.stall
            self.fail(ErrorKind.TIMEOUT, f"timeout ({label}): {_describe(exc)} after {limit:g} s")
        except httpx.ConnectError as exc:
            self.fail(ErrorKind.CONNECT, f"cannot connect to {provider.base_url}: {_describe(exc)}")
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            self._failed_exchange(exc)
        except (LimitExceeded, SSELimitError) as exc:
            self.fail(ErrorKind.PROTOCOL, str(exc), self.result.http_status)
        except ProtocolError as exc:
            self.fail(ErrorKind.PROTOCOL, str(exc), self.result.http_status)
        except httpx.HTTPError as exc:
            self.fail(ErrorKind.CONNECT, f"{type(exc).__name__}: {_describe(exc)}")
        except Exception as exc:  # noqa: BLE001 - becomes the probe's error
            # A provider's bad day (or a library's) must never become a crash,
            # nor cancel the probes running beside this one.
            self.fail(ErrorKind.PROTOCOL, f"unexpected {type(exc).__name__}: {_describe(exc)}")

    async def _send(self, method: str, url: str, headers: dict[str, str],
                    content: bytes | None) -> httpx.Response:
        """Send, once more when the first try provably never reached the
        server: a reused keep-alive connection the server had already closed
        (llama.cpp's server closes after each stream while advertising
        keep-alive), with nothing received after the request was written."""
        for attempt in (0, 1):
            self.timing.reset()
            record = self.record = SendRecord()
            token = CURRENT_SEND.set(record)
            try:
                request = self.client.build_request(method, url, headers=headers, content=content,
                                                    extensions={"trace": self.timing.trace})
                return await self.client.send(request, stream=True)
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
                reused = record.stream is not None and self.timing.connect_start is None
                if attempt == 0 and (record.writes == 0 or
                                     (reused and record.bytes_received_after_write == 0)):
                    self.result.retries += 1
                    self.result.retry_reason = STALE_RETRY_REASON
                    continue
                raise
            finally:
                CURRENT_SEND.reset(token)
        raise AssertionError("unreachable")

    def _failed_exchange(self, exc: Exception) -> None:
        """The connection failed after it was made: say whether the request
        went out, and whether any of the answer came back."""
        r = self.result
        record = self.record
        detail = _describe(exc)
        if r.http_status is not None:  # headers came: the body was cut
            chunks = len(r.chunks)
            self.fail(ErrorKind.TRUNCATED, f"the stream was cut off after {chunks} chunk"
                      f"{'s' if chunks != 1 else ''}: {detail}", r.http_status)
        elif record.writes == 0 and self.timing.sent is None:
            self.fail(ErrorKind.CONNECT, f"the connection failed before the request was sent: {detail}")
        elif record.bytes_received_after_write == 0:
            self.fail(ErrorKind.DISCONNECTED, "the request was sent, then the server closed the "
                      f"connection without answering ({detail})")
        elif "buffer" in detail.lower() or "too long" in detail.lower():
            self.fail(ErrorKind.PROTOCOL, "the response headers were too large (over 100 KiB) "
                      f"or malformed: {detail}")
        else:
            self.fail(ErrorKind.PROTOCOL, f"the response could not be read as HTTP: {detail}")

    def _on_headers(self, response: httpx.Response, start_ns: int) -> None:
        r = self.result
        now = self.clock()
        t = self.timing
        stream = response.extensions.get("network_stream")
        record = self.record
        if isinstance(stream, (StampedStream, ThreadStampedStream)) and record.last_write_ns is not None:
            self.sent_ns, r.sent_source, r.recv_source = (record.last_write_ns, stream.sent_source,
                                                          stream.recv_source)
            headers_at = stream.last_read_ns if stream.last_read_ns is not None else now
        elif t.sent is not None:
            self.sent_ns, r.sent_source, r.recv_source = t.sent, "trace", "coroutine"
            headers_at = t.headers if t.headers is not None else now
        else:
            # A transport that reports neither: the moment it returned.
            self.sent_ns, r.sent_source, r.recv_source = now, "fallback", "coroutine"
            headers_at = now
        r.sent_clock_ns = self.sent_ns
        # The send stamp's instant on the wall clock (not this moment: the
        # headers may have come long after the request went out).
        sent_wall = datetime.now(UTC) - timedelta(microseconds=max(0, now - self.sent_ns) / 1000)
        r.sent_at = sent_wall.isoformat(timespec="microseconds").replace("+00:00", "Z")
        r.pre_send_ns = self.sent_ns - start_ns
        if t.connect_start is not None and t.connected is not None:
            r.connect_ns = t.connected - t.connect_start
        elif r.sent_source != "fallback":
            r.connect_ns = 0  # a reused connection
        r.headers_ns = max(0, headers_at - self.sent_ns)
        r.http_status = response.status_code
        for name in REQUEST_ID_HEADERS:
            value = as_str(response.headers.get(name))
            if value:
                r.request_id = self.redactor.text(value)
                break
        self._announce_sent()
        self.emit(ProbeHeaders(r.probe_id, response.status_code, r.headers_ns))

    def _redirect(self, response: httpx.Response) -> None:
        status = response.status_code
        location = as_str(response.headers.get("location"), 300)
        where = f" to {location}" if location else ""
        self.fail(ErrorKind.BAD_REQUEST,
                  f"HTTP {status}: redirected{where}, not followed (infertui measures the URL it "
                  "was given; point base_url at the new address)", status)

    async def _read_error(self, response: httpx.Response) -> None:
        limit = self.limits.max_error_body
        decoder = BodyDecoder(response.headers.get("content-encoding", ""), 4 * limit)
        body = bytearray()
        try:
            async for part in response.aiter_raw():
                body.extend(decoder.feed(part))
                if len(body) >= limit:
                    break
        except (httpx.HTTPError, LimitExceeded):
            pass  # what arrived is the message
        text = bytes(body[:limit]).decode("utf-8", errors="replace")
        message = None
        try:
            message = as_str(self.fmt.error_message(json.loads(text)), 2000)
        except (ValueError, TypeError, AttributeError, RecursionError):
            pass
        message = message or text.strip() or response.reason_phrase or f"HTTP {response.status_code}"
        self.result.error = http_error(response.status_code, message, response.headers, self.redactor)
        self.result.status = Status.ERROR


def _describe(exc: BaseException) -> str:
    """What happened, never an empty string."""
    text = str(exc).strip()
    cause = exc.__cause__
    if not text and cause is not None:
        text = str(cause).strip()
    return text or type(exc).__name__
