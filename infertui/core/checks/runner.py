"""Sending a target's check steps: one probe at a time over one lane, each
tagged with its step and the request it sent.

A step whose probe failed for a passing reason (a 429, a 5xx, a timeout, a
dropped or cut stream) is tried again, up to three attempts in all, after
the Retry-After (or a second); every attempt is kept, and the verdict reads
the last. An answer the provider refused outright (400, 401, 404) is final:
that refusal is the evidence.
"""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, Collection, Iterable, Mapping, Sequence

import httpx

from infertui.core.checks import PHASE
from infertui.core.checks.steps import CheckStep
from infertui.core.clock import Clock, monotonic_ns
from infertui.core.events import ProbeFinished, RunEvent
from infertui.core.loopmon import LoopMonitor
from infertui.core.probe import run_probe
from infertui.core.result import ErrorKind, ProbeResult, Status
from infertui.core.targets import ProbeParams, Target, public_url
from infertui.core.wire import wire_format

MAX_ATTEMPTS = 3
MAX_WAIT_S = 30.0
TRANSIENT = frozenset({ErrorKind.RATE_LIMITED, ErrorKind.SERVER_ERROR, ErrorKind.TIMEOUT,
                       ErrorKind.CONNECT, ErrorKind.DISCONNECTED, ErrorKind.TRUNCATED,
                       ErrorKind.PROVIDER_ERROR})

Emit = Callable[[RunEvent], None]


def request_evidence(target: Target, params: ProbeParams) -> dict[str, Any]:
    """The request a probe with `params` sends, as evidence: method, URL
    (without credentials or query) and body. Built without the key and
    without headers, so neither can ever be in it."""
    wire = wire_format(target.provider.api).build_request(target, params, None, params.prompt)
    return {"method": wire.method, "url": public_url(wire.url), "body": wire.body}


def _again(r: ProbeResult, attempt: int) -> float | None:
    """Seconds to wait before trying the step again, or None when it is done."""
    if r.status is not Status.ERROR or r.error is None or attempt + 1 >= MAX_ATTEMPTS:
        return None
    if r.error.kind not in TRANSIENT:
        return None
    return min(MAX_WAIT_S, r.error.retry_after if r.error.retry_after is not None else 1.0)


async def run_steps(
    client: httpx.AsyncClient,
    target: Target,
    steps: Sequence[CheckStep],
    *,
    probe_id: Callable[[int], str],
    first_seq: int = 0,
    done: Collection[str] = (),
    emit: Emit = lambda _event: None,
    clock: Clock = monotonic_ns,
    environ: Mapping[str, str] | None = None,
    monitor: LoopMonitor | None = None,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> list[ProbeResult]:
    """Every step not in `done`, in order; returns every probe sent. Each
    probe is tagged (phase, step, request) before `emit` sees it finish."""
    seq = first_seq
    sent: list[ProbeResult] = []
    for step in steps:
        if step.tag in done:
            continue
        evidence = request_evidence(target, step.params)
        for attempt in range(MAX_ATTEMPTS):
            result = await run_probe(client, target, step.params, probe_id=probe_id(seq), seq=seq,
                                     clock=clock, emit=_tagging(emit, step.tag, evidence),
                                     queued_at_ns=clock(), monitor=monitor, environ=environ)
            seq += 1
            sent.append(result)
            wait = _again(result, attempt)
            if wait is None:
                break
            await sleep(wait)
    return sent


def _tagging(emit: Emit, step: str, evidence: dict[str, Any]) -> Emit:
    def tagged(event: RunEvent) -> None:
        if type(event) is ProbeFinished:
            r = event.result
            r.phase, r.check, r.request = PHASE, step, evidence
        emit(event)
    return tagged


def done_steps(probes: Iterable[ProbeResult], label: str) -> set[str]:
    """Steps of a target already answered for good (resuming skips them)."""
    out = set()
    for p in probes:
        if (p.check and p.target.label == label and p.status is not Status.CANCELLED
                and (p.status is Status.OK or p.error is None or p.error.kind not in TRANSIENT)):
            out.add(p.check)
    return out
