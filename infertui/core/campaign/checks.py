"""A campaign's checks (`checks = ["compliance", "fidelity"]`, `reference`):
run once, at the start of the first round this run executes, as one more
session of that round (`kind = "checks"`).

Targets are checked side by side, each over its own lane, and the reference
beside them when it is not a target (agreement needs its answers to the
fidelity suite). Resuming, steps already answered are not sent again.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from infertui.core.campaign.record import KIND_CHECKS, RoundRecord
from infertui.core.checks import FIDELITY
from infertui.core.checks.runner import done_steps, run_steps
from infertui.core.checks.steps import plan_steps
from infertui.core.events import ProbeFinished, RunEvent
from infertui.core.session import Session
from infertui.core.targets import Target

if TYPE_CHECKING:
    from infertui.core.campaign.executor import CampaignExecutor

CHECK_LANE = -1  # a lane apart from the cells' lanes 0..N-1


def existing_checks(executor: CampaignExecutor) -> tuple[RoundRecord, Session] | None:
    for rnd in executor.record.rounds:
        found = rnd.session(KIND_CHECKS, None)
        if found is not None:
            return rnd, found
    return None


def check_targets(executor: CampaignExecutor) -> list[tuple[Target, tuple[str, ...]]]:
    """(target, its check sets): every campaign target with the sets asked,
    and the reference, when it is not a target, with the fidelity suite."""
    sets = executor.spec.check_sets
    out = [(t, sets) for t in executor.campaign.targets]
    ref = executor.reference
    if ref is not None and ref.label not in {t.label for t, _ in out}:
        out.append((ref, (FIDELITY,)))
    return out


async def run_checks(executor: CampaignExecutor, rnd: RoundRecord) -> None:
    found = existing_checks(executor)
    before = found[1].probes if found else []
    work = []
    for index, (target, sets) in enumerate(check_targets(executor)):
        mine = [p for p in before if p.target.label == target.label]
        done = done_steps(mine, target.label)
        steps = [s for s in plan_steps(target.provider.api, sets) if s.tag not in done]
        if steps:
            work.append((index, target, steps, max((p.seq for p in mine), default=-1) + 1))
    if not work:
        return
    session = executor._session(found[0] if found else rnd, KIND_CHECKS, None)
    session.check_spec = {"checks": list(executor.spec.check_sets),
                          "reference": executor.reference.label if executor.reference else None}

    def emit(event: RunEvent) -> None:
        if type(event) is ProbeFinished:
            executor._stamp_sent_at(event.result)
            session.probes.append(event.result)
        executor._emit_run(session, event)

    async def one(index: int, target: Target, steps: list, first: int) -> None:
        client = executor.clients.client(target.provider, lane=(target.label, CHECK_LANE))
        await run_steps(client, target, steps,
                        probe_id=lambda seq: f"{session.session_id}.{index}.{seq}",
                        first_seq=first, emit=emit, clock=executor.clock,
                        environ=executor.environ, monitor=executor.monitor)

    async with asyncio.TaskGroup() as group:
        for index, target, steps, first in work:
            group.create_task(one(index, target, steps, first))
    executor._finish_session(session, cancelled=False)
