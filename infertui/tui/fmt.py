"""How numbers the core measured are written on screen."""

from __future__ import annotations

from infertui.core.result import ProbeError

DASH = "—"


def ms(value: float | None) -> str:
    if value is None:
        return DASH
    if value >= 10_000:
        return f"{value / 1000:.1f} s"
    if value >= 1_000:
        return f"{value / 1000:.2f} s"
    return f"{value:.0f} ms"


def num(value: float | None, digits: int = 1) -> str:
    return DASH if value is None else f"{value:.{digits}f}"


def seconds(value_s: float) -> str:
    return f"{value_s:.1f} s" if value_s < 100 else f"{value_s:.0f} s"


def error_line(error: ProbeError) -> str:
    """`rate_limited · HTTP 429 · retry after 2 s`"""
    parts = [str(error.kind)]
    if error.http_status:
        parts.append(f"HTTP {error.http_status}")
    if error.retry_after is not None:
        parts.append(f"retry after {error.retry_after:g} s")
    return " · ".join(parts)
