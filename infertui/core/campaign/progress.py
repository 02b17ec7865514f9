"""How far a running campaign has got: what the CLI's progress line and the
app's header and live cells table show. Updated by the executor on the event
loop; read by whoever renders, never written by them."""

from __future__ import annotations

from dataclasses import dataclass, field

from infertui.core.campaign.plan import Cell


@dataclass
class CellProgress:
    cell: Cell
    planned: int  # requests, warm-ups included
    done: int = 0
    ok: int = 0
    errors: int = 0
    in_flight: int = 0
    rate_limited: int = 0
    ttft_ms: list[float] = field(default_factory=list)  # ok measured probes
    finished: bool = False


@dataclass
class CampaignProgress:
    rounds: int = 0
    cells_total: int = 0
    requests_total: int = 0
    cells_done: int = 0
    requests_done: int = 0
    in_flight: int = 0
    errors: int = 0
    rate_limited: int = 0
    round: int | None = None  # the round running now
    waiting_until: float | None = None  # wall time the next round starts, while waiting
    started_ns: int | None = None
    waited_s: float = 0.0  # schedule waits so far (not work)
    cells: dict[str, CellProgress] = field(default_factory=dict)

    def elapsed_s(self, now_ns: int) -> float:
        return 0.0 if self.started_ns is None else (now_ns - self.started_ns) / 1e9

    def eta_s(self, now_ns: int, waits_ahead_s: float = 0.0) -> float | None:
        """Time left at the pace so far (schedule waits apart), plus the
        waits still ahead; None until a request has finished."""
        if not self.requests_done:
            return None
        working = max(0.0, self.elapsed_s(now_ns) - self.waited_s)
        left = max(0, self.requests_total - self.requests_done)
        return working / self.requests_done * left + waits_ahead_s
