"""Reading a probe's response body: bounded, decoded, parsed, stamped.

Each raw piece of the body is given the arrival time of the socket read that
carried it (`StampedStream.last_read_ns`, taken in the read callback before
any parsing); decoding, SSE, JSON and the wire format's parser come after and
never move it. Every limit of `ProbeLimits` is checked here.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import TYPE_CHECKING, Any, Iterator

import httpx

from infertui.core.events import ProbeChunk
from infertui.core.limits import BodyDecoder, LimitExceeded, ProbeLimits
from infertui.core.net.stream import StampedStream
from infertui.core.net.threaded import ThreadStampedStream
from infertui.core.redact import LiveMask
from infertui.core.result import ChunkKind, ErrorKind, Status
from infertui.core.sse import SSEDecoder
from infertui.core.wire.base import (
    FinishReport,
    MetaReport,
    StreamFailure,
    TextDelta,
    UsageReport,
    WireFormat,
    as_str,
)

if TYPE_CHECKING:
    from infertui.core.probe import _Probe

_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_PEEK = 16 << 10
SLICE = 16 << 10  # decoded bytes parsed before other probes get the loop again


class _StallWatchdog:
    """Expires the probe's deadline when no data event has come for `stall_s`
    (keep-alive comments do not count: they must not keep a dead stream
    alive until the total timeout)."""

    __slots__ = ("loop", "deadline", "stall_s", "last_data", "_handle")

    def __init__(self, loop: asyncio.AbstractEventLoop, deadline: asyncio.Timeout, stall_s: float) -> None:
        self.loop = loop
        self.deadline = deadline
        self.stall_s = stall_s
        self.last_data = loop.time()
        self._handle: asyncio.TimerHandle | None = loop.call_at(self.last_data + stall_s, self._check)

    def _check(self) -> None:
        due = self.last_data + self.stall_s
        if self.loop.time() >= due:
            self._handle = None
            self.deadline.reschedule(self.loop.time())  # fires now: TimeoutError in the probe
        else:
            self._handle = self.loop.call_at(due, self._check)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


async def describe_non_stream(response: httpx.Response, fmt: WireFormat,
                              limits: ProbeLimits) -> str | None:
    """What came back when a 2xx answer is plainly not an event stream (an
    HTML page, a JSON body), in words; None when it may be a stream."""
    ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in ("text/html", "application/json", "application/xhtml+xml"):
        return None
    decoder = BodyDecoder(response.headers.get("content-encoding", ""), 4 * _PEEK)
    body = bytearray()
    try:
        async for part in response.aiter_raw():
            body.extend(decoder.feed(part))
            if len(body) >= _PEEK:
                break
    except (httpx.HTTPError, LimitExceeded):
        pass
    status = response.status_code
    if ctype != "application/json":
        found = _TITLE.search(body)
        what = found.group(1) if found else body[:200]
        snippet = " ".join(bytes(what).decode("utf-8", "replace").split())[:160]
        return (f"expected an event stream, got an HTML page (HTTP {status}, {ctype})"
                + (f": {snippet!r}" if snippet else ""))
    text = bytes(body).decode("utf-8", "replace")
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError):
        return f"expected an event stream, got a JSON body that does not parse (HTTP {status})"
    message = None
    try:
        message = as_str(fmt.error_message(payload), 300)
    except (AttributeError, KeyError, TypeError):
        pass
    if isinstance(payload, dict) and ("choices" in payload or "content" in payload
                                      or "candidates" in payload) and not payload.get("error"):
        return (f"the server answered with a whole JSON response, not an event stream "
                f"(HTTP {status}): it does not stream this endpoint, or ignored `stream: true`")
    if message:
        return f"expected an event stream, got a JSON body (HTTP {status}): {message}"
    return f"expected an event stream, got a JSON body (HTTP {status}): {text[:160]!r}"


class BodyReader:
    def __init__(self, probe: _Probe, response: httpx.Response, limits: ProbeLimits) -> None:
        self.probe = probe
        self.response = response
        self.limits = limits
        stream = response.extensions.get("network_stream")
        self.stream = stream if isinstance(stream, (StampedStream, ThreadStampedStream)) else None
        self.decoder: SSEDecoder | None = None
        self.masks = ({kind: LiveMask(probe.redactor) for kind in ChunkKind}
                      if probe.redactor else None)
        max_tokens = probe.result.max_tokens or probe.params.max_tokens
        self.chunk_cap = min(limits.max_chunks, max(limits.token_factor * max_tokens, limits.token_floor))
        self.char_cap = 32 * self.chunk_cap
        self.text_chars = 0

    async def read(self, deadline: asyncio.Timeout, loop: asyncio.AbstractEventLoop,
                   total_deadline: float, stall_s: float) -> None:
        probe = self.probe
        r = probe.result
        sent = probe.sent_ns
        assert sent is not None
        clock = probe.clock
        stream = self.stream
        body = BodyDecoder(self.response.headers.get("content-encoding", ""),
                           self.limits.max_body_bytes)
        decoder = self.decoder = SSEDecoder(self.limits.max_line, self.limits.max_event,
                                            emit_comments=False)
        parser = probe.fmt.new_parser()
        last_read: int | None = None
        max_gap = 0
        failure: StreamFailure | None = None
        raw_pieces = self.response.aiter_raw()
        # The stall limit is kept by a watchdog that wakes once per stall
        # period, not by re-arming a timer on every read (the hot path).
        deadline.reschedule(total_deadline)
        watchdog = _StallWatchdog(loop, deadline, stall_s)
        try:
            while failure is None:
                try:
                    raw = await raw_pieces.__anext__()
                except StopAsyncIteration:
                    break
                # The read's own stamp, from the socket's read callback.
                now = stream.last_read_ns if stream is not None and stream.last_read_ns else clock()
                if r.first_byte_ns is None:
                    r.first_byte_ns = max(0, now - sent)
                offset = max(0, now - sent)
                counted = False
                for piece in self._slices(body, raw):
                    if piece is None:
                        # A big read: let the loop run other probes' read
                        # callbacks (their stamps) between its slices.
                        await asyncio.sleep(0)
                        continue
                    events = decoder.feed(piece)
                    if not events:
                        continue
                    watchdog.last_data = loop.time()  # data events only: comments are not kept
                    if not counted:
                        counted = True
                        if last_read is not None and now - last_read > max_gap:
                            max_gap = now - last_read
                        last_read = now
                    failure = self._apply(parser, events, offset)
                    if failure is not None:
                        break
        finally:
            watchdog.stop()
            r.event_count += decoder.comments
            self._flush_masks()
        if failure is None:
            failure = self._apply(parser, decoder.close(), max(0, clock() - sent))
            self._flush_masks()
        r.max_gap_ns = max_gap if last_read is not None else None
        if failure is not None:
            message = failure.message if not failure.code else f"{failure.message} ({failure.code})"
            probe.fail(ErrorKind.PROVIDER_ERROR, message, self.response.status_code)
        elif not parser.finished:
            n = len(r.chunks)
            if r.event_count == 0:
                ctype = self.response.headers.get("content-type", "") or "no content type"
                probe.fail(ErrorKind.TRUNCATED, f"the response ended with no event at all "
                           f"({body.total} bytes, {ctype})", self.response.status_code)
            else:
                probe.fail(ErrorKind.TRUNCATED, f"the stream ended without a finish after {n} chunk"
                           f"{'s' if n != 1 else ''}", self.response.status_code)
        else:
            r.status = Status.OK

    def _flush_masks(self) -> None:
        """What the live masks kept back turned out not to be a key: show it."""
        if self.masks is None:
            return
        r = self.probe.result
        offset = r.chunks[-1].offset_ns if r.chunks else 0
        for kind, mask in self.masks.items():
            rest = mask.flush()
            if rest:
                self.probe.emit(ProbeChunk(r.probe_id, kind, rest, offset))

    @staticmethod
    def _slices(body: BodyDecoder, raw: bytes) -> Iterator[bytes | None]:
        """The decoded read in slices of at most SLICE bytes, with a None
        (a cue to yield to the event loop) between slices."""
        first = True
        for decoded in body.pieces(raw, SLICE):
            for start in range(0, len(decoded), SLICE):
                if not first:
                    yield None
                first = False
                yield decoded[start:start + SLICE] if len(decoded) > SLICE else decoded

    def _apply(self, parser: Any, events: list[Any], offset: int) -> StreamFailure | None:
        """Feed one read's events to the parser; all share the read's arrival
        offset, since their bytes arrived together."""
        probe = self.probe
        r = probe.result
        emit = probe.emit
        masks = self.masks
        failure = None
        for event in events:
            r.event_count += 1
            for item in parser.feed(event):
                kind = type(item)
                if kind is TextDelta:
                    text = item.text
                    # The timeline keeps the chunk as it came (redacted across
                    # chunks when the probe ends); what is shown is masked live.
                    r.record_chunk(offset, item.kind, text)
                    self.text_chars += len(text)
                    shown = text if masks is None else masks[item.kind].feed(text)
                    emit(ProbeChunk(r.probe_id, item.kind, shown, offset))
                elif kind is UsageReport:
                    r.usage.merge(item.usage)
                elif kind is FinishReport:
                    r.finish_reason = item.reason
                elif kind is MetaReport:
                    r.server_model = r.server_model or item.server_model
                    r.system_fingerprint = r.system_fingerprint or item.system_fingerprint
                    if r.request_id is None and item.response_id:
                        r.request_id = item.response_id
                elif kind is StreamFailure:
                    failure = failure or item
        if len(r.chunks) > self.chunk_cap or self.text_chars > self.char_cap:
            limit = r.max_tokens or probe.params.max_tokens
            raise LimitExceeded(
                f"runaway output: the stream went on past {self.chunk_cap:,} chunks or "
                f"{self.char_cap:,} characters for max_tokens {limit} (at least "
                f"{self.limits.token_factor}x the limit); infertui stopped reading it")
        return failure
