"""Incremental Server-Sent Events decoder.

Gives the same events whatever the TCP chunk boundaries: LF, CRLF and CR line
ends (a CR at the end of one read and the LF at the start of the next are one
line end), multi-line `data:`, comments, a UTF-8 BOM, multi-byte characters
split between reads, and a last event without its blank line.

Bounded and linear: a line longer than `max_line` or an event longer than
`max_event` characters raises `SSELimitError` (a hostile server's endless
line must cost neither quadratic time nor unbounded memory); a partial line
is kept as a list of pieces, joined once when its end arrives.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass


MAX_LINE = 1 << 20  # characters in one line
MAX_EVENT = 4 << 20  # characters in one event's data


_COMMENT_LINES = re.compile(r"^:[^\n]*\n", re.MULTILINE)


class SSELimitError(ValueError):
    """A line or an event is larger than the decoder accepts."""


@dataclass(slots=True, frozen=True)
class SSEEvent:
    data: str
    event: str | None = None
    id: str | None = None
    comment: bool = False  # a `:` line; `data` holds its text


class SSEDecoder:
    __slots__ = ("_decoder", "_pieces", "_pending", "_cr_pending", "_data", "_data_len", "_event",
                 "_id", "_started", "max_line", "max_event", "emit_comments", "comments")

    def __init__(self, max_line: int = MAX_LINE, max_event: int = MAX_EVENT,
                 emit_comments: bool = True) -> None:
        # A probe only counts comments (keep-alives): a flood of them must
        # cost a counter, not an object each.
        self.emit_comments = emit_comments
        self.comments = 0
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pieces: list[str] = []  # the current line so far, not yet ended
        self._pending = 0  # its length
        self._cr_pending = False
        self._data: list[str] = []
        self._data_len = 0
        self._event: str | None = None
        self._id: str | None = None
        self._started = False
        self.max_line = max_line
        self.max_event = max_event

    def feed(self, raw: bytes) -> list[SSEEvent]:
        return self._text(self._decoder.decode(raw))

    def close(self) -> list[SSEEvent]:
        """End of stream: flush what is left, including a last event that had
        no blank line after it."""
        events = self._text(self._decoder.decode(b"", final=True))
        if self._pieces:
            line = "".join(self._pieces)
            self._pieces, self._pending = [], 0
            self._line(line, events)
        self._dispatch(events)
        return events

    def _text(self, text: str) -> list[SSEEvent]:
        events: list[SSEEvent] = []
        if not text:
            return events
        if not self._started:
            self._started = True
            if text[0] == "\ufeff":
                text = text[1:]
        if self._cr_pending:
            self._cr_pending = False
            if text[:1] == "\n":
                text = text[1:]
        if "\r" in text:
            if text[-1] == "\r":
                self._cr_pending = True
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if "\n" not in text:
            self._pending += len(text)
            if self._pending > self.max_line:
                raise SSELimitError(f"a line of the stream is longer than {self.max_line:,} characters")
            self._pieces.append(text)
            return events
        if self._pieces:
            self._pieces.append(text)
            text = "".join(self._pieces)
            self._pieces, self._pending = [], 0
        quiet = not self.emit_comments
        if quiet and ":" in text:
            # A keep-alive flood costs one pass in C, not a Python step a line.
            text, removed = _COMMENT_LINES.subn("", text)
            self.comments += removed
        lines = text.split("\n")
        last = lines.pop()
        for line in lines:
            if quiet and line[:1] == ":":
                self.comments += 1
                continue
            if len(line) > self.max_line:
                raise SSELimitError(f"a line of the stream is longer than {self.max_line:,} characters")
            self._line(line, events)
        if last:
            if len(last) > self.max_line:
                raise SSELimitError(f"a line of the stream is longer than {self.max_line:,} characters")
            self._pieces.append(last)
            self._pending = len(last)
        return events

    def _line(self, line: str, events: list[SSEEvent]) -> None:
        if not line:
            self._dispatch(events)
            return
        if line[0] == ":":
            self.comments += 1
            if self.emit_comments:
                events.append(SSEEvent(data=line[1:].lstrip(" "), comment=True))
            return
        field, sep, value = line.partition(":")
        if sep and value[:1] == " ":
            value = value[1:]
        if field == "data":
            self._data_len += len(value) + 1
            if self._data_len > self.max_event:
                raise SSELimitError(f"an event of the stream is larger than {self.max_event:,} characters")
            self._data.append(value)
        elif field == "event":
            self._event = value
        elif field == "id":
            if "\0" not in value:
                self._id = value
        # `retry` and unknown fields are ignored, as the SSE spec says.

    def _dispatch(self, events: list[SSEEvent]) -> None:
        if self._data:
            events.append(SSEEvent(data="\n".join(self._data), event=self._event, id=self._id))
        self._data = []
        self._data_len = 0
        self._event = None
