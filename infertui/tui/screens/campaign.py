"""The campaign screen: start a campaign from a file or a `[campaigns.NAME]`
of the config, watch it, stop it, resume it, and read a finished one.

- Live: a progress header, the cells as a live table, the latest stream of
  each target in a small pane. The executor runs in a worker; its events only
  fill buffers here, and a timer draws them a few times a second (never per
  token).
- Results: the campaign's tables (cells, targets, per round, pairwise
  verdicts, rankings per model, vantage points) and charts.
- Campaigns: every stored campaign; enter opens one, `r` resumes a stopped one.

The TUI only renders: the core measures, the store saves (from its writer
thread), and every store read runs in a thread worker.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.suggester import SuggestFromList
from textual.widgets import (
    Button,
    DataTable,
    Footer,
    Header,
    Input,
    Static,
    TabbedContent,
    TabPane,
)

from infertui.core.campaign import events as ce
from infertui.core.events import ProbeChunk, ProbeFinished, ProbeSent
from infertui.core.stats import percentile
from infertui.tables.campaign import progress_line
from infertui.textsafe import one_line
from infertui.tui import fmt
from infertui.tui.history_queries import StoreAccess, describe_error

if TYPE_CHECKING:
    from textual import getters

    from infertui.core.campaign.executor import CampaignExecutor
    from infertui.store.campaigns import CampaignRow
    from infertui.tui.app import InfertuiApp

FRAME_S = 0.25
STREAM_TAIL = 400  # characters of each target's latest stream kept on screen


@dataclass
class CampaignDone(Message):
    """A campaign ended (or a stored one was loaded): its document."""

    doc: dict[str, Any] | None
    problems: list[str]


@dataclass
class CampaignsListed(Message):
    rows: list[Any]


class CampaignScreen(Screen):
    if TYPE_CHECKING:  # the app it runs in, for the type checker only
        app = getters.app(InfertuiApp)

    DEFAULT_CSS = """
    CampaignScreen #campaign-form { height: 3; }
    CampaignScreen #campaign-source { width: 1fr; }
    CampaignScreen #campaign-progress { height: 1; padding: 0 1; }
    CampaignScreen #campaign-cells { height: 1fr; }
    CampaignScreen #campaign-streams { height: 8; }
    CampaignScreen .campaign-stream { width: 1fr; height: 8; border: round $panel; padding: 0 1; }
    """
    BINDINGS = [
        Binding("ctrl+r", "start", "Run", id="campaign_run"),
        Binding("escape", "stop", "Stop", id="campaign_stop"),
        Binding("r", "resume", "Resume", id="campaign_resume"),
        Binding("f5", "reload", "Reload list", id="campaign_reload", show=False),
    ]

    def __init__(self, open_campaign: str | None = None) -> None:
        super().__init__()
        self.open_campaign = open_campaign  # a stored campaign to show at once (from History)
        self.executor: CampaignExecutor | None = None
        self.doc: dict[str, Any] | None = None
        self._streams: dict[str, str] = {}  # target label -> its latest stream's tail
        self._labels: dict[str, str] = {}  # probe id -> target label
        self._rows: list[Any] = []
        self._dirty = False

    # -- layout ---------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        names = sorted(self.app.config.campaigns) if hasattr(self.app, "config") else []
        yield Header()
        with Horizontal(id="campaign-form"):
            yield Input(placeholder="campaign file, or a [campaigns.NAME] of the config",
                        id="campaign-source", suggester=SuggestFromList(names))
            yield Button("Run", id="campaign-run", variant="primary")
            yield Button("Stop", id="campaign-stop", disabled=True)
        yield Static(id="campaign-progress")
        with TabbedContent(id="campaign-tabs"):
            with TabPane("Live", id="tab-live"):
                yield DataTable(id="campaign-cells", zebra_stripes=True, cursor_type="none")
                yield Horizontal(id="campaign-streams")
            with TabPane("Results", id="tab-results"):
                with VerticalScroll():
                    yield Static("No campaign yet: run one, or open one from Campaigns.",
                                 id="campaign-results")
            with TabPane("Campaigns", id="tab-list"):
                yield DataTable(id="campaign-list", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        cells = self.query_one("#campaign-cells", DataTable)
        for name in ("round", "conc", "target", "done", "running", "ok", "err", "429",
                     "TTFT p50"):
            cells.add_column(name, key=name)
        listing = self.query_one("#campaign-list", DataTable)
        for name in ("started", "name", "status", "vantage", "rounds", "probes", "id"):
            listing.add_column(name, key=name)
        self._timer = self.set_interval(FRAME_S, self._frame, pause=True, name="campaign-frames")
        self.action_reload()
        if self.open_campaign is not None:
            _ = self._access  # made here, on the UI thread
            self._document_worker(self.open_campaign)

    # -- starting ---------------------------------------------------------------------
    @on(Input.Submitted, "#campaign-source")
    @on(Button.Pressed, "#campaign-run")
    def _run_pressed(self) -> None:
        self.action_start()

    @on(Button.Pressed, "#campaign-stop")
    def _stop_pressed(self) -> None:
        self.action_stop()

    def action_start(self) -> None:
        source = self.query_one("#campaign-source", Input).value.strip()
        if self.executor is not None:
            self.notify("A campaign is running; stop it first (escape).", severity="warning")
            return
        if not source:
            self.notify("Give a campaign file or the name of a [campaigns.NAME] of the config.",
                        severity="warning")
            return
        try:
            campaign = self._load(source)
        except Exception as exc:  # noqa: BLE001 - ConfigError, OSError: one notice
            self.notify(str(exc), title="Campaign not started", severity="error", timeout=15)
            return
        self._start(campaign, None)

    def _load(self, source: str):
        from pathlib import Path

        from infertui.store.campaign_config import read_campaign_file, resolve_campaign

        config = self.app.config
        path = Path(source).expanduser()
        if path.is_file():
            spec = read_campaign_file(path)
        elif source in config.campaigns:
            spec = config.campaigns[source]
        else:
            raise ValueError(f"{source!r} is neither a campaign file nor a [campaigns.NAME] "
                             "of the config")
        return resolve_campaign(spec, config)

    def action_resume(self) -> None:
        table = self.query_one("#campaign-list", DataTable)
        if self.executor is not None or not self._rows or table.cursor_row is None:
            return
        row = self._rows[table.cursor_row]
        if row.status == "finished":
            self.notify(f"Campaign {row.campaign_id} already finished.", severity="information")
            return
        self._resume_worker(row.campaign_id)

    @work(thread=True, exclusive=True, group="campaign-read", exit_on_error=False)
    def _resume_worker(self, campaign_id: str) -> None:
        from infertui.core.campaign.record import from_sessions, spec_of
        from infertui.store.campaigns import Campaigns

        try:
            record = self._access.call(lambda s: from_sessions(
                Campaigns(s).load_sessions(campaign_id),
                status=Campaigns(s).row(campaign_id).status), None)
        except Exception as exc:  # noqa: BLE001 - the store's error becomes a notification
            self.app.call_from_thread(self.notify, describe_error(exc), severity="error")
            return
        if record is not None:
            campaign = spec_of(record, self.app.config.providers)
            self.app.call_from_thread(self._start, campaign, record)

    def _start(self, campaign, record) -> None:
        from infertui.core.campaign.executor import CampaignExecutor
        from infertui.core.clients import ClientPool

        app = self.app
        pool = ClientPool(getattr(app, "transport_factory", None), clock=app.clock,
                          sim_seed=getattr(app, "sim_seed", 0),
                          sim_time_scale=getattr(app, "sim_time_scale", 1.0))
        self.executor = CampaignExecutor(campaign, record=record, clients=pool, clock=app.clock)
        self._streams = {t.label: "" for t in campaign.targets}
        self._labels.clear()
        self._build_stream_panes(list(self._streams))
        self.query_one("#campaign-run", Button).disabled = True
        self.query_one("#campaign-stop", Button).disabled = False
        self.query_one("#campaign-tabs", TabbedContent).active = "tab-live"
        self._timer.resume()
        self._run_worker(self.executor)

    def _build_stream_panes(self, labels: list[str]) -> None:
        box = self.query_one("#campaign-streams", Horizontal)
        box.remove_children()
        box.mount_all(Static(Text(one_line(label, 40), style="bold"), classes="campaign-stream")
                      for label in labels)

    @work(exclusive=True, group="campaign-run", exit_on_error=False)
    async def _run_worker(self, executor) -> None:
        problems: list[str] = []
        persister = self.app.persister() if hasattr(self.app, "persister") else None
        record = await executor.run(self._on_event,
                                    session_sink=persister.sink if persister else None)
        await executor.clients.aclose()
        if persister is not None:
            await persister.drained()
            problems += list(persister.problems)
        problems += [f"a consumer failed: {exc!r}" for exc in executor.sink_errors]
        doc = await asyncio.to_thread(self._finish, record, persister is not None, problems)
        self.post_message(CampaignDone(doc, problems))

    def _finish(self, record, saved: bool, problems: list[str]) -> dict[str, Any]:
        """In a thread: the status into the store, then the document (the
        bootstrap takes CPU; the loop is free meanwhile)."""
        from infertui.core.campaign.document import build
        from infertui.store.campaigns import Campaigns

        if saved and record.rounds:
            try:
                self._access.call(lambda s: Campaigns(s).set_status(
                    record.campaign_id, record.status, record.finished_at), None)
            except Exception as exc:  # noqa: BLE001 - shown with the other problems
                problems.append(describe_error(exc))
        return build(record)

    def action_stop(self) -> None:
        if self.executor is not None:
            self.executor.stop()
            self.query_one("#campaign-progress", Static).update(Text("stopping…"))

    # -- while it runs: buffers, drawn by the timer ------------------------------------------
    def _on_event(self, event: object) -> None:
        if type(event) is ProbeChunk:
            label = self._labels.get(event.probe_id)
            if label is not None:
                self._streams[label] = (self._streams[label] + event.text)[-STREAM_TAIL:]
        elif type(event) is ProbeSent:
            self._labels[event.probe_id] = event.target.label
            self._streams[event.target.label] = ""
        elif type(event) is ProbeFinished:
            self._labels.pop(event.result.probe_id, None)
        elif type(event) is ce.TargetPaused:
            self.notify(f"{event.target}: rate limited, pausing {event.seconds:g} s",
                        severity="warning", timeout=4)
        self._dirty = True

    def _frame(self) -> None:
        ex = self.executor
        if ex is None:
            return
        p = ex.progress
        header = progress_line(p, ex.clock(), "   ")
        if p.waiting_until is not None:
            header.append("   waiting for the next round", style="yellow")
        self.query_one("#campaign-progress", Static).update(header)
        if not self._dirty:
            return
        self._dirty = False
        table = self.query_one("#campaign-cells", DataTable)
        table.clear()
        for cell in p.cells.values():
            if cell.cell.round != p.round:
                continue
            table.add_row(str(cell.cell.round), str(cell.cell.concurrency),
                          Text(one_line(cell.cell.target, 40)), f"{cell.done}/{cell.planned}",
                          str(cell.in_flight), str(cell.ok),
                          Text(str(cell.errors), style="red" if cell.errors else ""),
                          str(cell.rate_limited), fmt.ms(percentile(cell.ttft_ms, 50)))
        for pane, (label, text) in zip(self.query(".campaign-stream").results(Static),
                                       self._streams.items(), strict=False):
            pane.update(Text.assemble((one_line(label, 40), "bold"), "\n",
                                      one_line(text)[-STREAM_TAIL:]))

    # -- a campaign's results ------------------------------------------------------------------
    @on(CampaignDone)
    def _done(self, message: CampaignDone) -> None:
        if self.executor is not None:
            stopped = self.executor.stopped
            self.executor = None
            self._timer.pause()
            self._frame_final(stopped)
        for problem in message.problems:
            self.notify(problem, title="Not everything was saved", severity="error", timeout=15)
        if message.doc is not None:
            self.show_document(message.doc)
        self.action_reload()

    def _frame_final(self, stopped: bool) -> None:
        self.query_one("#campaign-run", Button).disabled = False
        self.query_one("#campaign-stop", Button).disabled = True
        self.query_one("#campaign-progress", Static).update(
            Text("stopped: finished probes are kept; select it under Campaigns and press r to "
                 "resume" if stopped else "finished", style="yellow" if stopped else "green"))

    def show_document(self, doc: dict[str, Any]) -> None:
        from infertui.tables.campaign import (
            cells_table,
            comparisons_table,
            ranking_tables,
            rounds_table,
            targets_table,
            vantages_table,
        )
        from infertui.tui.widgets.campaign_charts import charts
        from infertui.tui.widgets.check_tables import campaign_check_tables

        self.doc = doc
        head = Text.assemble((f"{one_line(doc['name'], 60)}", "bold"),
                             f"  {doc['status']}  {one_line(doc['campaign_id'])}  vantage ",
                             one_line(doc["vantage"], 40), f"  started {doc['started_at']}")
        parts = [head, targets_table(doc), comparisons_table(doc), *ranking_tables(doc),
                 *campaign_check_tables(doc), vantages_table(doc), charts(doc),
                 rounds_table(doc), cells_table(doc)]
        self.query_one("#campaign-results", Static).update(
            Group(*(p for p in parts if p is not None)))
        self.query_one("#campaign-tabs", TabbedContent).active = "tab-results"

    def export_report(self) -> None:
        """ctrl+s here: the shown campaign's HTML report (tui/report_export.py)."""
        from infertui.tui.report_export import ask_and_write

        doc = getattr(self, "doc", None)
        if not doc:
            self.notify("No campaign shown yet: run one or open one from Campaigns.",
                        severity="warning")
            return
        ask_and_write(self, doc["campaign_id"], self._access)

    # -- stored campaigns -------------------------------------------------------------------------
    @property
    def _access(self) -> StoreAccess:
        if not hasattr(self, "_store_access"):
            self._store_access = StoreAccess.of(self.app)
        return self._store_access

    def action_reload(self) -> None:
        _ = self._access  # made here, on the UI thread
        self._list_worker()

    @work(thread=True, exclusive=True, group="campaign-list", exit_on_error=False)
    def _list_worker(self) -> None:
        from infertui.store.campaigns import Campaigns

        try:
            rows: list[CampaignRow] = self._access.call(lambda s: Campaigns(s).list(limit=200), [])
        except Exception as exc:  # noqa: BLE001 - the store's error becomes a notification
            self.app.call_from_thread(self.notify, describe_error(exc), severity="error")
            return
        self.post_message(CampaignsListed(rows))

    @on(CampaignsListed)
    def _listed(self, message: CampaignsListed) -> None:
        self._rows = message.rows
        table = self.query_one("#campaign-list", DataTable)
        table.clear()
        for r in message.rows:
            table.add_row(r.started_at, Text(one_line(r.name, 40)),
                          Text(r.status, style="yellow" if r.status != "finished" else ""),
                          Text(one_line(r.vantage, 30)), str(r.rounds), str(r.probes),
                          r.campaign_id)

    @on(DataTable.RowSelected, "#campaign-list")
    def _open(self, event: DataTable.RowSelected) -> None:
        if 0 <= event.cursor_row < len(self._rows):
            self._document_worker(self._rows[event.cursor_row].campaign_id)

    @work(thread=True, exclusive=True, group="campaign-read", exit_on_error=False)
    def _document_worker(self, campaign_id: str) -> None:
        from infertui.core.campaign.document import build
        from infertui.core.campaign.record import from_sessions
        from infertui.store.campaigns import Campaigns

        def load(store):
            campaigns = Campaigns(store)
            row = campaigns.row(campaign_id)
            record = from_sessions(campaigns.load_sessions(campaign_id), status=row.status,
                                   finished_at=row.finished_at)
            peers = [from_sessions(campaigns.load_sessions(p.campaign_id), status=p.status)
                     for p in campaigns.vantage_peers(row.name)
                     if p.vantage != row.vantage and p.sessions]
            return build(record, peers)

        try:
            doc = self._access.call(load, None)
        except Exception as exc:  # noqa: BLE001 - the store's error becomes a notification
            self.app.call_from_thread(self.notify, describe_error(exc), severity="error")
            return
        self.post_message(CampaignDone(doc, []))
