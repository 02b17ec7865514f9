"""Running campaigns against the in-process simulator on virtual time."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any, Callable, Mapping

from infertui.core.campaign.executor import CampaignExecutor
from infertui.core.campaign.record import CampaignRecord
from infertui.core.campaign.spec import CampaignSpec, ResolvedCampaign
from infertui.core.clients import ClientPool
from infertui.core.simulator import SimTransport
from infertui.core.simulator.providers import builtin_providers
from infertui.core.targets import ProbeParams, Target
from tests.campaign.virtual import VirtualTimeLoop, run_virtual

PROVIDERS = {p.name: p for p in builtin_providers()}
# A timing the test can know exactly: no prefill, no decode jitter, a fixed
# answer length.
STEADY = {"prefill_ms_per_ktok": 0, "rate_sigma": 0.0, "gap_sigma": 0.0, "answer_sigma": 0.0}


def resolved(targets: list[str], *, models: Mapping[str, str] | None = None,
             max_tokens: int = 16, **spec: Any) -> ResolvedCampaign:
    spec.setdefault("prompt", "hi")
    cs = CampaignSpec(name=spec.pop("name", "test"), targets=tuple(targets), **spec)
    found = []
    for label in targets:
        provider, model = label.split("/", 1)
        found.append(Target(PROVIDERS[provider], model))
    texts = (cs.prompt,) if cs.prompt is not None else ()
    return ResolvedCampaign(cs, tuple(found), dict(models or {}), texts, None,
                            ProbeParams(texts[0] if texts else "", max_tokens=max_tokens))


def executor(loop: VirtualTimeLoop, campaign: ResolvedCampaign, overrides=None,
             record: CampaignRecord | None = None, seed: int = 0) -> CampaignExecutor:
    transport = SimTransport(seed=seed, clock=loop.clock_ns, overrides=overrides)
    pool = ClientPool(lambda _p: transport, clock=loop.clock_ns)
    ex = CampaignExecutor(campaign, record=record, clients=pool, clock=loop.clock_ns,
                          wall=loop.wall, monitor_loop=False, vantage="test-vantage")
    ex.transport = transport  # type: ignore[attr-defined]
    return ex


def run_campaign(campaign: ResolvedCampaign, overrides=None, *, seed: int = 0,
                 sinks: tuple[Callable, ...] = (), record: CampaignRecord | None = None,
                 stop_when: Callable[[CampaignExecutor, object], bool] | None = None):
    """(record, executor, virtual seconds it took)."""
    async def main(loop: VirtualTimeLoop):
        ex = executor(loop, campaign, overrides, record, seed)
        watchers = list(sinks)
        if stop_when is not None:
            watchers.append(lambda event: stop_when(ex, event) and ex.stop())
        started = loop.time()
        rec = await ex.run(*watchers)
        return rec, ex, loop.time() - started
    return run_virtual(main)


def with_spec(campaign: ResolvedCampaign, **changes: Any) -> ResolvedCampaign:
    return replace(campaign, spec=replace(campaign.spec, **changes))


__all__ = ["STEADY", "resolved", "executor", "run_campaign", "with_spec", "asyncio"]
