"""Typed reads from a parsed TOML document that collect `file:line:` problems.

Every accessor takes the key path of what it reads, so a problem points at
the line that holds it (found by `tomllines`). Problems are collected, not
raised, so `config check` can report all of them in one pass.
"""

from __future__ import annotations

import difflib
import math
from pathlib import Path
from typing import Any, Iterable, Mapping

from infertui.store.errors import ConfigProblem
from infertui.store.tomllines import KeyPath, key_lines, line_of

_MISSING = object()


def dotted(path: KeyPath) -> str:
    """A key path as a reader would write it: providers."my box".base_url."""
    out = []
    for part in path:
        bare = part and all(c.isalnum() or c in "_-" for c in part)
        out.append(part if bare else '"' + part.replace('"', '\\"') + '"')
    return ".".join(out)


def suggest(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.7)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


class Checker:
    def __init__(self, path: Path | None, text: str) -> None:
        self.path = path
        self.lines = key_lines(text)
        self.problems: list[ConfigProblem] = []

    def line(self, keypath: KeyPath) -> int | None:
        return line_of(self.lines, keypath)

    def error(self, keypath: KeyPath, message: str) -> None:
        self.problems.append(ConfigProblem(self.path, self.line(keypath), message))

    def problem(self, keypath: KeyPath, message: str) -> ConfigProblem:
        return ConfigProblem(self.path, self.line(keypath), message)

    # --- shapes -----------------------------------------------------------

    def table(self, value: Any, keypath: KeyPath) -> dict[str, Any] | None:
        if isinstance(value, dict):
            return value
        self.error(keypath, f"{dotted(keypath)} must be a table, not {_type_name(value)}")
        return None

    def only(self, table: Mapping[str, Any], keypath: KeyPath, allowed: Iterable[str]) -> None:
        """Report every key of `table` that is not in `allowed`."""
        allowed = list(allowed)
        where = f"[{dotted(keypath)}]" if keypath else "the top level"
        for key in table:
            if key not in allowed:
                self.error(keypath + (key,),
                           f"unknown key {key!r} in {where}{suggest(key, allowed)}")

    # --- scalars (return _MISSING-free values; None when absent or bad) ----

    def get(self, table: Mapping[str, Any], key: str, keypath: KeyPath, kind: str,
            *, required: bool = False, minimum: float | None = None) -> Any:
        value = table.get(key, _MISSING)
        full = keypath + (key,)
        if value is _MISSING:
            if required:
                where = f"[{dotted(keypath)}]" if keypath else "the top level"
                self.error(keypath, f"{where} needs {key!r}")
            return None
        ok = {
            "str": isinstance(value, str),
            "int": isinstance(value, int) and not isinstance(value, bool),
            "number": isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value),
            "bool": isinstance(value, bool),
            "table": isinstance(value, dict),
            "str_list": isinstance(value, list) and all(isinstance(v, str) for v in value),
        }[kind]
        if not ok:
            wanted = {"str": "a string", "int": "an integer", "number": "a number",
                      "bool": "true or false", "table": "a table",
                      "str_list": "an array of strings"}[kind]
            shown = "" if isinstance(value, (dict, list)) else f" ({value!r})"
            self.error(full, f"{dotted(full)} must be {wanted}, not {_type_name(value)}{shown}")
            return None
        if minimum is not None and value < minimum:
            bound = int(minimum) if kind == "int" else minimum
            self.error(full, f"{dotted(full)} must be at least {bound}, not {value!r}")
            return None
        if kind == "number":
            return float(value)
        return value
