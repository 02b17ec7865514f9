"""How failures become data: HTTP statuses and transport exceptions mapped to
the documented error kinds, with the provider's own message, never a key."""

from __future__ import annotations

import email.utils
import time
from typing import Mapping

from infertui.core.result import ErrorKind, ProbeError

MAX_MESSAGE = 500


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


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def redact(message: str, secrets: list[str | None]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4 and secret in message:
            message = message.replace(secret, "***")
    return message


def shorten(message: str, limit: int = MAX_MESSAGE) -> str:
    message = " ".join(message.split())
    return message if len(message) <= limit else message[: limit - 1] + "…"


def http_error(status: int, message: str, headers: Mapping[str, str], secret: str | None) -> ProbeError:
    retry_after = parse_retry_after(headers.get("retry-after"))
    if retry_after is None and headers.get("retry-after-ms"):
        try:
            retry_after = float(headers["retry-after-ms"]) / 1000.0
        except ValueError:
            retry_after = None
    return ProbeError(
        kind=kind_for_status(status),
        message=shorten(redact(message or f"HTTP {status}", [secret])),
        http_status=status,
        retry_after=retry_after,
    )
