"""How a report writes a number: the same in HTML, Markdown and the app.
Durations, rates and shares follow `infertui.units`, as the CLI's tables
and the app's do."""

from __future__ import annotations

from typing import Any

from infertui import units

NONE = units.DASH


def ms(value: Any) -> str:
    return units.ms(value)


def signed_ms(value: Any) -> str:
    """A difference: `+148 ms`, `-2.78 s`."""
    if value is None:
        return NONE
    return ("+" if value > 0 else "") + units.ms(value)


def share(value: Any) -> str:
    return units.share(value)


def tps(value: Any) -> str:
    return units.num(value)


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
