"""JSON that can always be written: the session document (`probe --json`,
`show --json`, exports, rescue files) and every other document infertui prints.

`json.dumps` raises on NaN or Infinity when asked for strict JSON and writes
lone surrogates that no UTF-8 stream accepts; both would lose a whole run's
output for one odd value. Values are made safe first (sanitize.session for a
session, then a walk over the document), and `allow_nan=False` is kept so that
a mistake here fails loudly in tests rather than writing invalid JSON.
"""

from __future__ import annotations

import json
import math
from typing import Any

from infertui.core.session import Session
from infertui.store import sanitize
from infertui.textsafe import clean_str


def json_safe(value: Any) -> Any:
    """`value` with strings cleaned, non-finite floats as None, tuples as lists,
    and anything JSON has no type for as its text."""
    if value is None or value is True or value is False:
        return value
    kind = type(value)
    if kind is str:
        return clean_str(value)
    if kind is int:
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {clean_str(k) if isinstance(k, str) else sanitize.text(k): json_safe(v)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return json_safe(float(value))
    return sanitize.text(value)


def dumps(doc: Any, **options: Any) -> str:
    return json.dumps(json_safe(doc), allow_nan=False, **options)


def session_document(session: Session) -> dict[str, Any]:
    """The `infertui.session/1` document of `session`, every value writable."""
    return json_safe(sanitize.session(session).to_json())


def session_json(session: Session, **options: Any) -> str:
    """The session document as JSON text (ensure_ascii=False unless told)."""
    options.setdefault("ensure_ascii", False)
    return json.dumps(session_document(session), allow_nan=False, **options)
