"""Ctrl+C that arrives before a command's own handler is in place.

Python turns SIGINT into KeyboardInterrupt wherever the interpreter happens to
be; when that is inside a weakref callback or a `__del__` (the import system
runs such callbacks while the command's modules load) the exception is
printed as "Exception ignored" and dropped, and the command would go on as if
the key had never been pressed. The handler installed here raises exactly as
Python's own does and also remembers that the key was pressed, so a command
asks `pressed()` once its own handler is installed and stops then.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

_pressed = threading.Event()


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    _pressed.set()
    raise KeyboardInterrupt


def install() -> None:
    """Take SIGINT from Python's default handler (and only from it: a handler
    somebody else installed, or SIG_IGN, is left alone)."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _on_sigint)


def pressed() -> bool:
    """Whether Ctrl+C came since install(), handled or dropped."""
    return _pressed.is_set()


def raise_if_pressed() -> None:
    """For the moment before a command starts its work."""
    if _pressed.is_set():
        raise KeyboardInterrupt
