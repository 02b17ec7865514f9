"""A campaign's rounds as sessions: what the executor produces, what the store
gives back, and what the document is computed from.

Each (round, concurrency level) runs as an ordinary session, so history,
show and replay keep working; cold-start probes of a round are one more
session (`kind = "cold"`). A session carries its campaign link (a small dict,
see `link`) in `Session.campaign`, and so do its exports: importing them
elsewhere rebuilds the campaign.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, field
from typing import Any, Iterable

from infertui.core.campaign.spec import ResolvedCampaign
from infertui.core.session import Session

KIND_CELLS = "cells"
KIND_COLD = "cold"
KIND_CHECKS = "checks"  # compliance and fidelity probes (core/checks), once per campaign


def new_campaign_id() -> str:
    """Time-sortable and unique across machines, like a session id, with a
    `c` in front so the two are never confused."""
    return f"c{int(time.time() * 1000):012x}{os.urandom(4).hex()}"


def default_vantage() -> str:
    return socket.gethostname() or "unknown"


def link(campaign: CampaignRecord, round_index: int, kind: str,
         concurrency: int | None, slot_at: str | None) -> dict[str, Any]:
    return {
        "campaign_id": campaign.campaign_id, "name": campaign.name,
        "vantage": campaign.vantage, "started_at": campaign.started_at,
        "status": campaign.status, "finished_at": campaign.finished_at,
        "round": round_index, "kind": kind, "concurrency": concurrency, "slot_at": slot_at,
        "spec": campaign.spec_json,
    }


@dataclass
class RoundRecord:
    index: int
    slot_at: str | None = None
    sessions: list[Session] = field(default_factory=list)  # cells by level, then cold

    def session(self, kind: str, concurrency: int | None) -> Session | None:
        for s in self.sessions:
            c = s.campaign or {}
            if c.get("kind") == kind and c.get("concurrency") == concurrency:
                return s
        return None

    @property
    def started_at(self) -> str | None:
        return min((s.started_at for s in self.sessions), default=None)

    @property
    def finished_at(self) -> str | None:
        ends = [s.finished_at for s in self.sessions]
        return None if not ends or None in ends else max(e for e in ends if e)


@dataclass
class CampaignRecord:
    campaign_id: str
    name: str
    vantage: str
    started_at: str
    spec_json: dict[str, Any]
    status: str = "running"  # "running", "finished", "stopped"
    finished_at: str | None = None
    rounds: list[RoundRecord] = field(default_factory=list)

    @property
    def rounds_skipped(self) -> int:
        """Rounds before the last one run that never ran (their slot and the
        next one had both passed: the machine was busy, asleep or stopped)."""
        if not self.rounds:
            return 0
        return self.rounds[-1].index + 1 - len(self.rounds)

    def round(self, index: int) -> RoundRecord:
        for r in self.rounds:
            if r.index == index:
                return r
        made = RoundRecord(index)
        self.rounds.append(made)
        self.rounds.sort(key=lambda r: r.index)
        return made


def from_sessions(sessions: Iterable[Session], *, status: str | None = None,
                  finished_at: str | None = None) -> CampaignRecord:
    """A campaign rebuilt from its sessions (any order; all of one campaign id)."""
    ordered = sorted(sessions, key=lambda s: (s.campaign or {}).get("round", 0))
    if not ordered:
        raise ValueError("a campaign needs at least one session")
    head = ordered[0].campaign or {}
    record = CampaignRecord(
        campaign_id=head["campaign_id"], name=head.get("name", ""),
        vantage=head.get("vantage") or ordered[0].host or "unknown",
        started_at=head.get("started_at") or ordered[0].started_at,
        spec_json=head.get("spec") or {}, status=status or "stopped", finished_at=finished_at)
    for s in ordered:
        c = s.campaign or {}
        rnd = record.round(int(c.get("round", 0)))
        rnd.slot_at = rnd.slot_at or c.get("slot_at")
        rnd.sessions.append(s)
    for rnd in record.rounds:
        rnd.sessions.sort(key=lambda s: (
            (s.campaign or {}).get("kind") == KIND_COLD, (s.campaign or {}).get("concurrency") or 0))
    return record


def spec_of(record: CampaignRecord, providers: Any = None) -> ResolvedCampaign:
    from infertui.core.campaign.spec import resolved_from_json

    return resolved_from_json(record.spec_json, providers)
