"""How a report writes a number: the same in HTML, Markdown and the app."""

from __future__ import annotations

from typing import Any

NONE = "—"


def ms(value: Any) -> str:
    if value is None:
        return NONE
    return f"{value / 1000:.2f} s" if value >= 10_000 else f"{value:.0f} ms"


def signed_ms(value: Any) -> str:
    if value is None:
        return NONE
    return ("+" if value > 0 else "") + ms(value) if abs(value) < 10_000 else f"{value / 1000:+.2f} s"


def share(value: Any) -> str:
    return NONE if value is None else f"{value * 100:.1f}%"


def tps(value: Any) -> str:
    return NONE if value is None else f"{value:.1f}"


def usd(value: Any) -> str:
    if value is None:
        return NONE
    if value == 0:
        return "$0"
    return f"${value:.2g}" if value < 0.01 else f"${value:.4f}"


def count(value: Any) -> str:
    return NONE if value is None else str(value)


def ratio(value: Any) -> str:
    return NONE if value is None else f"{value:.3f}"


def metric_value(metric: str, value: Any) -> str:
    """A comparison's value, by its metric (`ttft_ms.p50`, `availability`, ...)."""
    if metric.startswith("decode_tps"):
        return tps(value)
    if metric == "availability":
        return share(value)
    return ms(value)


def metric_difference(metric: str, value: Any) -> str:
    if value is None:
        return NONE
    if metric.startswith("decode_tps"):
        return f"{value:+.1f}"
    if metric == "availability":
        return f"{value * 100:+.1f} pts"
    return signed_ms(value)


def text(value: Any) -> str:
    return "" if value is None else str(value)
