"""The store's own guard: whatever a result holds, it can be saved and written
as JSON.

The core coerces what a server sends where it arrives; this is the second
line, so that no value, however it got into a result, can make a save fail
(and with it every later probe of the session) or a JSON document
unwritable:

- strings: lone UTF-16 surrogates replaced (SQLite and UTF-8 refuse them);
  a value of another type where a string belongs becomes its text.
- counts: whole numbers from 0 to 2**63 - 1, else NULL (SQLite's INTEGER is
  64-bit; a negative token count means nothing).
- times in ns: any 64-bit integer, else NULL.
- floats: finite, else NULL (NaN and Infinity are not JSON).
- URLs: a target's base_url without userinfo or query string, where a key
  could hide; the store never keeps them.

Everything here returns its argument unchanged when it is already clean, so
the common case costs a few type checks.
"""

from __future__ import annotations

import math
from array import array
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from infertui.core.result import Chunk, ProbeError, ProbeResult, Usage
from infertui.core.session import Session
from infertui.core.targets import ProbeParams, Target
from infertui.textsafe import clean_str

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


def text(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        try:
            value = str(value)
        except Exception:  # noqa: BLE001 - a value whose str() fails is no text
            return None
    return clean_str(value)


def count(value: Any) -> int | None:
    """A token count or other tally: 0 .. 2**63 - 1, else None."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 <= value <= INT64_MAX else None


def ns(value: Any) -> int | None:
    """A time in ns: any 64-bit integer, else None."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if INT64_MIN <= value <= INT64_MAX else None


def real(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int beyond float range
        return None
    return number if math.isfinite(number) else None


def http_status(value: Any) -> int | None:
    number = count(value)
    return number if number is not None and 100 <= number <= 999 else None


def public_url(url: Any) -> str:
    """`url` without userinfo, query string or fragment: what may be stored."""
    url = text(url) or ""
    try:
        parts = urlsplit(url)
    except ValueError:
        cut = url.split("?", 1)[0].split("#", 1)[0]
        scheme, sep, rest = cut.partition("://")
        return f"{scheme}{sep}{rest.split('@')[-1]}" if sep else cut
    if "@" not in parts.netloc and not parts.query and not parts.fragment and "?" not in url:
        return url
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


def target(t: Target) -> Target:
    p = t.provider
    name, model, url = text(p.name) or "", text(t.model) or "", public_url(p.base_url)
    price_in, price_out = real(p.price_input_per_mtok), real(p.price_output_per_mtok)
    if (name, url, price_in, price_out) != (p.name, p.base_url, p.price_input_per_mtok,
                                            p.price_output_per_mtok):
        p = replace(p, name=name, base_url=url, price_input_per_mtok=price_in,
                    price_output_per_mtok=price_out)
    if p is t.provider and model == t.model:
        return t
    return Target(p, model)


def _chunks(chunks: list[Chunk]) -> list[Chunk]:
    # The common case in C: every offset a 64-bit int (array range-checks
    # them), every text a str with no surrogate (one search over them all).
    try:
        array("q", [c.offset_ns for c in chunks])
        joined = "".join([c.text for c in chunks])
    except (TypeError, OverflowError):
        pass
    else:
        if clean_str(joined) is joined:
            return chunks
    out: list[Chunk] | None = None
    for i, c in enumerate(chunks):
        offset = c.offset_ns
        if type(offset) is not int or not INT64_MIN <= offset <= INT64_MAX:
            offset = ns(offset) or 0
        clean = c.text if type(c.text) is str else (text(c.text) or "")
        clean = clean_str(clean)
        if offset is not c.offset_ns or clean is not c.text:
            if out is None:
                out = list(chunks[:i])
            out.append(Chunk(offset, c.kind, clean))
        elif out is not None:
            out.append(c)
    return chunks if out is None else out


def _error(e: ProbeError | None) -> ProbeError | None:
    if e is None:
        return None
    message, status, retry = text(e.message) or "", http_status(e.http_status), real(e.retry_after)
    if message is e.message and status == e.http_status and retry == e.retry_after:
        return e
    return ProbeError(e.kind, message, status, retry)


def _usage(u: Usage) -> Usage:
    fixed = Usage(count(u.input_tokens), count(u.output_tokens), count(u.reasoning_tokens),
                  count(u.cached_tokens))
    return u if fixed == u else fixed


_TEXT_FIELDS = ("probe_id", "sent_at", "sent_source", "finish_reason", "server_model",
                "system_fingerprint", "request_id", "nonce")
_NS_FIELDS = ("queue_ns", "connect_ns", "pre_send_ns", "sent_clock_ns", "headers_ns",
              "first_byte_ns", "first_reasoning_ns", "first_content_ns", "last_token_ns",
              "end_ns", "max_gap_ns")


def probe(r: ProbeResult) -> ProbeResult:
    """`r` itself when every field can be stored, else a copy that can."""
    changes: dict[str, Any] = {}
    for name in _TEXT_FIELDS:
        value = getattr(r, name)
        clean = text(value)
        if clean is not value:
            changes[name] = clean if clean is not None or name != "probe_id" else ""
    for name in _NS_FIELDS:
        value = getattr(r, name)
        if value is not None and ns(value) is None:
            changes[name] = None
    seq = r.seq if ns(r.seq) is not None else 0
    events = count(r.event_count) or 0
    lag = real(r.loop_lag_ms)
    for name, old, new in (("seq", r.seq, seq), ("event_count", r.event_count, events),
                           ("loop_lag_ms", r.loop_lag_ms, lag),
                           ("http_status", r.http_status, http_status(r.http_status)),
                           ("target", r.target, target(r.target)),
                           ("error", r.error, _error(r.error)),
                           ("usage", r.usage, _usage(r.usage)),
                           ("chunks", r.chunks, _chunks(r.chunks))):
        if new is not old:
            changes[name] = new
    if isinstance(r.warmup, bool) is False:
        changes["warmup"] = bool(r.warmup)
    if isinstance(r.client_saturated, bool) is False:
        changes["client_saturated"] = bool(r.client_saturated)
    return replace(r, **changes) if changes else r


def params(p: ProbeParams) -> ProbeParams:
    prompt, system = text(p.prompt) or "", text(p.system)
    temperature = real(p.temperature)
    max_tokens = count(p.max_tokens) or 0
    if (prompt is p.prompt and system is p.system and temperature == p.temperature
            and max_tokens == p.max_tokens):
        return p
    return replace(p, prompt=prompt, system=system, temperature=temperature,
                   max_tokens=max_tokens)


def session(s: Session) -> Session:
    """A copy of `s` (the caller's own is never changed) whose every value can
    be stored and written as JSON; `s` itself when it already can."""
    probes = [probe(r) for r in s.probes]
    targets = [target(t) for t in s.targets]
    fields = {"params": params(s.params), "notes": text(s.notes) or "", "host": text(s.host),
              "started_at": text(s.started_at) or "", "finished_at": text(s.finished_at),
              "session_id": text(s.session_id) or ""}
    same = (all(a is b for a, b in zip(probes, s.probes))
            and all(a is b for a, b in zip(targets, s.targets))
            and all(getattr(s, k) is v for k, v in fields.items()))
    if same:
        return s
    return replace(s, probes=probes, targets=targets, **fields)
