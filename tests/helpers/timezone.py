"""Run a test in a chosen local time zone (POSIX `TZ`), restored afterwards."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


@contextmanager
def local_timezone(monkeypatch: pytest.MonkeyPatch, name: str) -> Iterator[None]:
    monkeypatch.setenv("TZ", name)
    time.tzset()
    try:
        yield
    finally:
        monkeypatch.undo()
        time.tzset()
