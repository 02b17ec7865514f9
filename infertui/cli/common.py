"""What every command shares: the error that becomes `infertui: message`,
exit 2, and JSON that is safe to print."""

from __future__ import annotations

import json
import re
from typing import Any


class CliError(Exception):
    """Bad arguments or an unusable config: one line on stderr, exit 2, no traceback."""


# Characters json.dumps(ensure_ascii=False) leaves raw but a terminal must not
# get: DEL and C1 controls (json escapes only C0), bidi overrides and isolates,
# line/paragraph separators, and lone surrogates (which cannot even be encoded).
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def json_text(doc: Any, indent: int | None = None) -> str:
    """`doc` as JSON that is safe to print: the same JSON value (a string's
    unsafe characters written as \\uXXXX escapes, as JSON allows), readable
    non-ASCII text kept."""
    from infertui.store.jsonsafe import json_safe  # noqa: PLC0415

    text = json.dumps(json_safe(doc), ensure_ascii=False, indent=indent, allow_nan=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
