"""Compliance verdicts from a target's check probes.

Each check's verdict is `pass`, `fail` or `n/a` (the API has no such switch,
or there is nothing to switch), with a one-line `reason` and the `evidence`:
for every probe the check used, the request as sent (never a key), the
status, the text, the finish reason and the counts. A check whose probes are
not all there (a run stopped before them) is left out.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Sequence

from infertui.core import metrics
from infertui.core.checks import COMPLIANCE
from infertui.core.checks.steps import (
    COMPLIANCE_CHECKS,
    JSON,
    MAX_TOKENS,
    MAX_TOKENS_LIMIT,
    NO_SWITCH,
    REASONING_OFF,
    SEED,
    STOP,
    STOP_SEQUENCE,
    tag,
)
from infertui.core.result import ErrorKind, ProbeResult, Status
from infertui.core.targets import Api

PASS, FAIL, NA = "pass", "fail", "n/a"
EVIDENCE_TEXT_CHARS = 4000  # a runaway answer is cut in the evidence, and says so


def latest_by_tag(probes: Iterable[ProbeResult]) -> dict[str, ProbeResult]:
    """The last attempt of each step (a step retried after a transient error
    has several probes; the earlier ones stay in the session)."""
    out: dict[str, ProbeResult] = {}
    for p in probes:
        if p.check is None or p.status is Status.CANCELLED:
            continue
        kept = out.get(p.check)
        if kept is None or p.seq >= kept.seq:
            out[p.check] = p
    return out


def _cut(text: str) -> str:
    if len(text) <= EVIDENCE_TEXT_CHARS:
        return text
    return text[:EVIDENCE_TEXT_CHARS] + f"… ({len(text) - EVIDENCE_TEXT_CHARS:,} more characters)"


def evidence(step: str, p: ProbeResult, attempts: int = 1) -> dict[str, Any]:
    count, source = metrics.output_tokens(p)
    return {
        "step": step, "request": p.request, "status": str(p.status),
        "error": p.error.to_json() if p.error else None, "http_status": p.http_status,
        "text": _cut(p.text), "reasoning_text": _cut(p.reasoning_text),
        "finish_reason": p.finish_reason, "output_tokens": count,
        "output_tokens_source": source, "reasoning_tokens": p.usage.reasoning_tokens,
        "attempts": attempts, "probe_id": p.probe_id,
    }


def _failed(p: ProbeResult) -> str | None:
    """Why a probe gave no answer to judge, or None when it did."""
    if p.status is Status.OK:
        return None
    err = p.error
    if err is None:
        return f"the probe ended {p.status}"
    status = f" (HTTP {err.http_status})" if err.http_status else ""
    return f"no answer: {err.kind}{status}: {err.message[:200]}"


def _reasoned(p: ProbeResult) -> tuple[int, int]:
    """(reasoning tokens counted, reasoning characters streamed)."""
    return p.usage.reasoning_tokens or 0, len(p.reasoning_text)


def _max_tokens(p: ProbeResult) -> tuple[str, str]:
    limit = p.max_tokens or MAX_TOKENS_LIMIT
    if p.error is not None and p.error.kind is ErrorKind.PROTOCOL and "runaway" in p.error.message:
        return FAIL, f"the answer ran past {limit} tokens until infertui stopped reading it"
    why = _failed(p)
    if why:
        return FAIL, why
    count, source = metrics.output_tokens(p)
    length = p.finish_reason in metrics.LENGTH_FINISHES
    if count is not None and source == "usage" and count > limit:
        return FAIL, f"{count} output tokens for a limit of {limit}"
    if count is not None and source == "estimate" and count > 2 * limit:
        return FAIL, f"about {count} output tokens (estimated; no usage) for a limit of {limit}"
    if not length:
        return FAIL, f"finish reason {p.finish_reason!r}, not a length finish, for a limit of {limit}"
    shown = "?" if count is None else (f"~{count}" if source == "estimate" else str(count))
    return PASS, f"stopped at {shown} tokens for a limit of {limit}, finish {p.finish_reason!r}"


def _stop(p: ProbeResult) -> tuple[str, str]:
    why = _failed(p)
    if why:
        return FAIL, why
    if STOP_SEQUENCE in p.text:
        return FAIL, f"the answer goes on past the stop sequence {STOP_SEQUENCE!r}"
    return PASS, f"the answer ends before {STOP_SEQUENCE!r}"


def _body(p: ProbeResult) -> Any:
    return (p.request or {}).get("body")


def _reasoning_off(default: ProbeResult, off: ProbeResult, provider: str) -> tuple[str, str]:
    why = _failed(off) or _failed(default)
    if why:
        return FAIL, why
    if _body(default) == _body(off):
        return NA, (f"no reasoning-off switch is sent to {provider} (set [providers.{provider}] "
                    "reasoning_off in the config)")
    if _reasoned(default) == (0, 0):
        return NA, "the model gave no reasoning at its default setting: nothing to switch off"
    tokens, chars = _reasoned(off)
    if tokens or chars:
        return FAIL, (f"reasoning came back with reasoning off: {tokens} reasoning tokens, "
                      f"{chars} characters of reasoning text")
    return PASS, "no reasoning text and no reasoning tokens with reasoning off"


def _seed(first: ProbeResult, second: ProbeResult) -> tuple[str, str]:
    why = _failed(first) or _failed(second)
    if why:
        return FAIL, why
    if first.text == second.text:
        return PASS, f"the same {len(first.text)}-character answer twice"
    a, b = first.text, second.text
    at = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    return FAIL, f"the two answers differ from character {at + 1}"


def _json(p: ProbeResult) -> tuple[str, str]:
    why = _failed(p)
    if why:
        return FAIL, why
    try:
        value = json.loads(p.text)
    except json.JSONDecodeError as exc:
        return FAIL, f"the answer is not JSON ({exc.msg} at character {exc.pos + 1})"
    return PASS, f"the answer is JSON ({type(value).__name__})"


def compliance_verdicts(api: Api, provider: str, probes: Sequence[ProbeResult]
                        ) -> dict[str, dict[str, Any]] | None:
    """{check: {"verdict", "reason", "evidence"}} for one target; None when
    no compliance probe of it is there."""
    mine = [p for p in probes if p.check and p.check.startswith(COMPLIANCE + ".")]
    if not mine:
        return None
    last = latest_by_tag(mine)
    attempts: dict[str, int] = {}
    for check in (p.check for p in mine if p.check):
        attempts[check] = attempts.get(check, 0) + 1

    def need(*parts: tuple[str, str | None]) -> list[tuple[str, ProbeResult]] | None:
        found = []
        for name, part in parts:
            key = tag(COMPLIANCE, name, part)
            if key not in last:
                return None
            found.append((key, last[key]))
        return found

    out: dict[str, dict[str, Any]] = {}
    skip = NO_SWITCH.get(api, {})
    for check in COMPLIANCE_CHECKS:
        if check in skip:
            out[check] = {"verdict": NA, "reason": skip[check], "evidence": []}
            continue
        by_check: dict[str, list[tuple[str, str | None]]]
        by_check = {MAX_TOKENS: [(MAX_TOKENS, None)], STOP: [(STOP, None)],
                    REASONING_OFF: [(REASONING_OFF, "default"), (REASONING_OFF, "off")],
                    SEED: [(SEED, "1"), (SEED, "2")], JSON: [(JSON, None)]}
        steps = by_check[check]
        found = need(*steps)
        if found is None:
            continue
        ps = [p for _, p in found]
        if check == MAX_TOKENS:
            verdict, reason = _max_tokens(ps[0])
        elif check == STOP:
            verdict, reason = _stop(ps[0])
        elif check == REASONING_OFF:
            verdict, reason = _reasoning_off(ps[0], ps[1], ps[0].target.provider.name)
        elif check == SEED:
            verdict, reason = _seed(ps[0], ps[1])
        else:
            verdict, reason = _json(ps[0])
        out[check] = {"verdict": verdict, "reason": reason,
                      "evidence": [evidence(key, p, attempts.get(key, 1)) for key, p in found]}
    return out
