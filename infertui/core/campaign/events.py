"""What a running campaign tells its consumers, beside the probe events
(core/events.py) of the sessions its rounds run as."""

from __future__ import annotations

from dataclasses import dataclass

from infertui.core.campaign.plan import Cell


@dataclass(frozen=True, slots=True)
class CampaignStarted:
    campaign_id: str
    name: str
    rounds: int
    cells: int
    requests: int  # every probe planned: warm-ups, measured, cold-start


@dataclass(frozen=True, slots=True)
class RoundWaiting:
    """Nothing runs until `starts_at` (seconds since the epoch)."""

    round: int
    starts_at: float


@dataclass(frozen=True, slots=True)
class RoundStarted:
    round: int


@dataclass(frozen=True, slots=True)
class CellStarted:
    cell: Cell


@dataclass(frozen=True, slots=True)
class CellFinished:
    cell: Cell


@dataclass(frozen=True, slots=True)
class TargetPaused:
    """A 429 said Retry-After: the target's lanes send nothing for `seconds`."""

    target: str
    seconds: float


@dataclass(frozen=True, slots=True)
class RoundFinished:
    round: int


@dataclass(frozen=True, slots=True)
class CampaignFinished:
    campaign_id: str
    status: str  # "finished" or "stopped"


CampaignEvent = (CampaignStarted | RoundWaiting | RoundStarted | CellStarted | CellFinished
                 | TargetPaused | RoundFinished | CampaignFinished)
