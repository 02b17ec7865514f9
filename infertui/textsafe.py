"""Text from a server, a file or a user, made safe to show.

Data is never markup and never terminal control. Every string that reaches
Rich, Textual or the terminal passes through `display()` (and is handed over
as a `rich.text.Text`, or with markup off, never as markup):

- C0 controls (except newline and tab), DEL and C1 controls are shown as
  visible escapes (`\\x1b`, `\\x9b`), so a stream cannot set the terminal's
  title, write the clipboard (OSC 52), move the cursor or clear the screen.
- Bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069) are
  shown as escapes too: they reorder what the reader sees.
- Lone UTF-16 surrogates (a JSON `"\\ud800"`) become U+FFFD, so the text can
  always be encoded.

Nothing is dropped: every character that is not shown as itself is shown as
its escape. Pure stdlib; the core, the store, the CLI and the app may all use it.
"""

from __future__ import annotations

import re

# C0 except \t (09) and \n (0a); DEL; C1; bidi overrides and isolates.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean_str(text: str) -> str:
    """Lone surrogates replaced by U+FFFD; everything else kept as is.
    For values that are stored or written as JSON, not shown."""
    if _SURROGATE.search(text) is None:
        return text
    return _SURROGATE.sub("\ufffd", text)


def display(text: object) -> str:
    """`text` as it may be written to a terminal: newlines and tabs kept,
    every other control character shown as a visible escape."""
    s = text if isinstance(text, str) else str(text)
    s = clean_str(s)
    if _UNSAFE.search(s) is None:
        return s
    return _UNSAFE.sub(_escape, s)


def one_line(text: object, limit: int | None = None) -> str:
    """For a table cell, a title or a status line: newlines and tabs shown as
    escapes too, cut to `limit` characters with an ellipsis."""
    s = text if isinstance(text, str) else str(text)
    s = clean_str(s)
    if _UNSAFE_ONE_LINE.search(s) is not None:
        s = _UNSAFE_ONE_LINE.sub(_escape, s)
    if limit is not None and len(s) > limit:
        s = s[: max(0, limit - 1)] + "…"
    return s


__all__ = ["clean_str", "display", "one_line"]
