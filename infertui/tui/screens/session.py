"""One past session: its panes as they ended, its summary, its charts and
every probe, with replay, diff and re-run one key away.

The session arrives whole (loaded by the history screen's worker). The only
store access here is the TTFT-over-time chart, read in a thread worker; a
store that cannot be read leaves a note in the chart, never an exception.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.dom import DOMNode
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static, TabbedContent, TabPane

from infertui.core import metrics
from infertui.core.result import ProbeResult
from infertui.core.session import Session
from infertui.store.rows import HistoryPoint
from infertui.textsafe import one_line
from infertui.tui import fmt
from infertui.tui.history_queries import HistoryQueries, describe_error
from infertui.tui.history_rows import summary_line
from infertui.tui.widgets.charts import SessionCharts, TrendChart, TrendPoint, TrendSeries, target_colour
from infertui.tui.widgets.check_badges import CheckBadges
from infertui.tui.widgets.check_tables import check_group, session_check_tables
from infertui.tui.widgets.footer import AppFooter
from infertui.tui.widgets.pane import ProbePane
from infertui.tui.widgets.panegrid import PaneGrid
from infertui.tui.widgets.summary import SummaryTable, badge_winners

PROBE_COLUMNS = ("target", "#", "status", "TTFT", "e2e", "tok/s", "tokens", "stall", "⚠ lag", "error")


def last_probes(session: Session) -> dict[str, ProbeResult]:
    """Each target's probe that its pane showed at the end: the last one to
    start (the highest sequence number; the last stored among equals)."""
    last: dict[str, ProbeResult] = {}
    for p in session.probes:
        shown = last.get(p.target.label)
        if shown is None or p.seq >= shown.seq:
            last[p.target.label] = p
    return last


def pane_note(session: Session, label: str) -> str:
    """What the compare screen's pane said at the end: probes done of planned."""
    planned = session.settings.repeat + session.settings.warmup
    done = sum(1 for p in session.probes if p.target.label == label)
    return f"{done}/{planned} done" if planned > 1 else ""


def trend_series(label: str, index: int, points: list[HistoryPoint]) -> TrendSeries:
    return TrendSeries(label, tuple(TrendPoint(p.started_at, p.ttft_p50_ms, p.ttft_p95_ms, p.session_id)
                                    for p in points), target_colour(index))


def session_heading(session: Session) -> Text:
    s = session.settings
    text = Text()
    text.append(f"session {one_line(session.session_id, 40)}", style="bold")
    text.append("  ", style=fmt.GAP)  # spaces between styles: see fmt.GAP
    text.append(f"{one_line(session.started_at[:19]).replace('T', ' ')} UTC", style="dim")
    text.append("  ", style=fmt.GAP)
    text.append(f"· {len(session.probes)} probes · repeat {s.repeat} · concurrency {s.concurrency}")
    if s.warmup:
        text.append(f" · warm-up {s.warmup}")
    if session.finished_at is None:
        text.append("  ", style=fmt.GAP)
        text.append("unfinished", style="yellow")
    text.append("\n")
    text.append("prompt", style="dim")
    text.append(" ", style=fmt.GAP)
    text.append(summary_line(session.params.prompt, 200))
    text.append("   ", style=fmt.GAP)
    text.append(f"max_tokens {session.params.max_tokens}", style="dim")
    if session.notes:
        text.append("\nnotes", style="dim")
        text.append(" ", style=fmt.GAP)
        text.append(summary_line(session.notes, 200))
    return text


def probe_cells(p: ProbeResult) -> list[str | Text]:
    tokens, tps = fmt.tokens_and_tps(p)
    lag: str | Text = ""
    if p.client_saturated:
        lag = Text(fmt.ms(p.loop_lag_ms) if p.loop_lag_ms is not None else "yes", justify="right",
                   style="bold yellow")
    status_style = {"ok": "green", "error": "bold red", "cancelled": "magenta"}[str(p.status)]
    return [
        fmt.cell(p.target.label, 60),
        Text(f"{p.seq}{' w' if p.warmup else ''}", justify="right"),
        Text(str(p.status), style=status_style),
        Text(fmt.ms(metrics.ttft_ms(p)), justify="right"),
        Text(fmt.ms(metrics.e2e_ms(p)), justify="right"),
        Text(tps, justify="right"),
        Text(tokens, justify="right"),
        Text(fmt.ms(metrics.stall_ms(p)), justify="right"),
        lag,
        fmt.cell(fmt.error_line(p.error) + ": " + p.error.message, 300, style="red") if p.error else "",
    ]


class SessionScreen(Screen):
    """A stored session, as it ended."""

    BINDINGS = [
        Binding("escape", "close", "Back", id="session.close"),
        Binding("1", "tab('panes')", "Panes", id="session.tab_panes"),
        Binding("2", "tab('charts')", "Charts", id="session.tab_charts"),
        Binding("3", "tab('probes')", "Probes", id="session.tab_probes"),
        Binding("p", "replay", "Replay", id="session.replay"),
        Binding("d", "diff", "Diff", id="session.diff"),
        Binding("r", "rerun", "Re-run", id="session.rerun"),
        Binding("i", "explain", "Why ⚠", id="session.explain"),
    ]
    DEFAULT_CSS = """
    SessionScreen #session-heading { height: auto; padding: 0 1; background: $boost; }
    SessionScreen TabbedContent { height: 1fr; }
    SessionScreen TabPane { padding: 0; }
    SessionScreen #session-panes-tab { height: 1fr; }
    SessionScreen #session-summary { height: auto; max-height: 10; }
    SessionScreen #session-charts { padding: 1 1 0 1; }
    SessionScreen #session-probes { height: 1fr; }
    """

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.summary = session.summary()
        self.last = last_probes(session)
        self._labels = list(dict.fromkeys([t.label for t in session.targets]
                                          + [p.target.label for p in session.probes]))

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(session_heading(self.session), id="session-heading")
        with TabbedContent(id="session-tabs", initial="panes"):
            with TabPane("Panes", id="panes"):
                with Vertical(id="session-panes-tab"):
                    with PaneGrid(id="session-panes"):
                        targets = {p.target.label: p.target for p in self.session.probes}
                        targets.update({t.label: t for t in self.session.targets})
                        for i, label in enumerate(self._labels):
                            yield ProbePane(targets[label], id=f"session-pane-{i}")
                    yield SummaryTable(id="session-summary")
            with TabPane("Charts", id="charts"):
                with VerticalScroll(id="session-charts"):
                    yield SessionCharts(self.summary, id="session-charts-body")
                    yield TrendChart("TTFT over time (p50 and p95 per session, newest right)",
                                     loading_text="reading past sessions…",
                                     highlight=self.session.session_id, id="chart-trend")
            with TabPane("Probes", id="probes"):
                yield DataTable(id="session-probes", cursor_type="row", zebra_stripes=True)
            if self.session.check_spec:
                with TabPane("Checks", id="checks"):
                    with VerticalScroll(id="session-checks"):
                        yield Static(check_group(session_check_tables(self.session.to_json())),
                                     id="session-checks-body")
        yield AppFooter()

    def on_mount(self) -> None:
        self.title = f"session {one_line(self.session.session_id[:12])}"
        self.sub_title = one_line(self.session.started_at[:16].replace("T", " "))
        first_token, first_finish = badge_winners(self.summary)
        for i, label in enumerate(self._labels):
            pane = self.query_one(f"#session-pane-{i}", ProbePane)
            pane.note = pane_note(self.session, label)
            probe = self.last.get(label)
            if probe is not None:
                pane.show_result(probe)
            pane.set_badges(label == first_token, label == first_finish, self.session.settings.repeat > 1)
        self.query_one(SummaryTable).update_from(self.summary, labels=self._labels, probes=self.session.probes)
        if self.session.check_spec:  # each pane's verdicts, as the compare screen shows them
            rows = {row["target"]: row for row in self.session.checks_json()["targets"]}
            for i, label in enumerate(self._labels):
                if label in rows:
                    self.query_one(f"#session-pane-{i}", ProbePane).mount(CheckBadges(rows[label]))
        table = self.query_one("#session-probes", DataTable)
        table.add_columns(*PROBE_COLUMNS)
        for p in self.session.probes:
            table.add_row(*probe_cells(p), key=p.probe_id)
        self._load_trends()

    class Trends(Message):
        """The TTFT history of this session's targets, or why there is none."""

        def __init__(self, series: list[TrendSeries], error: str | None) -> None:
            super().__init__()
            self.series = series
            self.error = error

    def _load_trends(self) -> None:
        self._trends_worker(HistoryQueries.of(self.app), list(self._labels))

    @work(thread=True, exclusive=True, group="session-trends", exit_on_error=False)
    def _trends_worker(self, queries: HistoryQueries, labels: list[str]) -> None:
        try:
            history = queries.trends(labels)
            series = [trend_series(label, i, history[label]) for i, label in enumerate(labels)]
        except Exception as exc:  # noqa: BLE001 - the store's error becomes a note, never a crash
            self.post_message(self.Trends([], describe_error(exc)))
            return
        self.post_message(self.Trends(series, None))

    @on(Trends)
    def _show_trends(self, message: Trends) -> None:
        chart = self.query_one("#chart-trend", TrendChart)
        if message.error is not None:
            chart.set_message(f"could not read the history: {message.error}")
        else:
            chart.set_series(message.series)

    # -- actions ------------------------------------------------------------------
    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        focus = {"panes": "#session-pane-0", "charts": "#session-charts", "probes": "#session-probes"}[tab]
        for widget in self.query(focus):  # none when the session has no target
            widget.focus()

    def action_replay(self) -> None:
        from infertui.tui.screens.replay import ReplayScreen

        self.app.push_screen(ReplayScreen(self.session))

    def action_diff(self) -> None:
        """Diff two panes' outputs; on the Probes tab the highlighted probe is A."""
        from infertui.tui.widgets.diff import DiffScreen

        left = None
        if self.query_one(TabbedContent).active == "probes":
            table = self.query_one("#session-probes", DataTable)
            if 0 <= table.cursor_row < len(self.session.probes):
                left = self.session.probes[table.cursor_row].probe_id
        self.app.push_screen(DiffScreen(self.session, left_probe_id=left))

    def action_explain(self) -> None:
        """What the focused pane's probe, or the highlighted probe, rests on."""
        from infertui.tui.explain import probe_details

        probe = None
        if self.query_one(TabbedContent).active == "probes":
            table = self.query_one("#session-probes", DataTable)
            if 0 <= table.cursor_row < len(self.session.probes):
                probe = self.session.probes[table.cursor_row]
        else:
            node: DOMNode | None = self.app.focused
            while node is not None and not isinstance(node, ProbePane):
                node = node.parent
            probe = node.result if isinstance(node, ProbePane) else None
        if probe is None:
            self.notify("Focus a pane (tab), or highlight a probe on the Probes tab (3).", timeout=6)
            return
        self.notify(probe_details(probe), title="This probe", timeout=20)

    def action_rerun(self) -> None:
        rerun = getattr(self.app, "rerun", None)
        if rerun is None:
            self.notify("this app cannot re-run a session", severity="error")
            return
        rerun(self.session)

    def export_report(self) -> None:
        """ctrl+s here: this session (JSON, CSV, Markdown or the HTML report)."""
        from infertui.tui.screens.dialogs import ExportScreen, write_export

        def chosen(answer) -> None:
            if answer is None:
                return
            fmt_, path = answer
            try:
                written = write_export(self.session, fmt_, path)
            except (OSError, ValueError) as exc:
                self.notify(f"{path}: {exc}", title="Export failed", severity="error")
                return
            self.notify(f"Wrote {written}", title="Exported")

        self.app.push_screen(ExportScreen(self.session), chosen)

    def action_close(self) -> None:
        self.app.pop_screen()
