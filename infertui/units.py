"""How the CLI, the app and the exports write a measured number: durations,
rates, shares. One rule each, so a TTFT reads the same in `infertui probe`,
the compare screen, history and a Markdown export.

Plain strings; no Rich, no Textual (the store's exports use these too).
"""

from __future__ import annotations

DASH = "—"  # a number that was not measured


def ms(value: float | None) -> str:
    """A duration given in milliseconds, in the unit a reader wants:
    `8.5 ms`, `148 ms`, `2.78 s`, `12.3 s`.

    Each unit switch tests the value as it will be printed (rounded), so
    9.97 ms reads "10 ms" (never "10.0 ms"), 999.7 ms "1.00 s" (never
    "1000 ms") and 9,999 ms "10.0 s" (never "10.00 s")."""
    if value is None:
        return DASH
    sign, size = ("-", -value) if value < 0 else ("", value)
    if round(size, 1) < 10:
        return f"{sign}{size:.1f} ms"
    if round(size) < 1_000:
        return f"{sign}{size:.0f} ms"
    secs = size / 1000
    if round(secs, 2) < 10:
        return f"{sign}{secs:.2f} s"
    return f"{sign}{secs:.1f} s"


def compact_ms(value: float | None) -> str:
    """`ms` for a tight column, the unit attached: `148ms`, `2.78s`."""
    return ms(value).replace(" ", "")


def tick_ms(value: float) -> str:
    """An axis tick at a round number of milliseconds: `0`, `250 ms`, `1.5 s`."""
    if value == 0:
        return "0"
    return f"{value / 1000:g} s" if value >= 1000 else f"{value:g} ms"


def seconds(value_s: float) -> str:
    """A running time in seconds: `4.2 s`, from 100 s on `123 s`."""
    return f"{value_s:.1f} s" if round(value_s, 1) < 100 else f"{value_s:.0f} s"


def elapsed(value_s: float | None) -> str:
    """A long wall-clock span (a campaign's elapsed or remaining time):
    `4m05s`, from an hour on `1h02m`. Negative spans read as zero."""
    if value_s is None:
        return DASH
    whole = max(0, int(value_s))
    if whole >= 3600:
        return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
    return f"{whole // 60}m{whole % 60:02d}s"


def num(value: float | None, digits: int = 1) -> str:
    """A plain number (tok/s, a ratio): `142.5`."""
    return DASH if value is None else f"{value:.{digits}f}"


def share(value: float | None) -> str:
    """A fraction as a percentage: 0.925 reads `92.5%`."""
    return DASH if value is None else f"{value * 100:.1f}%"
