"""Where a key sits in a TOML file, so a semantic error can say `file:line:`.

tomllib reports line numbers for syntax errors only. This scanner walks the
text once, follows table headers and `key =` lines (dotted and quoted keys
included) and skips what cannot hold a key: the insides of strings, multi-line
strings and arrays. Keys inside inline tables map to the line their table
starts on, which is where a reader would look.
"""

from __future__ import annotations

import re

KeyPath = tuple[str, ...]

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPE = re.compile(r"\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)")
_SIMPLE_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}


def _unescape(raw: str) -> str:
    def sub(m: re.Match[str]) -> str:
        code = m.group(1)
        if code[0] in "uU":
            return chr(int(code[1:], 16))
        return _SIMPLE_ESCAPES.get(code, code)
    return _ESCAPE.sub(sub, raw)


def _parse_key(line: str, pos: int) -> tuple[KeyPath, int] | None:
    """A dotted key starting at `pos`; returns its parts and the position after it."""
    parts: list[str] = []
    n = len(line)
    while True:
        while pos < n and line[pos] in " \t":
            pos += 1
        if pos >= n:
            return None
        ch = line[pos]
        if ch == '"':
            end = pos + 1
            while end < n and line[end] != '"':
                end += 2 if line[end] == "\\" else 1
            if end >= n:
                return None
            parts.append(_unescape(line[pos + 1:end]))
            pos = end + 1
        elif ch == "'":
            end = line.find("'", pos + 1)
            if end < 0:
                return None
            parts.append(line[pos + 1:end])
            pos = end + 1
        else:
            m = _BARE.match(line, pos)
            if not m:
                return None
            parts.append(m.group())
            pos = m.end()
        while pos < n and line[pos] in " \t":
            pos += 1
        if pos < n and line[pos] == ".":
            pos += 1
            continue
        return tuple(parts), pos


class _ValueScanner:
    """Tracks what is still open at the end of a line: a multi-line string or
    brackets. Only the top level of the document can start a key."""

    def __init__(self) -> None:
        self.open_string: str | None = None  # '"""' or "'''"
        self.depth = 0

    @property
    def at_top(self) -> bool:
        return self.open_string is None and self.depth == 0

    def scan(self, line: str, pos: int = 0) -> None:
        n = len(line)
        while pos < n:
            if self.open_string is not None:
                end = self._find_close(line, pos, self.open_string)
                if end < 0:
                    return
                self.open_string = None
                pos = end
                continue
            ch = line[pos]
            if ch == "#":
                return
            if line.startswith('"""', pos) or line.startswith("'''", pos):
                self.open_string = line[pos:pos + 3]
                pos += 3
                continue
            if ch == '"':
                pos += 1
                while pos < n and line[pos] != '"':
                    pos += 2 if line[pos] == "\\" else 1
                pos += 1
                continue
            if ch == "'":
                end = line.find("'", pos + 1)
                pos = n if end < 0 else end + 1
                continue
            if ch in "[{":
                self.depth += 1
            elif ch in "]}":
                self.depth = max(0, self.depth - 1)
            pos += 1

    @staticmethod
    def _find_close(line: str, pos: int, quote: str) -> int:
        """Index just past the closing triple quote (and any extra quotes that
        belong to the content), or -1."""
        while True:
            idx = line.find(quote, pos)
            if idx < 0:
                return -1
            if quote == '"""':
                backslashes = 0
                j = idx - 1
                while j >= pos and line[j] == "\\":
                    backslashes += 1
                    j -= 1
                if backslashes % 2:
                    pos = idx + 1
                    continue
            end = idx + 3
            while end < len(line) and line[end] == quote[0] and end - idx < 5:
                end += 1
            return end


def key_lines(text: str) -> dict[KeyPath, int]:
    """Map every table header and key path to its 1-based line number."""
    lines: dict[KeyPath, int] = {}
    table: KeyPath = ()
    values = _ValueScanner()
    for number, line in enumerate(text.splitlines(), start=1):
        if not values.at_top:
            values.scan(line)
            continue
        stripped = line.lstrip()
        if not stripped or stripped.startswith("#"):
            continue
        start = len(line) - len(stripped)
        if stripped.startswith("["):
            double = stripped.startswith("[[")
            parsed = _parse_key(line, start + (2 if double else 1))
            if parsed is not None:
                table = parsed[0]
                lines.setdefault(table, number)
            continue
        parsed = _parse_key(line, start)
        if parsed is None:
            continue
        path, pos = parsed
        if pos < len(line) and line[pos] == "=":
            full = table + path
            lines.setdefault(full, number)
            # Intermediate dotted tables (a.b = 1 defines table a) point here too.
            for i in range(len(table) + 1, len(full)):
                lines.setdefault(full[:i], number)
            values.scan(line, pos + 1)
    return lines


def line_of(lines: dict[KeyPath, int], path: KeyPath) -> int | None:
    """The line of `path`, or of its nearest enclosing key or table."""
    for end in range(len(path), 0, -1):
        found = lines.get(tuple(path[:end]))
        if found is not None:
            return found
    return None
