"""What the CLI and the app both accept from a user: the date filter of
history, whole numbers and numbers of the run's parameters, and the prompt
asked when none is given. One reading each, so `infertui history --since`
and the app's "since" box agree, and `--max-tokens` and the max-tokens field
refuse the same things with the same words.

Every parser returns a value or raises ValueError with a one-line reason;
the CLI turns it into an argparse error, the app into a notification.
Plain stdlib: no Rich, no Textual.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

DEFAULT_PROMPT = "In three sentences, explain why the sky is blue."

# Upper bounds of a run's parameters: far past any sensible run, low enough
# that a typo (`-n 10000000`) is an error rather than hours of requests or
# memory for millions of jobs.
MAX_TOKENS = 1_000_000
MAX_REPEAT = 100_000
MAX_CONCURRENCY = 1_024
MAX_WARMUP = 1_000
MAX_TEMPERATURE = 2.0  # the highest any of the three APIs accepts
MAX_TOP_P = 1.0

_AGE = re.compile(r"(\d+)\s*([mhdw])")
_AGE_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
SINCE_HELP = ("an age (30m, 12h, 7d, 2w) or a date or time like 2025-06-01 or 2025-06-01T14:00 "
              "(local time unless it says)")


def parse_since(text: str, now: datetime | None = None) -> str | None:
    """The start of a date filter as an ISO UTC time, or None for an empty one.

    An age counts back from `now` in minutes, hours, days or weeks (`30m`,
    `12h`, `7d`, `2w`). A date or time without a zone (`2025-06-01`,
    `2025-06-01T14:00`) is the user's local time; one with a zone
    (`…+02:00`, `…Z`) is taken as it says."""
    text = text.strip()
    if not text:
        return None
    age = _AGE.fullmatch(text.lower())
    if age:
        start = (now or datetime.now(UTC)) - timedelta(**{_AGE_UNITS[age[2]]: int(age[1])})
        return start.astimezone(UTC).isoformat(timespec="seconds")
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text[:40]!r} is not a date: give {SINCE_HELP}") from None
    if when.tzinfo is None:
        when = when.astimezone()  # naive means the user's local time
    return when.astimezone(UTC).isoformat(timespec="seconds")


def whole_number(text: str, low: int | None = None, high: int | None = None) -> int:
    """A whole number in [low, high], either end open when None (`1_000`
    allowed); ValueError says what is wrong."""
    try:
        value = int(text.strip().replace("_", ""))
    except ValueError:
        raise ValueError(f"not a whole number: {text.strip()[:30]!r}") from None
    if low is not None and value < low:
        raise ValueError(f"must be >= {low}, got {value}")
    if high is not None and value > high:
        raise ValueError(f"must be <= {high:,}, got {text.strip()[:30]}")
    return value


def number(text: str, low: float, high: float | None = None) -> float:
    """A finite number in [low, high]; ValueError says what is wrong."""
    try:
        value = float(text.strip())
    except ValueError:
        raise ValueError(f"not a number: {text.strip()[:30]!r}") from None
    if not math.isfinite(value) or value < low or (high is not None and value > high):
        bounds = f"between {low:g} and {high:g}" if high is not None else f"a finite number >= {low:g}"
        raise ValueError(f"must be {bounds}, got {text.strip()[:30]}")
    return value
