"""Checking a session document from a file before anything of it is imported.

An export may come from another machine, another version, or an editor: a
string where a number belongs must be a one-line message naming the field,
not a traceback halfway through an import (or a value that breaks every
later history listing). Types are checked strictly (a bool is not a number,
"12" is not a count); values past the types are the sanitizer's business.
"""

from __future__ import annotations

import math
import re
from array import array
from datetime import datetime
from typing import Any, Callable

from infertui.core.result import ErrorKind, Status
from infertui.core.session import SCHEMA
from infertui.core.targets import Api
from infertui.store.errors import StoreError

# Session ids are ours (hex) in practice; anything printable and short is
# accepted, but never one `show` could not name, nor the word `last`.
SESSION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
RESERVED_IDS = frozenset({"last", "latest"})

_MS = ("ttft_ms", "ttft_any_ms", "ttfb_ms", "e2e_ms", "queue_ms", "connect_ms", "pre_send_ms",
       "first_byte_ms", "end_ms", "stall_ms", "loop_lag_ms")
_COUNTS = ("input_tokens", "usage_output_tokens", "reasoning_tokens", "cached_tokens",
           "event_count", "http_status")
_TEXTS = ("sent_at", "sent_source", "finish_reason", "server_model", "system_fingerprint",
          "request_id", "nonce")


class DocumentError(StoreError):
    """A document that cannot be imported; the message names the field."""


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "true/false", int: "a whole number", float: "a number", str: "a string",
            list: "a list", dict: "an object"}.get(type(value), type(value).__name__)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


class _Checker:
    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, path: str, message: str) -> DocumentError:
        return DocumentError(f"{self.where}: {path}: {message}")

    def wrong(self, path: str, expected: str, value: Any) -> DocumentError:
        return self.fail(path, f"expected {expected}, found {_kind(value)}"
                               + ("" if value is None else f" ({_shown(value)})"))

    def field(self, obj: dict, key: str, path: str, test: Callable[[Any], bool], expected: str,
              required: bool = False, null: bool = True) -> Any:
        """obj[key] when it passes `test`; None when absent (or null, where
        `null` allows it); a DocumentError otherwise."""
        if key not in obj or (obj[key] is None and null and not required):
            if required:
                raise self.fail(f"{path}{key}", "missing")
            return None
        value = obj[key]
        if not test(value):
            raise self.wrong(f"{path}{key}", expected, value)
        return value

    def obj(self, value: Any, path: str) -> dict:
        if not isinstance(value, dict):
            raise self.wrong(path, "an object", value)
        return value

    def items(self, obj: dict, key: str, path: str) -> list:
        value = obj.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.wrong(f"{path}{key}", "a list", value)
        return value


def _is_str(v: Any) -> bool:
    return isinstance(v, str)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return _is_int(v) or (isinstance(v, float) and math.isfinite(v))


def _all_numbers(values: list) -> bool:
    """Every value a finite number, checked in C (a true/false passes as 1/0
    here, harmlessly: it is a time, not a count)."""
    try:
        return all(map(math.isfinite, array("d", values)))
    except (TypeError, OverflowError):
        return False


def _is_str_list(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def _is_bool(v: Any) -> bool:
    return isinstance(v, bool)


def _is_time(v: Any) -> bool:
    if not isinstance(v, str):
        return False
    try:
        datetime.fromisoformat(v)
    except ValueError:
        return False
    return True


def _one_of(values: set[str]) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, str) and v in values


def _target(ck: _Checker, value: Any, path: str) -> None:
    t = ck.obj(value, path)
    ck.field(t, "provider", f"{path}.", lambda v: _is_str(v) and v != "", "a provider name",
             required=True)
    ck.field(t, "model", f"{path}.", lambda v: _is_str(v) and v != "", "a model id",
             required=True)
    ck.field(t, "base_url", f"{path}.", _is_str, "a string")
    ck.field(t, "api", f"{path}.", _one_of({a.value for a in Api}),
             f"one of {', '.join(a.value for a in Api)}", null=False)
    for key in ("price_input_per_mtok", "price_output_per_mtok"):
        ck.field(t, key, f"{path}.", _is_number, "a number")


def _probe(ck: _Checker, value: Any, path: str) -> None:
    p = ck.obj(value, path)
    pre = f"{path}."
    ck.field(p, "probe_id", pre, lambda v: _is_str(v) and v != "", "a probe id", required=True)
    _target(ck, p.get("target"), f"{pre}target")
    ck.field(p, "status", pre, _one_of({s.value for s in Status}),
             f"one of {', '.join(s.value for s in Status)}", required=True)
    ck.field(p, "seq", pre, _is_int, "a whole number", null=False)
    for key in ("warmup", "client_saturated"):
        ck.field(p, key, pre, _is_bool, "true or false")
    for key in _MS:
        ck.field(p, key, pre, _is_number, "a number of milliseconds")
    for key in _COUNTS:
        ck.field(p, key, pre, _is_int, "a whole number")
    for key in _TEXTS + ("phase", "check"):
        ck.field(p, key, pre, _is_str, "a string")
    if p.get("request") is not None:
        ck.obj(p["request"], f"{pre}request")
    error = p.get("error")
    if error is not None:
        e = ck.obj(error, f"{pre}error")
        ck.field(e, "kind", f"{pre}error.", _one_of({k.value for k in ErrorKind}),
                 "an error kind", required=True)
        ck.field(e, "message", f"{pre}error.", _is_str, "a string")
        ck.field(e, "http_status", f"{pre}error.", _is_int, "a whole number")
        ck.field(e, "retry_after", f"{pre}error.", _is_number, "a number of seconds")
    times = ck.items(p, "chunk_times_ms", pre)
    if not _all_numbers(times):  # thousands a probe: the common case in C, then find the one
        for i, t in enumerate(times):
            if not _is_number(t):
                raise ck.wrong(f"{pre}chunk_times_ms[{i}]", "a number of milliseconds", t)
    kinds = ck.field(p, "chunk_kinds", pre, lambda v: _is_str(v) and set(v) <= {"c", "r"},
                     "a string of 'c' and 'r'")
    if kinds is not None and len(kinds) != len(times):
        raise ck.fail(f"{pre}chunk_kinds", f"{len(kinds)} kinds for {len(times)} chunk times")
    texts = p.get("chunk_texts")
    if texts is not None:
        texts = ck.items(p, "chunk_texts", pre)
        if len(texts) != len(times):
            raise ck.fail(f"{pre}chunk_texts", f"{len(texts)} texts for {len(times)} chunk times")
        try:
            "".join(texts)
        except TypeError:
            for i, t in enumerate(texts):
                if not _is_str(t):
                    raise ck.wrong(f"{pre}chunk_texts[{i}]", "a string", t) from None


def check_session_document(doc: Any, where: str) -> str:
    """Raise DocumentError (one line: where, field, what is wrong) unless `doc`
    can be imported; returns its session id."""
    ck = _Checker(where)
    d = ck.obj(doc, "document")
    if d.get("schema") != SCHEMA:
        raise ck.fail("schema", f"expected {SCHEMA!r}, found {_shown(d.get('schema'))}")
    sid = d.get("session_id")
    if not isinstance(sid, str) or not SESSION_ID.fullmatch(sid) or sid.lower() in RESERVED_IDS:
        raise ck.fail("session_id", f"{_shown(sid)} is not a session id (letters, digits, "
                                    "'.', '_', ':' and '-', at most 128, not 'last')")
    ck.where = f"{where}: session {sid}"
    ck.field(d, "started_at", "", _is_time, "an ISO 8601 time", required=True)
    ck.field(d, "finished_at", "", _is_time, "an ISO 8601 time")
    for key in ("host", "notes"):
        ck.field(d, key, "", _is_str, "a string")
    if d.get("params") is not None:
        params = ck.obj(d["params"], "params")
        ck.field(params, "prompt", "params.", _is_str, "a string", required=True)
        ck.field(params, "system", "params.", _is_str, "a string")
        ck.field(params, "max_tokens", "params.", _is_int, "a whole number", null=False)
        ck.field(params, "temperature", "params.", _is_number, "a number")
        ck.field(params, "reasoning", "params.", _is_bool, "true or false")
        ck.field(params, "stop", "params.", _is_str_list, "a list of strings")
        ck.field(params, "request_seed", "params.", _is_int, "a whole number")
        ck.field(params, "top_p", "params.", _is_number, "a number")
        ck.field(params, "json_output", "params.", _is_bool, "true or false")
    if d.get("checks") is not None:
        checks = ck.obj(d["checks"], "checks")
        ck.field(checks, "asked", "checks.", _is_str_list, "a list of strings")
        ck.field(checks, "reference", "checks.", _is_str, "a string")
    if d.get("settings") is not None:
        settings = ck.obj(d["settings"], "settings")
        for key in ("repeat", "concurrency", "warmup"):
            ck.field(settings, key, "settings.", _is_int, "a whole number", null=False)
        ck.field(settings, "nonce", "settings.", _is_bool, "true or false")
    for i, target in enumerate(ck.items(d, "targets", "")):
        _target(ck, target, f"targets[{i}]")
    for i, probe in enumerate(ck.items(d, "probes", "")):
        _probe(ck, probe, f"probes[{i}]")
    return sid
