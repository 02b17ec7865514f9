"""Checks of a comparison's targets, run into its session: `infertui probe
--check`, and the app's checks command.

Targets are checked side by side, each over its own one-connection lane, one
step at a time; the reference (when it is not a target already) is checked
beside them, since agreement needs its answers. Every probe is appended to
the session and passed to `emit` as it finishes, so the store records it
like any other.
"""

from __future__ import annotations

import asyncio
from typing import Callable, Mapping, Sequence

from infertui.core.checks.runner import done_steps, run_steps
from infertui.core.checks.steps import FIDELITY, plan_steps
from infertui.core.clients import ClientPool
from infertui.core.clock import Clock, monotonic_ns
from infertui.core.events import ProbeFinished, RunEvent
from infertui.core.session import Session
from infertui.core.targets import Target

Emit = Callable[[RunEvent], None]


def check_spec(check_sets: Sequence[str], reference: Target | None) -> dict:
    """What a session records of the checks asked. A reference needs the
    fidelity suite's answers, so it asks for them."""
    sets = list(dict.fromkeys(check_sets))
    if reference is not None and FIDELITY not in sets:
        sets.append(FIDELITY)
    return {"checks": sets, "reference": reference.label if reference else None}


async def run_session_checks(session: Session, check_sets: Sequence[str], *,
                             clients: ClientPool, reference: Target | None = None,
                             emit: Emit = lambda _e: None, clock: Clock = monotonic_ns,
                             environ: Mapping[str, str] | None = None) -> None:
    spec = check_spec(check_sets, reference)
    session.check_spec = spec
    targets = list(session.targets)
    if reference is not None and reference.label not in {t.label for t in targets}:
        targets.append(reference)

    def appended(event: RunEvent) -> None:
        if type(event) is ProbeFinished:
            session.probes.append(event.result)
        emit(event)

    async def one(index: int, target: Target) -> None:
        steps = plan_steps(target.provider.api, spec["checks"] if target in session.targets
                           else [FIDELITY])
        mine = [p for p in session.probes if p.target.label == target.label]
        first = max((p.seq for p in mine), default=-1) + 1
        client = clients.client(target.provider, lane=(target.label, "checks"))
        await run_steps(client, target, steps,
                        probe_id=lambda seq: f"{session.session_id}.{index}.{seq}",
                        first_seq=first, done=done_steps(mine, target.label), emit=appended,
                        clock=clock, environ=environ)

    async with asyncio.TaskGroup() as group:
        for index, target in enumerate(targets):
            group.create_task(one(index, target))
