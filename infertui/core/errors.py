"""How failures become data: HTTP statuses and transport exceptions mapped to
the documented error kinds, with the provider's own message, never a key."""

from __future__ import annotations

import email.utils
import math
import time
from typing import Mapping

from infertui.core.redact import Redactor
from infertui.core.result import ErrorKind, ProbeError
from infertui.textsafe import clean_str

MAX_MESSAGE = 500
MAX_RETRY_AFTER_S = 7 * 24 * 3600.0  # a week: anything longer is not a real hint


def kind_for_status(status: int) -> ErrorKind:
    if status in (401, 403):
        return ErrorKind.AUTH
    if status == 404:
        return ErrorKind.NOT_FOUND
    if status == 429:
        return ErrorKind.RATE_LIMITED
    if status == 408:
        return ErrorKind.TIMEOUT
    if status >= 500:
        return ErrorKind.SERVER_ERROR
    return ErrorKind.BAD_REQUEST


def _seconds(value: float) -> float | None:
    """A finite, non-negative number of seconds, capped; None for nan/inf."""
    if not math.isfinite(value):
        return None
    return min(MAX_RETRY_AFTER_S, max(0.0, value))


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date. Never NaN or
    infinite (a header of `inf` or `nan` is ignored), at most a week."""
    if not value:
        return None
    value = value.strip()
    try:
        return _seconds(float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    try:
        return _seconds(when.timestamp() - (time.time() if now is None else now))
    except (OverflowError, ValueError, OSError):
        return None


def redact(message: str, secrets: list[str | None] | Redactor) -> str:
    """`message` with every form of every secret masked (see core.redact)."""
    redactor = secrets if isinstance(secrets, Redactor) else Redactor(secrets)
    return redactor.text(message)


def shorten(message: str, limit: int = MAX_MESSAGE) -> str:
    """One line, at most `limit` characters, lone surrogates replaced."""
    message = clean_str(" ".join(message.split()))
    return message if len(message) <= limit else message[: limit - 1] + "…"


def http_error(status: int, message: str, headers: Mapping[str, str],
               secret: str | Redactor | None) -> ProbeError:
    retry_after = parse_retry_after(headers.get("retry-after"))
    if retry_after is None and headers.get("retry-after-ms"):
        try:
            retry_after = _seconds(float(headers["retry-after-ms"]) / 1000.0)
        except ValueError:
            retry_after = None
    redactor = secret if isinstance(secret, Redactor) else Redactor([secret])
    return ProbeError(
        kind=kind_for_status(status),
        message=shorten(redact(message or f"HTTP {status}", redactor)),
        http_status=status,
        retry_after=retry_after,
    )
