"""What every command shares: the error that becomes `infertui: message`,
exit 2, and JSON that is safe to print."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any, Callable

from infertui import inputs
from infertui.textsafe import one_line


class CliError(Exception):
    """Bad arguments or an unusable config: one line on stderr, exit 2, no traceback."""


def whole_number_arg(low: int | None = None, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: `inputs.whole_number` in [low, high], its reason as
    argparse's one line (`argument -n/--repeat: must be <= 100,000, got …`)."""
    def parse(text: str) -> int:
        try:
            return inputs.whole_number(text, low, high)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    parse.__name__ = "whole number"
    return parse


def number_arg(low: float, high: float | None = None) -> Callable[[str], float]:
    """An argparse type: `inputs.number` in [low, high]."""
    def parse(text: str) -> float:
        try:
            return inputs.number(text, low, high)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    parse.__name__ = "number"
    return parse


# Characters json.dumps(ensure_ascii=False) leaves raw but a terminal must not
# get: DEL and C1 controls (json escapes only C0), bidi overrides and isolates,
# line/paragraph separators, and lone surrogates (which cannot even be encoded).
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def json_text(doc: Any, indent: int | None = None) -> str:
    """`doc` as JSON that is safe to print: the same JSON value (a string's
    unsafe characters written as \\uXXXX escapes, as JSON allows), readable
    non-ASCII text kept."""
    from infertui.store.jsonsafe import json_safe

    text = json.dumps(json_safe(doc), ensure_ascii=False, indent=indent, allow_nan=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def write_output(output: str | None, text: str, what: str) -> None:
    """A command's document to the file `-o` named (then "wrote WHAT to
    FILE" on stderr), or to stdout without one."""
    if not output:
        sys.stdout.write(text)
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot write {output}: {exc.strerror or exc}") from None
    print(f"wrote {what} to {one_line(output)}", file=sys.stderr)
