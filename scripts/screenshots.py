"""Regenerate screenshots/*.svg from deterministic simulator runs.

    .venv/bin/python scripts/screenshots.py

Every session is a real run of the core's Runner against the built-in
simulator, through the real wire formats, but on a virtual clock: each
target's worker task has its own timeline, advanced by exactly the delays the
simulator planned, so every offset the probes measure is the plan's and every
run gives the same bytes. Wall-clock fields (ids, start times, host) are then
set from fixed values. The sessions are saved in a temporary results store
and the app is driven with Textual's Pilot at a fixed terminal size.

Writes only screenshots/*.svg and screenshots/report*.png (the HTML report
of a sample campaign in headless Chromium; `--report-only` makes just
those); config and data directories are temporary.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "screenshots"
SIZE = (170, 45)
HOST = "lab"

# Imported after the temporary directories are set (see main): nothing from
# infertui reads them at import, but the app must never see a real config.
sys.path.insert(0, str(ROOT))


class TaskClock:
    """Virtual nanoseconds, one timeline per asyncio task. With concurrency 1
    a target's probes all run in one worker task, so each target has its own
    timeline, exactly as if it had the machine to itself."""

    def __init__(self) -> None:
        self._now: dict[asyncio.Task, int] = {}

    def __call__(self) -> int:
        try:
            task = asyncio.current_task()
        except RuntimeError:
            return 0
        return self._now.get(task, 0)

    def advance(self, seconds: float) -> None:
        task = asyncio.current_task()
        self._now[task] = self() + round(seconds * 1e9)


class PacedFrames(httpx.AsyncByteStream):
    """A simulated stream whose frames arrive on the virtual clock."""

    def __init__(self, frames, clock: TaskClock, disconnect: bool, request: httpx.Request) -> None:
        self.frames, self.clock, self.disconnect, self.request = frames, clock, disconnect, request

    async def __aiter__(self):
        for frame in self.frames:
            self.clock.advance(frame.delay_s)
            if frame.data:
                yield frame.data
            await asyncio.sleep(0)  # let the other targets' tasks move on
        if self.disconnect:
            raise httpx.RemoteProtocolError("peer closed connection (simulated disconnect)",
                                            request=self.request)


class VirtualSimTransport(httpx.AsyncBaseTransport):
    """The built-in simulator (its `SimService`, planning every reply from the
    seed) with time taken from a TaskClock instead of sleeping."""

    def __init__(self, seed: int, clock: TaskClock) -> None:
        from infertui.core.simulator.service import SimService

        self.service = SimService(seed=seed, clock=clock, time_scale=0.0)
        self.clock = clock

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        trace = request.extensions.get("trace")
        if trace is not None:
            await trace("http11.send_request_body.complete", {"request": request})
        host = request.url.host
        provider = host[: -len(".invalid")] if host.endswith(".invalid") else None
        headers = {name.lower(): value for name, value in request.headers.items()}
        reply = self.service.handle(request.method, request.url.path,
                                    dict(request.url.params.multi_items()), headers, body,
                                    received_ns=self.clock(), provider=provider)
        self.clock.advance(reply.delay_s)
        if trace is not None:
            await trace("http11.receive_response_headers.complete", {"request": request})
        extensions = {"http_version": b"HTTP/1.1"}
        if reply.frames is None:
            return httpx.Response(reply.status, headers={**reply.headers, "content-length": str(len(reply.body))},
                                  stream=httpx.ByteStream(reply.body), extensions=extensions)
        return httpx.Response(reply.status, headers=reply.headers, extensions=extensions,
                              stream=PacedFrames(reply.frames, self.clock, reply.disconnect, request))


# --- the sessions ----------------------------------------------------------------

def _iso(when: datetime) -> str:
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def session_id_for(name: str, started: datetime) -> str:
    """Time-sortable like the real ones, the random half from the name."""
    return f"{int(started.timestamp() * 1000):012x}{hashlib.sha256(name.encode()).hexdigest()[:10]}"


async def simulate(name: str, specs: list[str], prompt: str, started: datetime, *, repeat: int,
                   seed: int, max_tokens: int = 160):
    from infertui.core.clients import ClientPool
    from infertui.core.runner import Runner
    from infertui.core.session import RunSettings
    from infertui.core.simulator.providers import builtin_providers
    from infertui.core.targets import ProbeParams, Target, split_target

    providers = {p.name: p for p in builtin_providers()}
    targets = [Target(providers[p], m) for p, m in map(split_target, specs)]
    clock = TaskClock()
    transport = VirtualSimTransport(seed, clock)
    pool = ClientPool(lambda provider: transport, clock=clock)
    runner = Runner(targets, ProbeParams(prompt, max_tokens=max_tokens), RunSettings(repeat=repeat),
                    clients=pool, clock=clock, session_id=session_id_for(name, started),
                    monitor_loop=False)
    session = await runner.run()
    session.started_at = _iso(started)
    session.host = HOST
    last = started
    for probe in session.probes:
        # When it was sent on the run's own timeline: queued at the start,
        # waited for its turn (queue), then built and sent (pre-send).
        offset_ns = (probe.queue_ns or 0) + (probe.pre_send_ns or 0)
        sent = started + timedelta(microseconds=offset_ns // 1000)
        probe.sent_at = _iso(sent)
        last = max(last, sent + timedelta(microseconds=(probe.end_ns or 0) // 1000))
    session.finished_at = _iso(last)
    return session


PROMPT = "In three sentences, explain why the sky is blue."
DAY0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


async def build_sessions():
    """Six daily races of the three demo-70b providers, one flaky demo-8b
    comparison and one reasoning comparison. Returns (all, race, errors)."""
    race_targets = ["sim-alpha/demo-70b", "sim-beta/demo-70b", "sim-gamma/demo-70b"]
    sessions = []
    for day in range(6):
        started = DAY0 + timedelta(days=day, hours=day % 3, minutes=7 * day)
        sessions.append(await simulate(f"race-{day}", race_targets, PROMPT, started, repeat=4, seed=day))
    errors = await simulate("flaky", ["sim-alpha/demo-8b", "sim-beta/demo-8b", "sim-gamma/demo-8b"],
                            "List three uses of a hash map, one line each.",
                            DAY0 + timedelta(days=5, hours=4), repeat=8, seed=13, max_tokens=96)
    reasoning = await simulate("reasoning", ["sim-alpha/demo-reasoner", "sim-beta/demo-reasoner"],
                               "Is 221 a prime number?", DAY0 + timedelta(days=4, hours=6),
                               repeat=2, seed=3, max_tokens=256)
    sessions += [errors, reasoning]
    return sessions, sessions[5], errors


def save_sessions(db: Path, sessions) -> None:
    from infertui.store.repository import Store

    with Store.open(db) as store:
        for session in sessions:
            store.create_session(session)
            for probe in session.probes:
                store.save_probe(session.session_id, probe)
            store.finish_session(session.session_id, session.finished_at, False)


# --- a race caught mid-way -----------------------------------------------------------

def probe_start_ns(probe) -> int:
    return (probe.queue_ns or 0) + (probe.pre_send_ns or 0)


def race_frame(session, at_ns: int):
    """Per target at `at_ns` into the run: its finished probes and the one
    streaming (with how far into it), as the live compare screen had them."""
    frame = {}
    for target in session.targets:
        own = [p for p in session.probes if p.target.label == target.label]
        own.sort(key=probe_start_ns)
        done = [p for p in own if probe_start_ns(p) + (p.end_ns or 0) <= at_ns]
        running = next((p for p in own if probe_start_ns(p) <= at_ns < probe_start_ns(p) + (p.end_ns or 0)),
                       None)
        frame[target.label] = (done, running, at_ns - probe_start_ns(running) if running else 0)
    return frame


def show_mid_race(compare, session, at_ns: int) -> None:
    """Drive the (mounted) compare panes, summary and status line as the live
    run had them `at_ns` in, through the panes' public calls. Each pane gets
    a clock of its own (a ManualClock): a live pane header shows the seconds
    since its probe was sent, and the picture must show the recorded ones,
    whenever the header is drawn again."""
    from textual.widgets import Static

    from infertui.core import metrics
    from infertui.core.clock import ManualClock
    from infertui.tui.widgets.summary import badge_winners

    frame = race_frame(session, at_ns)
    per_target = session.settings.repeat + session.settings.warmup
    order = {t.label: i for i, t in enumerate(session.targets)}
    finished = sorted((p for done, _r, _l in frame.values() for p in done),
                      key=lambda p: (order[p.target.label], p.seq))
    summary = metrics.summarize(finished)
    first_token, first_finish = badge_winners(summary, contestants=len(session.targets))
    for label, pane in compare.panes.items():
        done, running, local_ns = frame[label]
        clock = pane.clock = ManualClock(0)
        if running is not None:
            pane.begin(running.probe_id, running.seq, running.warmup, sent_ns=0)
            for chunk in running.chunks:
                if chunk.offset_ns <= local_ns:
                    pane.append(chunk.kind, chunk.text, chunk.offset_ns)
        elif done:
            pane.show_result(done[-1])
        pane.note = f"{len(done)}/{per_target} done" + (" · 1 running" if running else "")
        pane.set_badges(label == first_token, label == first_finish, session.settings.repeat > 1)
        clock.now_ns = local_ns  # the header's seconds since begin()
        pane.flush()
    table = compare.summary_table()
    table.update_from(summary, labels=[t.label for t in session.targets], probes=finished)
    table.display = True
    running_count = sum(1 for _d, r, _l in frame.values() if r is not None)
    compare.query_one("#run-status", Static).update(
        f"running · {len(finished)}/{per_target * len(session.targets)} probes done · "
        f"{running_count} in flight · {at_ns / 1e9:.1f} s · escape cancels")


# --- the screenshots ----------------------------------------------------------------

async def capture(db: Path, race, errors) -> dict[str, str]:
    from infertui.core.clock import ManualClock
    from infertui.tui.app import create_app
    from infertui.tui.screens.replay import ReplayScreen

    shots: dict[str, str] = {}

    async def settle(pilot) -> None:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.pause()

    app = create_app(None, db, detect_local_servers=False, clock=ManualClock())  # no run happens here
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        compare = app.compare
        compare.load_run(race.targets, race.params, race.settings)
        compare.action_toggle_sidebar()  # three panes side by side need the width
        await settle(pilot)  # the new panes mount
        # 3.33 s in: sim-beta streams its first answer after a cold start,
        # the others are on their third probe.
        show_mid_race(compare, race, 3_330_000_000)
        app.set_focus(None)
        await pilot.pause()
        shots["compare-mid-race.svg"] = app.export_screenshot(title="infertui: a race in progress")
        compare.action_toggle_sidebar()

        compare.show_session(errors)
        # The session's panes are new: they draw their results once mounted
        # and refreshed.
        for _ in range(100):
            await pilot.pause()
            if all(pane.is_mounted for pane in compare.panes.values()):
                break
        await settle(pilot)
        await pilot.pause()
        app.set_focus(None)
        await pilot.pause()
        shots["compare-errors.svg"] = app.export_screenshot(title="infertui: a finished comparison with errors")

        await pilot.press("f2")
        await settle(pilot)
        shots["history.svg"] = app.export_screenshot(title="infertui: history")

        app.open_session(race)
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        shots["session-charts.svg"] = app.export_screenshot(title="infertui: a past session, charts")

        await pilot.press("1")
        await pilot.pause()
        shots["session-panes.svg"] = app.export_screenshot(title="infertui: a past session as it ended")

        replay = ReplayScreen(race)  # its panes count seconds on the recorded timeline
        await app.push_screen(replay)
        await settle(pilot)
        replay.action_toggle_pause()  # paused: the frame timer draws nothing more
        second = replay.plan.rounds[1]
        replay.seek(second.start_ns + 1_230_000_000)
        await pilot.pause()
        shots["replay.svg"] = app.export_screenshot(title="infertui: replay of a past session")
    return shots


async def run() -> list[Path]:
    with tempfile.TemporaryDirectory(prefix="infertui-shots-") as tmp:
        os.environ["INFERTUI_CONFIG_DIR"] = str(Path(tmp) / "config")
        os.environ["INFERTUI_DATA_DIR"] = str(Path(tmp) / "data")
        sessions, race, errors = await build_sessions()
        db = Path(tmp) / "results.db"
        save_sessions(db, sessions)
        shots = await capture(db, race, errors)
    OUT.mkdir(exist_ok=True)
    written = []
    for name, svg in shots.items():
        path = OUT / name
        path.write_text(svg, encoding="utf-8")
        written.append(path)
    return written


def report_pngs() -> list[Path]:
    """screenshots/report*.png: the HTML report of the sample campaign (the
    one the report tests check, tests/helpers/report_sample.py) as headless
    Chromium shows it. Skipped, with the reason, without a browser."""
    from infertui.cli.report import render
    from infertui.core.campaign.document import build
    from infertui.core.campaign.record import from_sessions
    from infertui.report.build import campaign_report
    from infertui.report.charts import campaign_samples
    from infertui.store.campaigns import Campaigns
    from infertui.store.repository import Store
    from tests.helpers.browser import browser_missing, launch_chromium
    from tests.helpers.report_sample import sample_campaign

    missing = browser_missing()
    if missing is not None:
        print(f"skipped report.png: {missing}", file=sys.stderr)
        return []
    written = []
    with tempfile.TemporaryDirectory(prefix="infertui-report-") as tmp:
        db = Path(tmp) / "results.db"
        campaign_id = sample_campaign(db)
        with Store.open(db) as store:
            campaigns = Campaigns(store)
            row = campaigns.row(campaign_id)
            record = from_sessions(campaigns.load_sessions(campaign_id), status=row.status,
                                   finished_at=row.finished_at)
        page_file = Path(tmp) / "report.html"
        page_file.write_text(render(campaign_report(build(record), campaign_samples(record)),
                                    "html"), encoding="utf-8")
        with launch_chromium(Path(tmp) / "profile",
                             viewport={"width": 1100, "height": 1500}) as context:
            page = context.new_page()
            page.goto(page_file.as_uri(), wait_until="load")
            for name, anchor in (("report.png", None), ("report-checks.png", "#table-compliance")):
                if anchor is not None:
                    page.locator(anchor).scroll_into_view_if_needed()
                    page.evaluate(f"document.querySelector({anchor!r}).scrollIntoView()")
                path = OUT / name
                page.screenshot(path=str(path))
                written.append(path)
    return written


def main() -> int:
    paths = asyncio.run(run()) if "--report-only" not in sys.argv else []
    for path in paths + report_pngs():
        print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
