"""Keeping keys out of everything infertui shows or stores.

A key can come back in many forms: as it is, escaped by a library that
quotes the header it refused (`'sk-…\\r'`), JSON-escaped, URL-encoded, or
inside the base64 of an HTTP Basic credential. `Redactor` knows every form of
every key it was given and replaces each with `***` in any string, and in a
chunked text whose pieces split a key.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Iterable, Sequence
from urllib.parse import quote

MASK = "***"
MIN_SECRET = 6  # shorter values are not searched for: they would mask ordinary text


def _base64_cores(secret: bytes) -> set[str]:
    """The part of base64(… + secret + …) that is the same whatever comes
    before or after it, for each of the three alignments."""
    cores = set()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + secret + b"\0\0").decode()
        # Characters that depend on the bytes before or after are dropped.
        start = -(-offset * 4 // 3) + (1 if offset else 0)
        end = (offset + len(secret)) * 4 // 3
        core = encoded[start:end]
        if len(core) >= MIN_SECRET:
            cores.add(core)
    return cores


def variants(secret: str) -> set[str]:
    """Every form of `secret` worth looking for."""
    found = {secret}
    found.add(repr(secret)[1:-1])  # Python's escaping, e.g. in a refused header
    found.add(json.dumps(secret)[1:-1])
    found.add(quote(secret, safe=""))
    stripped = secret.strip()
    if stripped:
        found.add(stripped)
    try:
        raw = secret.encode("utf-8")
    except UnicodeEncodeError:
        raw = secret.encode("utf-8", "replace")
    found |= _base64_cores(raw)
    found.add(base64.urlsafe_b64encode(raw).decode().rstrip("="))
    return {v for v in found if len(v) >= MIN_SECRET}


class Redactor:
    def __init__(self, secrets: Iterable[str | None]) -> None:
        forms: set[str] = set()
        for secret in secrets:
            if secret and len(secret) >= MIN_SECRET:
                forms |= variants(secret)
        # Longest first, so a form never leaves part of a longer one behind.
        ordered = sorted(forms, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None
        # Every proper prefix of every form: a text ending in one may be a key
        # the next piece completes.
        self._prefixes = {form[:i] for form in forms for i in range(1, len(form))}
        self._longest = max((len(f) for f in forms), default=0)

    def __bool__(self) -> bool:
        return self._pattern is not None

    def text(self, value: str) -> str:
        if self._pattern is None or not value:
            return value
        return self._pattern.sub(MASK, value)

    def optional(self, value: str | None) -> str | None:
        return None if value is None else self.text(value)

    def pieces(self, texts: Sequence[str]) -> list[str]:
        """Redact a text that arrived in pieces (chunks): a key split between
        pieces is masked too; the mask goes where the key started."""
        if self._pattern is None:
            return list(texts)
        whole = "".join(texts)
        spans = [m.span() for m in self._pattern.finditer(whole)]
        if not spans:
            return list(texts)
        out: list[str] = []
        pos = 0
        span_i = 0
        for piece in texts:
            start, end = pos, pos + len(piece)
            kept: list[str] = []
            i = start
            while i < end:
                while span_i < len(spans) and spans[span_i][1] <= i:
                    span_i += 1
                if span_i < len(spans) and spans[span_i][0] <= i < spans[span_i][1]:
                    if i == spans[span_i][0]:
                        kept.append(MASK)
                    i = min(end, spans[span_i][1])
                    continue
                nxt = spans[span_i][0] if span_i < len(spans) else end
                stop = min(end, max(nxt, i + 1))
                kept.append(whole[i:stop])
                i = stop
            out.append("".join(kept))
            pos = end
        return out

    def held_suffix(self, text: str) -> int:
        """How many characters at the end of `text` could begin a key."""
        prefixes = self._prefixes
        for k in range(min(len(text), self._longest - 1), 0, -1):
            if text[-k:] in prefixes:
                return k
        return 0


class LiveMask:
    """Redaction for text shown while it streams: a piece that ends with what
    could be the start of a key keeps that end back until the next piece says
    whether it is one, so a key split between chunks is never on screen, not
    even for a moment. (The stored timeline keeps every chunk's own text and
    time, redacted when the probe ends; this only shapes what is displayed.)"""

    __slots__ = ("_redactor", "_pending")

    def __init__(self, redactor: Redactor) -> None:
        self._redactor = redactor
        self._pending = ""

    def feed(self, text: str) -> str:
        whole = self._redactor.text(self._pending + text)
        hold = self._redactor.held_suffix(whole)
        self._pending = whole[len(whole) - hold:] if hold else ""
        return whole[:len(whole) - hold] if hold else whole

    def flush(self) -> str:
        rest, self._pending = self._pending, ""
        return rest
