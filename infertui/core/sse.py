"""Incremental Server-Sent Events decoder.

Gives the same events whatever the TCP chunk boundaries: LF, CRLF and CR line
ends (a CR at the end of one read and the LF at the start of the next are one
line end), multi-line `data:`, comments, a UTF-8 BOM, multi-byte characters
split between reads, and a last event without its blank line.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass


@dataclass(slots=True, frozen=True)
class SSEEvent:
    data: str
    event: str | None = None
    id: str | None = None
    comment: bool = False  # a `:` line; `data` holds its text


class SSEDecoder:
    __slots__ = ("_decoder", "_buf", "_cr_pending", "_data", "_event", "_id", "_started")

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buf = ""
        self._cr_pending = False
        self._data: list[str] = []
        self._event: str | None = None
        self._id: str | None = None
        self._started = False

    def feed(self, raw: bytes) -> list[SSEEvent]:
        return self._text(self._decoder.decode(raw))

    def close(self) -> list[SSEEvent]:
        """End of stream: flush what is left, including a last event that had
        no blank line after it."""
        events = self._text(self._decoder.decode(b"", final=True))
        if self._buf:
            line, self._buf = self._buf, ""
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
            self._buf += text
            return events
        lines = (self._buf + text).split("\n")
        self._buf = lines.pop()
        for line in lines:
            self._line(line, events)
        return events

    def _line(self, line: str, events: list[SSEEvent]) -> None:
        if not line:
            self._dispatch(events)
            return
        if line[0] == ":":
            events.append(SSEEvent(data=line[1:].lstrip(" "), comment=True))
            return
        field, sep, value = line.partition(":")
        if sep and value[:1] == " ":
            value = value[1:]
        if field == "data":
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
        self._event = None
