"""Runs a campaign: rounds at their scheduled times, each round's cells, each
cell's requests over one-connection lanes.

- Targets run side by side: each target walks its own concurrency levels in
  its own task, with its own lanes (one client per lane), so a target's
  requests never wait for another's. A round ends when every target is done
  with it.
- A cell with concurrency N is N lanes, each a closed-loop user: it takes the
  next job when its previous one finished. Jobs are numbered only when a lane
  takes them (plan.CellJobs).
- A 429 with Retry-After pauses every lane of that target until it passes;
  the wait is recorded on the next probe as `backoff_ns` and never counted as
  latency or queue time.
- Every finished probe goes to the sinks at once (the store appends it).
- Resuming, cells already finished are skipped and finished requests are
  never sent again.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Callable, Mapping

from infertui.core.campaign import events as ce
from infertui.core.campaign.checks import run_checks
from infertui.core.campaign.plan import Cell, CellJobs, Job, round_starts
from infertui.core.campaign.progress import CampaignProgress, CellProgress
from infertui.core.campaign.prompts import prompt_for, set_prompts
from infertui.core.campaign.record import (
    KIND_CELLS,
    KIND_COLD,
    CampaignRecord,
    RoundRecord,
    default_vantage,
    link,
    new_campaign_id,
)
from infertui.core.campaign.spec import ResolvedCampaign
from infertui.core.clients import ClientPool, preload_http_stack
from infertui.core.clock import Clock, monotonic_ns
from infertui.core.events import ProbeFinished, ProbeSent, RunEvent, SessionFinished, SessionStarted
from infertui.core.loopmon import LoopMonitor
from infertui.core.probe import run_probe
from infertui.core.result import ErrorKind, ProbeResult, Status
from infertui.core.session import RunSettings, Session, new_session_id
from infertui.core.targets import Target, Timeouts

Sink = Callable[[object], None]
SessionSink = Callable[[Session], Callable[[RunEvent], None]]

DEFAULT_BACKOFF_S = 1.0  # a 429 without Retry-After still slows the lane down
MAX_BACKOFF_S = 3600.0
WALL_NAP_S = 60.0  # long schedule waits re-read the wall clock (a suspended laptop)


def iso_of(ts: float, timespec: str = "milliseconds") -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


def epoch_of(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


class _Pause:
    """Until when a target's lanes must not send (a Retry-After)."""

    __slots__ = ("until_ns",)

    def __init__(self) -> None:
        self.until_ns = 0


class CampaignExecutor:
    def __init__(self, campaign: ResolvedCampaign, *, record: CampaignRecord | None = None,
                 campaign_id: str | None = None, vantage: str | None = None,
                 clients: ClientPool | None = None, clock: Clock = monotonic_ns,
                 wall: Callable[[], float] = time.time,
                 environ: Mapping[str, str] | None = None, monitor_loop: bool = True) -> None:
        spec = campaign.spec
        problems = spec.problems()
        if problems:
            raise ValueError("; ".join(problems))
        if spec.timeout_s is not None:
            campaign = replace(campaign, targets=tuple(_with_total(t, spec.timeout_s)
                                                       for t in campaign.targets))
        self.campaign = campaign
        self.spec = spec
        self.reference = campaign.reference
        if campaign.reference is not None and spec.timeout_s is not None:
            self.reference = _with_total(campaign.reference, spec.timeout_s)
        self._checks_pending = bool(spec.check_sets)
        self.clock = clock
        self.wall = wall
        self.environ = environ
        self.resuming = record is not None
        self.record = record or CampaignRecord(
            campaign_id=campaign_id or new_campaign_id(), name=spec.name,
            vantage=vantage or default_vantage(), started_at=iso_of(wall()),
            spec_json=campaign.to_json())
        self._owns_clients = clients is None
        self.clients = clients or ClientPool(clock=clock, sim_seed=spec.seed)
        self.monitor = LoopMonitor(clock=clock) if monitor_loop else None
        self.progress = CampaignProgress()
        self.sink_errors: list[BaseException] = []
        self._texts = campaign.prompt_texts or set_prompts(spec.prompt_set or "short")
        self._sinks: list[Sink] = []
        self._session_sink: SessionSink | None = None
        self._session_sinks: dict[str, Callable[[RunEvent], None]] = {}
        self._open: dict[str, int] = {}  # session id -> targets still running in it
        self._pauses = {t.label: _Pause() for t in campaign.targets}
        self._last_activity: dict[str, int] = {}
        self._task: asyncio.Task | None = None
        self._stopping = False

    # -- consumers ----------------------------------------------------------------
    def _emit(self, event: object) -> None:
        for sink in self._sinks:
            try:
                sink(event)
            except Exception as exc:  # noqa: BLE001 - a consumer's bug never disturbs a probe
                self.sink_errors.append(exc)

    def _emit_run(self, session: Session, event: RunEvent) -> None:
        sink = self._session_sinks.get(session.session_id)
        if sink is not None:
            try:
                sink(event)
            except Exception as exc:  # noqa: BLE001 - a consumer's bug never disturbs a probe
                self.sink_errors.append(exc)
        self._emit(event)

    # -- the whole campaign -------------------------------------------------------
    async def run(self, *sinks: Sink, session_sink: SessionSink | None = None) -> CampaignRecord:
        self._sinks = list(sinks)
        self._session_sink = session_sink
        self._task = asyncio.current_task()
        record = self.record
        record.status = "running"
        start_wall = epoch_of(record.started_at)
        starts = list(round_starts(self.spec.schedule, start_wall))
        self._plan_progress(starts)
        self._emit(ce.CampaignStarted(record.campaign_id, record.name, len(starts),
                                      self.progress.cells_total, self.progress.requests_total))
        preload_http_stack()
        widest = max(self.spec.concurrency)
        for target in self.campaign.targets:
            for slot in range(self._lanes(target, widest)):
                self.clients.client(target.provider, lane=(target.label, slot))
        if self.monitor is not None:
            self.monitor.start()
        self.progress.started_ns = self.clock()
        try:
            for index, start in enumerate(starts):
                if self._round_complete(index):
                    continue
                later = starts[index + 1] if index + 1 < len(starts) else None
                if later is not None and self.wall() >= later and not self._round_begun(index):
                    continue  # its slot and the next one have both passed: skipped
                await self._wait_for(index, start)
                await self._round(index, start)
            record.status = "finished"
        except asyncio.CancelledError:
            if not self._stopping:
                raise
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            record.status = "stopped"
        finally:
            self._close_sessions(cancelled=record.status != "finished")
            if self.monitor is not None:
                await self.monitor.stop()
            if self._owns_clients:
                await self.clients.aclose()
            record.finished_at = iso_of(self.wall())
            for rnd in record.rounds:  # the links in memory say what the store will
                for session in rnd.sessions:
                    if session.campaign is not None:
                        session.campaign.update(status=record.status,
                                                finished_at=record.finished_at)
        self._emit(ce.CampaignFinished(record.campaign_id, record.status))
        return record

    def stop(self) -> None:
        """Finished probes are kept, running ones end cancelled, nothing new
        starts; the campaign can be resumed later."""
        if self._task is not None and not self._task.done() and not self._stopping:
            self._stopping = True
            self._task.cancel()

    @property
    def stopped(self) -> bool:
        return self._stopping

    # -- planning and resuming ----------------------------------------------------
    def _done_in(self, session: Session | None, label: str, phase: str) -> list[ProbeResult]:
        if session is None:
            return []
        return [p for p in session.probes if p.target.label == label and p.phase == phase
                and p.status is not Status.CANCELLED]

    def _cell_state(self, index: int, level: int, label: str) -> tuple[int, int, int]:
        """(finished measured requests, next free seq, next chain id) of a cell."""
        rnd = self._existing_round(index)
        session = rnd.session(KIND_CELLS, level) if rnd else None
        if session is None:
            return 0, 0, 0
        mine = [p for p in session.probes if p.target.label == label]
        done = len(self._done_in(session, label, "measured"))
        next_seq = max((p.seq for p in mine), default=-1) + 1
        next_chain = max((p.chain for p in mine if p.chain is not None), default=-1) + 1
        return done, next_seq, next_chain

    def _cold_done(self, index: int, label: str) -> tuple[int, int]:
        rnd = self._existing_round(index)
        session = rnd.session(KIND_COLD, None) if rnd else None
        mine = [p for p in session.probes if p.target.label == label] if session else []
        return len(self._done_in(session, label, "cold")), max((p.seq for p in mine), default=-1) + 1

    def _existing_round(self, index: int) -> RoundRecord | None:
        return next((r for r in self.record.rounds if r.index == index), None)

    def _round_begun(self, index: int) -> bool:
        return self._existing_round(index) is not None

    def _round_complete(self, index: int) -> bool:
        if not self._round_begun(index):
            return False
        s = self.spec
        for target in self.campaign.targets:
            for level in s.concurrency:
                if self._cell_state(index, level, target.label)[0] < s.requests:
                    return False
            if s.cold_start and self._cold_done(index, target.label)[0] < s.cold_start.probes:
                return False
        return True

    def _plan_progress(self, starts: list[float]) -> None:
        s, p = self.spec, self.progress
        p.rounds = len(starts)
        for index in range(len(starts)):
            for target in self.campaign.targets:
                for level in s.concurrency:
                    done = self._cell_state(index, level, target.label)[0]
                    cell = Cell(index, level, target.label)
                    left = s.requests - done
                    p.cells_total += 1
                    planned = left + (s.warmup if left else 0)
                    p.requests_total += planned
                    p.cells[cell.key] = CellProgress(cell, planned, finished=left <= 0)
                    if left <= 0:
                        p.cells_done += 1
                if s.cold_start:
                    p.requests_total += max(0, s.cold_start.probes
                                            - self._cold_done(index, target.label)[0])

    # -- rounds --------------------------------------------------------------------
    async def _wait_for(self, index: int, start: float) -> None:
        if self.wall() >= start:
            return
        self._emit(ce.RoundWaiting(index, start))
        self.progress.waiting_until = start
        began = self.clock()
        while (left := start - self.wall()) > 0:  # noqa: ASYNC110 - a wall-clock time, not an event
            await asyncio.sleep(min(left, WALL_NAP_S))
        self.progress.waited_s += (self.clock() - began) / 1e9
        self.progress.waiting_until = None

    async def _round(self, index: int, start: float) -> None:
        rnd = self.record.round(index)
        rnd.slot_at = rnd.slot_at or iso_of(start)
        self.progress.round = index
        self._emit(ce.RoundStarted(index))
        if self._checks_pending:  # once, before the first cells this run sends
            self._checks_pending = False
            await run_checks(self, rnd)
        async with asyncio.TaskGroup() as group:
            for target in self.campaign.targets:
                group.create_task(self._target_round(rnd, target))
        for session in list(rnd.sessions):
            self._finish_session(session, cancelled=False)
        self._emit(ce.RoundFinished(index))

    def _session(self, rnd: RoundRecord, kind: str, level: int | None) -> Session:
        session = rnd.session(kind, level)
        if session is None:
            session = Session(
                session_id=new_session_id(), started_at=iso_of(self.wall()),
                params=replace(self.campaign.params, prompt=self._texts[0]),
                targets=list(self.campaign.targets),
                settings=RunSettings(repeat=self.spec.requests if kind == KIND_CELLS
                                     else (self.spec.cold_start.probes if self.spec.cold_start else 1),
                                     concurrency=level or 1,
                                     warmup=self.spec.warmup if kind == KIND_CELLS else 0,
                                     nonce=self.spec.uses_nonce),
                host=default_vantage(),
                campaign=link(self.record, rnd.index, kind, level, rnd.slot_at))
            rnd.sessions.append(session)
        else:
            session.finished_at = None  # resumed: it runs again
        if session.session_id not in self._open:
            self._open[session.session_id] = len(self.campaign.targets)
            if self._session_sink is not None:
                self._session_sinks[session.session_id] = self._session_sink(session)
            total = sum(self.progress.cells[Cell(rnd.index, level, t.label).key].planned
                        for t in self.campaign.targets) if level is not None else 0
            self._emit_run(session, SessionStarted(session.session_id, tuple(session.targets), total))
        return session

    def _target_done_with(self, session: Session) -> None:
        left = self._open.get(session.session_id)
        if left is not None:
            self._open[session.session_id] = left - 1
            if left - 1 <= 0:
                self._finish_session(session, cancelled=False)

    def _finish_session(self, session: Session, cancelled: bool) -> None:
        if self._open.pop(session.session_id, None) is None:
            return
        session.finished_at = iso_of(self.wall())
        self._emit_run(session, SessionFinished(session.session_id, cancelled))
        self._session_sinks.pop(session.session_id, None)

    def _close_sessions(self, cancelled: bool) -> None:
        for rnd in self.record.rounds:
            for session in rnd.sessions:
                self._finish_session(session, cancelled)

    async def _target_round(self, rnd: RoundRecord, target: Target) -> None:
        for level in self.spec.concurrency:
            cell = Cell(rnd.index, level, target.label)
            done, next_seq, next_chain = self._cell_state(rnd.index, level, target.label)
            if done >= self.spec.requests:
                continue
            session = self._session(rnd, KIND_CELLS, level)
            jobs = CellJobs(self.spec.requests, self.spec.warmup, self.spec.chain, done=done,
                            next_seq=next_seq, next_chain=next_chain)
            self._emit(ce.CellStarted(cell))
            await self._run_cell(session, cell, target, level, jobs)
            self._target_done_with(session)
            progress = self.progress.cells[cell.key]
            progress.finished = True
            self.progress.cells_done += 1
            self._emit(ce.CellFinished(cell))
        if self.spec.cold_start:
            await self._cold(rnd, target)

    async def _run_cell(self, session: Session, cell: Cell, target: Target, level: int,
                        jobs: CellJobs) -> None:
        lanes = self._lanes(target, level)

        async def warm_lane(slot: int) -> None:
            while (job := jobs.next_warmup()) is not None:
                await self._send(session, cell, target, slot, job, "warmup")

        async def lane(slot: int) -> None:
            while batch := jobs.next_batch():
                for job in batch:
                    await self._send(session, cell, target, slot, job, "measured")

        if jobs.warmups_left:
            async with asyncio.TaskGroup() as group:
                for slot in range(min(lanes, jobs.warmups_left)):
                    group.create_task(warm_lane(slot))
        async with asyncio.TaskGroup() as group:
            for slot in range(lanes):
                group.create_task(lane(slot))

    async def _cold(self, rnd: RoundRecord, target: Target) -> None:
        cold = self.spec.cold_start
        assert cold is not None
        done, next_seq = self._cold_done(rnd.index, target.label)
        if done >= cold.probes:
            return
        session = self._session(rnd, KIND_COLD, None)
        idle_ns = int(cold.idle_s * 1e9)
        for i in range(done, cold.probes):
            last = self._last_activity.get(target.label)
            if last is not None:
                while (wait := last + idle_ns - self.clock()) > 0:  # noqa: ASYNC110 - an idle time to pass
                    await asyncio.sleep(wait / 1e9)
            job = Job(next_seq + i - done, i, False)
            await self._send(session, None, target, 0, job, "cold")
        self._target_done_with(session)

    # -- one request ----------------------------------------------------------------
    async def _send(self, session: Session, cell: Cell | None, target: Target, slot: int,
                    job: Job, phase: str) -> None:
        pause = self._pauses[target.label]
        backoff_ns = 0
        while (wait := pause.until_ns - self.clock()) > 0:
            began = self.clock()
            await asyncio.sleep(wait / 1e9)
            backoff_ns += self.clock() - began
        client = self.clients.client(target.provider, lane=(target.label, slot))
        params = replace(self.campaign.params, prompt=prompt_for(self._texts, job.index))
        cell_progress = self.progress.cells.get(cell.key) if cell is not None else None
        index = self.campaign.targets.index(target)
        probe_id = f"{session.session_id}.{index}.{job.seq}"

        sent = False

        def emit(event: RunEvent) -> None:
            nonlocal sent
            if type(event) is ProbeFinished:
                self._tag(event.result, job, phase, backoff_ns)
                session.probes.append(event.result)
                self._count(event.result, cell_progress, sent)
            elif type(event) is ProbeSent:
                sent = True
                self.progress.in_flight += 1
                if cell_progress is not None:
                    cell_progress.in_flight += 1
            self._emit_run(session, event)

        result = await run_probe(
            client, target, params, probe_id=probe_id, seq=job.seq, warmup=job.warmup,
            nonce=os.urandom(6).hex() if self.spec.uses_nonce else None, clock=self.clock,
            emit=emit, queued_at_ns=self.clock(), monitor=self.monitor, environ=self.environ)
        self._last_activity[target.label] = self.clock()
        error = result.error
        if error is not None and error.kind is ErrorKind.RATE_LIMITED:
            seconds = min(MAX_BACKOFF_S, error.retry_after if error.retry_after is not None
                          else DEFAULT_BACKOFF_S)
            pause.until_ns = max(pause.until_ns, self.clock() + int(seconds * 1e9))
            self._emit(ce.TargetPaused(target.label, seconds))

    def _tag(self, r: ProbeResult, job: Job, phase: str, backoff_ns: int) -> None:
        """The campaign's view of a probe, set before any sink sees it."""
        r.phase = phase
        r.chain, r.chain_pos = job.chain, job.chain_pos
        r.backoff_ns = backoff_ns or None
        self._stamp_sent_at(r)

    def _stamp_sent_at(self, r: ProbeResult) -> None:
        if r.sent_clock_ns is not None:
            # When it was sent, on the campaign's wall clock (the same instant
            # run_probe stamped, but consistent with round and session times).
            r.sent_at = iso_of(self.wall() - (self.clock() - r.sent_clock_ns) / 1e9,
                               "microseconds")

    def _count(self, r: ProbeResult, cell: CellProgress | None, sent: bool) -> None:
        p = self.progress
        p.requests_done += 1
        if sent:
            p.in_flight = max(0, p.in_flight - 1)
        limited = r.error is not None and r.error.kind is ErrorKind.RATE_LIMITED
        p.errors += r.status is Status.ERROR
        p.rate_limited += limited
        if cell is None:
            return
        cell.done += 1
        if sent:
            cell.in_flight = max(0, cell.in_flight - 1)
        if r.warmup:
            return
        if r.status is Status.OK:
            cell.ok += 1
            if r.first_content_ns is not None:
                cell.ttft_ms.append(r.first_content_ns / 1e6)
        elif r.status is Status.ERROR:
            cell.errors += 1
            cell.rate_limited += limited

    def _lanes(self, target: Target, level: int) -> int:
        return min(level, max(1, target.provider.max_concurrency))


def _with_total(target: Target, total: float) -> Target:
    t = target.provider.timeouts
    timeouts = Timeouts(connect=min(t.connect, total), headers=min(t.headers, total),
                        stall=min(t.stall, total), total=total)
    return Target(replace(target.provider, timeouts=timeouts), target.model)
