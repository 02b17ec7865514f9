"""History: past sessions from the results store, newest first, filterable by
text, target, model and date, each with its per-target summary.

Every store read runs in a thread worker and comes back as a message; a store
that cannot be read becomes a notification, never a crash. Enter opens a
session, `p` replays it, `r` re-runs its comparison.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.suggester import SuggestFromList
from textual.timer import Timer
from textual.validation import Function
from textual.widgets import DataTable, Header, Input, Static

from infertui.core.session import Session
from infertui.inputs import parse_since
from infertui.store.rows import SessionRow
from infertui.tui.history_queries import (
    LIST_LIMIT,
    HistoryFilter,
    HistoryQueries,
    describe_error,
    since_is_valid,
)
from infertui.tui.history_rows import detail_text, fit_columns, row_cells
from infertui.tui.widgets.footer import AppFooter

FILTER_DELAY_S = 0.25


# --- the screen --------------------------------------------------------------------

class HistoryScreen(Screen):
    """Past sessions, newest first."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="history.back"),
        Binding("enter", "open", "Open", id="history.open", show=True),
        Binding("p", "replay", "Replay", id="history.replay"),
        Binding("r", "rerun", "Re-run", id="history.rerun"),
        Binding("slash", "focus_search", "Search", id="history.search"),
        Binding("c", "campaign", "Campaign", id="history.campaign", show=False),
        Binding("f5", "reload", "Reload", id="history.reload"),
    ]
    DEFAULT_CSS = """
    HistoryScreen #history-filters { height: auto; padding: 0 1; }
    HistoryScreen #history-filters Input { width: 1fr; }
    HistoryScreen #history-filters #history-text { width: 2fr; }
    HistoryScreen #history-status { height: 1; padding: 0 1; color: $text-muted; }
    HistoryScreen #history-table { height: 1fr; }
    HistoryScreen #history-detail { height: auto; max-height: 12; padding: 0 1; border-top: solid $primary-darken-2; }
    """

    class Rows(Message):
        """A store read finished: the sessions to list, or why there are none."""

        def __init__(self, rows: list[SessionRow], labels: list[str] | None, error: str | None,
                     announce: bool = True) -> None:
            super().__init__()
            self.rows = rows
            self.labels = labels
            self.error = error
            self.announce = announce  # False when the app has already told the user

    class Loaded(Message):
        """A whole session was read, for `purpose`: open, replay or rerun."""

        def __init__(self, session: Session | None, purpose: str, error: str | None) -> None:
            super().__init__()
            self.session = session
            self.purpose = purpose
            self.error = error

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[SessionRow] = []
        self.filter = HistoryFilter()
        self._filter_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="history-filters"):
            yield Input(placeholder="search prompts, notes and outputs", id="history-text")
            yield Input(placeholder="target (provider[/model])", id="history-target")
            yield Input(placeholder="model contains", id="history-model")
            yield Input(placeholder="since (date or 7d)", id="history-since",
                        validators=[Function(since_is_valid, "a date or time (local), or 30m / 12h / 7d / 2w")])
        yield Static("reading the results store…", id="history-status")
        yield DataTable(id="history-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="history-detail")
        yield AppFooter()

    def on_mount(self) -> None:
        self.title = "history"
        self.sub_title = "past sessions, newest first"
        table = self.query_one("#history-table", DataTable)
        table.focus()
        self._read(self.filter, with_labels=True)

    # -- reading ------------------------------------------------------------------
    def _read(self, f: HistoryFilter, with_labels: bool = False) -> None:
        queries = HistoryQueries.of(self.app)
        if queries.unavailable:  # the app has said why
            self.post_message(self.Rows([], None, "the results store could not be opened", announce=False))
            return
        self._read_worker(queries, f, with_labels)

    @work(thread=True, exclusive=True, group="history-read", exit_on_error=False)
    def _read_worker(self, queries: HistoryQueries, f: HistoryFilter, with_labels: bool) -> None:
        try:
            rows = queries.sessions(f)
            labels = queries.labels() if with_labels else None
        except Exception as exc:  # noqa: BLE001 - the store's error becomes a notification
            self.post_message(self.Rows([], None, describe_error(exc)))
            return
        self.post_message(self.Rows(rows, labels, None))

    def _load(self, session_id: str, purpose: str) -> None:
        self._load_worker(HistoryQueries.of(self.app), session_id, purpose)

    @work(thread=True, exclusive=True, group="history-load", exit_on_error=False)
    def _load_worker(self, queries: HistoryQueries, session_id: str, purpose: str) -> None:
        try:
            session = queries.session(session_id)
        except Exception as exc:  # noqa: BLE001 - the store's error becomes a notification
            self.post_message(self.Loaded(None, purpose, describe_error(exc)))
            return
        self.post_message(self.Loaded(session, purpose, None))

    @on(Rows)
    def _show_rows(self, message: Rows) -> None:
        if message.error is not None and message.announce:
            self.notify(f"could not read the history: {message.error}", severity="error", timeout=8)
        if message.labels:
            self.query_one("#history-target", Input).suggester = SuggestFromList(message.labels,
                                                                                 case_sensitive=False)
        self.rows = message.rows
        self._fill_table()
        self._show_status(message.error)
        self._show_detail()

    def _fill_table(self, keep_cursor: bool = False) -> None:
        table = self.query_one("#history-table", DataTable)
        cursor = table.cursor_row if keep_cursor else 0
        layout = fit_columns(self.rows, table.size.width or self.size.width or 120)
        table.clear(columns=True)
        for title, width in layout.columns:
            table.add_column(title, key=title, width=width)
        for row in self.rows:
            table.add_row(*row_cells(row, layout), key=row.session_id)
        if self.rows and cursor:
            table.move_cursor(row=min(cursor, len(self.rows) - 1))

    def on_resize(self) -> None:
        self._fill_table(keep_cursor=True)

    def _show_status(self, error: str | None) -> None:
        status = self.query_one("#history-status", Static)
        if error is not None:
            status.update(Text("the results store could not be read", style="red"))
        elif not self.rows and not self.filter.active:
            status.update("no sessions yet: run a comparison, or `infertui probe -t sim-alpha/demo-70b`")
        elif not self.rows:
            status.update("no session matches these filters")
        else:
            shown = f"{len(self.rows)} session{'s' if len(self.rows) != 1 else ''}"
            more = " (the newest)" if len(self.rows) >= LIST_LIMIT else ""
            status.update(f"{shown}{more}, newest first · enter open · p replay · r re-run")

    def _show_detail(self) -> None:
        row = self.highlighted
        detail = self.query_one("#history-detail", Static)
        detail.display = row is not None
        if row is not None:
            detail.update(detail_text(row))

    @property
    def highlighted(self) -> SessionRow | None:
        table = self.query_one("#history-table", DataTable)
        if not self.rows or not 0 <= table.cursor_row < len(self.rows):
            return None
        return self.rows[table.cursor_row]

    @on(DataTable.RowHighlighted, "#history-table")
    def _highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    @on(DataTable.RowSelected, "#history-table")
    def _selected(self, _event: DataTable.RowSelected) -> None:
        self.action_open()

    # -- filters ------------------------------------------------------------------
    @on(Input.Changed)
    def _filter_changed(self, _event: Input.Changed) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
        self._filter_timer = self.set_timer(FILTER_DELAY_S, self.apply_filters)

    @on(Input.Submitted)
    def _filter_submitted(self, _event: Input.Submitted) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
        self.apply_filters()
        self.query_one("#history-table", DataTable).focus()

    def apply_filters(self) -> None:
        """Read the filter inputs and list again."""
        since_input = self.query_one("#history-since", Input)
        try:
            since = parse_since(since_input.value)
        except ValueError as exc:  # the input's validator marks it too
            self.notify(str(exc), severity="warning")
            return
        self.filter = HistoryFilter(
            text=self.query_one("#history-text", Input).value.strip(),
            target=self.query_one("#history-target", Input).value.strip(),
            model=self.query_one("#history-model", Input).value.strip(),
            since=since,
        )
        self._read(self.filter)

    # -- actions ------------------------------------------------------------------
    def _load_highlighted(self, purpose: str) -> None:
        row = self.highlighted
        if row is None:
            self.notify("no session selected", severity="warning")
            return
        self._load(row.session_id, purpose)

    def action_open(self) -> None:
        self._load_highlighted("open")

    def action_replay(self) -> None:
        self._load_highlighted("replay")

    def action_rerun(self) -> None:
        self._load_highlighted("rerun")

    def action_reload(self) -> None:
        self._read(self.filter, with_labels=True)

    def action_campaign(self) -> None:
        """The highlighted session's campaign, in the campaign screen."""
        row = self.highlighted
        if row is None or row.campaign_id is None:
            self.notify("this session is not part of a campaign", severity="warning")
            return
        from infertui.tui.screens.campaign import CampaignScreen

        self.app.push_screen(CampaignScreen(open_campaign=row.campaign_id))

    def action_focus_search(self) -> None:
        self.query_one("#history-text", Input).focus()

    def action_back(self) -> None:
        if isinstance(self.focused, Input):
            self.query_one("#history-table", DataTable).focus()
            return
        self.app.pop_screen()

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        if message.session is None:
            self.notify(f"could not open the session: {message.error}", severity="error", timeout=8)
            return
        open_session(self.app, message.session, message.purpose)


def open_session(app: App, session: Session, purpose: str = "open") -> Any:
    """Show a loaded session: its view (through the app's own `open_session`
    when it has one), its replay, or its re-run (the app's `rerun`)."""
    if purpose == "rerun":
        rerun = getattr(app, "rerun", None)
        if rerun is None:
            app.notify("this app cannot re-run a session", severity="error")
            return None
        return rerun(session)
    if purpose == "replay":
        from infertui.tui.screens.replay import ReplayScreen

        return app.push_screen(ReplayScreen(session))
    opener = getattr(app, "open_session", None)
    if opener is not None:
        return opener(session)
    from infertui.tui.screens.session import SessionScreen

    return app.push_screen(SessionScreen(session))


__all__ = ["HistoryScreen", "open_session"]
