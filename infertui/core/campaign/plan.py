"""When rounds start, what a round's cells are, and a cell's jobs, numbered
one at a time as lanes ask for them.

A cell is (round, concurrency level, target). Nothing is materialised up
front: rounds are start times from the schedule, generated as needed; a
cell hands out its next job (or its next chain of jobs) only when a lane is
free to send it, so 75 requests x many cells never exist as objects at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Iterator

from infertui.core.campaign.spec import CampaignSpec, Schedule, Window

DEFAULT_WINDOW_SPAN_S = 86400.0  # windows without `for`: one day of them


def _zone(name: str | None) -> tzinfo | None:
    if name is None:
        return None
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def _local(ts: float, zone: tzinfo | None) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC).astimezone(zone)


def _minute_of_day(ts: float, zone: tzinfo | None) -> float:
    t = _local(ts, zone)
    return t.hour * 60 + t.minute + t.second / 60


def round_starts(schedule: Schedule | None, start: float) -> Iterator[float]:
    """Wall-clock times (seconds since the epoch) when rounds start, the
    first at or after `start`. No schedule: one round, now. `every` with
    `for`: a round every `every` while within `for`. `windows`: with `every`,
    the slots that fall inside a window; without, one round as each window
    opens (and one at once when `start` is already inside one)."""
    if schedule is None or (schedule.every_s is None and not schedule.windows):
        yield start
        return
    zone = _zone(schedule.timezone)
    span = schedule.for_s if schedule.for_s is not None else DEFAULT_WINDOW_SPAN_S
    end = start + span
    if schedule.every_s is not None:
        k = 0
        while (t := start + k * schedule.every_s) < end:
            if not schedule.windows or any(w.contains(_minute_of_day(t, zone))
                                           for w in schedule.windows):
                yield t
            k += 1
        return
    yield from _window_openings(schedule.windows, start, end, zone)


def _window_openings(windows: tuple[Window, ...], start: float, end: float,
                     zone: tzinfo | None) -> Iterator[float]:
    if any(w.contains(_minute_of_day(start, zone)) for w in windows):
        yield start
    day = _local(start, zone).replace(hour=0, minute=0, second=0, microsecond=0)
    while day.timestamp() < end:
        for opening in sorted(w.start_min for w in windows):
            # Wall-clock arithmetic in the zone: a DST change moves the instant.
            local = day.replace(hour=opening // 60, minute=opening % 60)
            ts = local.timestamp()
            if start < ts < end:
                yield ts
        day = (day + timedelta(days=1, hours=2)).replace(hour=0)


def count_rounds(spec: CampaignSpec, start: float) -> int:
    return sum(1 for _ in round_starts(spec.schedule, start))


@dataclass(frozen=True)
class Cell:
    round: int
    concurrency: int
    target: str  # the target's label

    @property
    def key(self) -> str:
        return f"r{self.round}/c{self.concurrency}/{self.target}"


@dataclass(frozen=True, slots=True)
class Job:
    """One request of a cell. `index` counts the cell's requests of this phase
    (it picks the prompt); `seq` is unique within the round's session for
    this target (its probe id)."""

    seq: int
    index: int
    warmup: bool
    chain: int | None = None
    chain_pos: int | None = None


class CellJobs:
    """Hands out a cell's jobs lazily. Resuming, `done` measured requests
    already finished and sequence numbers below `next_seq` are taken, so no
    finished request is sent again and no probe id is reused."""

    def __init__(self, requests: int, warmup: int, chain: int | None, *, done: int = 0,
                 next_seq: int = 0, next_chain: int = 0) -> None:
        self.remaining = max(0, requests - done)
        self.warmups_left = warmup if self.remaining else 0
        self.chain = chain
        self._seq = next_seq
        self._index = done
        self._warm_index = 0
        self._chain_id = next_chain

    def _take_seq(self) -> int:
        seq = self._seq
        self._seq += 1
        return seq

    def next_warmup(self) -> Job | None:
        if self.warmups_left <= 0:
            return None
        self.warmups_left -= 1
        job = Job(self._take_seq(), self._warm_index, True)
        self._warm_index += 1
        return job

    def next_batch(self) -> list[Job]:
        """The next measured request, or with `chain` the next chain of up to
        K requests that one lane sends back to back; [] when done."""
        size = min(self.chain or 1, self.remaining)
        if size <= 0:
            return []
        chain_id = None
        if self.chain:
            chain_id = self._chain_id
            self._chain_id += 1
        jobs = []
        for pos in range(size):
            jobs.append(Job(self._take_seq(), self._index, False, chain_id,
                            pos if chain_id is not None else None))
            self._index += 1
        self.remaining -= size
        return jobs
