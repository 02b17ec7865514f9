"""What one probe may cost, whatever a server sends.

A hostile or broken server can send one endless line, a gzip bomb, an
endless stream, or keep-alive comments forever. Each is bounded per probe,
so memory stays bounded and the probes beside it keep their timings; the
probe ends `protocol` (or `timeout`) with a message saying which limit.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Iterator

from infertui.core.sse import MAX_EVENT, MAX_LINE


@dataclass(frozen=True)
class ProbeLimits:
    max_line: int = MAX_LINE  # characters in one SSE line
    max_event: int = MAX_EVENT  # characters in one SSE event
    max_body_bytes: int = 64 << 20  # decoded bytes of one response body
    max_chunks: int = 1_000_000  # text chunks kept in one probe's timeline
    max_error_body: int = 64 << 10  # bytes read of an error response
    # Output past max(TOKEN_FACTOR x max_tokens, TOKEN_FLOOR) estimated tokens
    # is a runaway stream, not an answer.
    token_factor: int = 8
    token_floor: int = 4096


DEFAULT_LIMITS = ProbeLimits()


class LimitExceeded(Exception):
    """The response broke one of the probe's limits; the message says which."""


class BodyDecoder:
    """Undo a Content-Encoding, never producing more than `limit` bytes in
    all (a 1 MB gzip bomb must not become a gigabyte in memory). infertui asks
    for `identity`; this is for servers that compress anyway."""

    def __init__(self, encoding: str, limit: int) -> None:
        self.encoding = encoding.strip().lower() or "identity"
        self.limit = limit
        self.total = 0
        if self.encoding in ("identity", "none"):
            self._z = None
        elif self.encoding in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self.encoding == "deflate":
            self._z = zlib.decompressobj()
        else:
            raise LimitExceeded(f"the server compressed the stream with {self.encoding!r}, "
                                "although infertui asked for identity (uncompressed)")
        self._raw_deflate_tried = False

    def feed(self, data: bytes) -> bytes:
        """All of `data` decoded at once (for small bodies: error pages)."""
        return b"".join(self.pieces(data))

    def pieces(self, data: bytes, step: int = 64 << 10) -> Iterator[bytes]:
        """`data` decoded in pieces of at most `step` bytes, so a caller can
        let other work run between them: inflating a bomb is never one long
        stretch of CPU."""
        if self._z is None:
            self._count(len(data))
            yield data
            return
        pending = data
        while pending:
            try:
                out = self._z.decompress(pending, step)
            except zlib.error as exc:
                if self.encoding == "deflate" and not self._raw_deflate_tried and self.total == 0:
                    # "deflate" is sometimes raw deflate, without the zlib header.
                    self._raw_deflate_tried = True
                    self._z = zlib.decompressobj(-zlib.MAX_WBITS)
                    yield from self.pieces(data, step)
                    return
                raise LimitExceeded(f"the {self.encoding} body could not be decompressed: {exc}") from None
            pending = self._z.unconsumed_tail
            if out:
                self._count(len(out))
                yield out

    def _count(self, n: int) -> None:
        self.total += n
        if self.total > self.limit:
            raise LimitExceeded(f"the response body grew past {self.limit >> 20} MiB "
                                f"({'decompressed' if self._z is not None else 'received'}); "
                                "infertui stopped reading it")
