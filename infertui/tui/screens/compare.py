"""The compare screen: targets, prompt and parameters on the left, one live
pane per target on the right, the summary under the panes.

A run is a `RunController` (infertui.tui.controller), run in a worker; its
feed only appends. A frame timer hands new text to the panes through a
`PaneDrawer` and refreshes the summary at most `FPS` times a second, so fast
streams and many panes cost the measurement nothing and the UI a bounded
amount.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.dom import DOMNode
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import AwaitMount
from textual.widgets import Button, Header, Static

from infertui import units
from infertui.core import metrics
from infertui.core.result import ProbeResult
from infertui.core.session import RunSettings, Session
from infertui.core.targets import ProbeParams, Target
from infertui.textsafe import one_line
from infertui.tui import checks_run
from infertui.tui.controller import RunController
from infertui.tui.feed import RunFeed
from infertui.tui.frames import FPS, PaneDrawer
from infertui.tui.layout import NARROW_WIDTH
from infertui.tui.messages import RunEnded
from infertui.tui.widgets.footer import AppFooter
from infertui.tui.widgets.pane import ProbePane
from infertui.tui.widgets.panegrid import PaneGrid
from infertui.tui.widgets.params import ParamsError, ParamsForm
from infertui.tui.widgets.sidebar import Sidebar, TargetList
from infertui.tui.widgets.summary import SummaryTable, badge_winners

if TYPE_CHECKING:
    from textual import getters

    from infertui.tui.app import InfertuiApp

LONG_RUN_S = 10.0  # a run longer than this ends with a notification


class CompareScreen(Screen):
    if TYPE_CHECKING:  # the app it runs in, for the type checker only
        app = getters.app(InfertuiApp)

    BINDINGS = [
        Binding("ctrl+b", "toggle_sidebar", "Sidebar", id="sidebar"),
        Binding("i", "explain", "Why ⚠", id="explain"),
        Binding("f5", "checks", "Checks", id="checks", show=False),
        Binding("f6", "check_details", "Verdicts", id="check_details", show=False),
    ]

    def __init__(self) -> None:
        super().__init__(id="compare")
        self.targets: list[Target] = []
        self.panes: dict[str, ProbePane] = {}
        self.controller: RunController | None = None  # the last run's
        self.session: Session | None = None  # the last run, finished or not
        self._drawer: PaneDrawer | None = None  # while a run is on screen
        self._frame_timer: Timer | None = None
        self._run_started = 0.0
        self._status_cache = ""
        # The sidebar starts collapsed in a narrow terminal; ctrl+b's choice
        # holds until the terminal crosses the width again.
        self._narrow: bool | None = None
        self._sidebar_choice: bool | None = None
        self._explain_shown = False  # whether the footer offers "i" (something is ⚠)

    # -- layout -------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="body"):
            yield Sidebar(id="sidebar")
            with Vertical(id="main"):
                with PaneGrid(id="panes"):
                    yield Static("", id="empty-hint")
                yield Static("", id="run-status", markup=False)
                yield SummaryTable(id="summary")
        yield AppFooter()

    def on_mount(self) -> None:
        app = self.app
        self._frame_timer = self.set_interval(1 / FPS, self._frame, pause=True, name="frames")
        self.refresh_saved_prompts()
        defaults = app.config.defaults
        settings = RunSettings(repeat=defaults.repeat, concurrency=defaults.concurrency,
                               warmup=defaults.warmup, nonce=defaults.nonce)
        self.query_one(ParamsForm).load(defaults.max_tokens, defaults.temperature,
                                        defaults.reasoning, settings)
        self.set_targets(app.initial_targets())
        self.query_one("#summary").display = False
        self.query_one("#empty-hint", Static).update(
            f"Pick targets ({self._key('picker', 'ctrl+t')}), write a prompt, run ({self._key('run', 'ctrl+r')}).\n"
            f"{self._key('help', 'f1')} shows every key and what each number means.")
        self._show_status("")

    def _key(self, binding_id: str, default: str) -> str:
        """The key bound to `binding_id`, as the user's keymap has it."""
        return self.app.key_text(binding_id, default)

    @property
    def sidebar(self) -> Sidebar:
        return self.query_one("#sidebar", Sidebar)

    # -- targets ------------------------------------------------------------------
    def set_targets(self, targets: list[Target]) -> None:
        """The targets of the next run. The panes and the summary show them,
        empty: the last run's numbers were for other targets."""
        self.targets = list(dict.fromkeys(targets))
        self.sidebar.show_targets(self.targets, self.app.config.environ)
        if not self.running and [t.label for t in self.targets] != list(self.panes):
            self._build_panes(self.targets)
            summary = self.query_one("#summary", SummaryTable)
            summary.update_from([], labels=[])
            summary.display = False
        self._show_status("")

    @on(TargetList.RemoveRequested)
    def _remove_target(self, message: TargetList.RemoveRequested) -> None:
        if self.running:
            self.notify("Targets cannot change during a run.", severity="warning")
            return
        if 0 <= message.index < len(self.targets):
            del self.targets[message.index]
            self.set_targets(self.targets)

    def action_toggle_sidebar(self) -> None:
        self._sidebar_choice = not self.sidebar.display
        self._fit_sidebar()

    def _fit_sidebar(self) -> None:
        narrow = 0 < self.size.width < NARROW_WIDTH
        if narrow != self._narrow:
            self._narrow, self._sidebar_choice = narrow, None
        shown = not narrow if self._sidebar_choice is None else self._sidebar_choice
        sidebar = self.sidebar
        if sidebar.display != shown:
            sidebar.display = shown
            self._show_status("")
            self.call_after_refresh(self._layout_panes)

    # -- prompts ------------------------------------------------------------------
    def refresh_saved_prompts(self) -> None:
        self.sidebar.show_saved_prompts(list(self.app.config.prompts))

    @on(Sidebar.SavedPromptChosen)
    def _saved_prompt_chosen(self, message: Sidebar.SavedPromptChosen) -> None:
        saved = self.app.config.prompts.get(message.name)
        if saved is None:
            return
        sidebar = self.sidebar
        lost = []
        if sidebar.prompt_edited and sidebar.prompt_text.strip():
            lost.append("the prompt you wrote")
        if (sidebar.system_text or "") != (saved.system or "") and sidebar.system_text:
            lost.append("the system prompt")
        if not lost:
            sidebar.set_prompt(saved.text, saved.system)
            return
        from infertui.tui.screens.dialogs import ConfirmScreen

        def answered(replace: bool | None) -> None:
            if replace:
                sidebar.set_prompt(saved.text, saved.system)
            else:
                sidebar.clear_saved_choice()

        self.app.push_screen(ConfirmScreen(
            f"Load the saved prompt {one_line(message.name)!r}?",
            f"It replaces {' and '.join(lost)}.", yes="Replace", no="Keep mine"), answered)

    def set_prompt(self, prompt: str, system: str | None) -> None:
        self.sidebar.set_prompt(prompt, system)

    @property
    def prompt_text(self) -> str:
        return self.sidebar.prompt_text

    @property
    def system_text(self) -> str | None:
        return self.sidebar.system_text

    # -- panes --------------------------------------------------------------------
    def _build_panes(self, targets: list[Target]) -> AwaitMount | None:
        """New panes for `targets`; what to await for them to be mounted (None: no pane)."""
        grid = self.query_one("#panes", PaneGrid)
        grid.reset_widths()
        for pane in self.panes.values():
            pane.remove()
        self.panes = {t.label: ProbePane(t) for t in targets}
        self.query_one("#empty-hint").display = not targets
        mounting = grid.mount_all(self.panes.values()) if targets else None
        self._layout_panes()
        return mounting

    def _layout_panes(self) -> None:
        self.query_one("#panes", PaneGrid).layout_panes()

    def on_resize(self) -> None:
        self._fit_sidebar()
        self.call_after_refresh(self._layout_panes)

    # -- running ------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """From the start of a run until its end is on screen."""
        return self._drawer is not None

    def read_params(self) -> tuple[ProbeParams, RunSettings]:
        """The form as core values, or ParamsError with a message for the user."""
        return self.sidebar.read_params()

    def load_run(self, targets: list[Target], params: ProbeParams, settings: RunSettings) -> None:
        """Put a run's targets, prompt and parameters in the form (rerun, saved comparison)."""
        self.set_targets(targets)
        self.sidebar.load(params, settings)

    def show_session(self, session: Session) -> None:
        """Show a finished session as the last run: each pane its target's last
        probe, the summary of all (a session run elsewhere, or restored)."""
        if self.running:
            return
        self.load_run(session.targets, session.params, session.settings)
        self.session = session
        latest: dict[str, ProbeResult] = {}
        for probe in session.probes:
            latest[probe.target.label] = probe
        for label, pane in self.panes.items():
            if label in latest:
                pane.show_result(latest[label])
        summary = self.query_one("#summary", SummaryTable)
        summary.display = True
        self._refresh_summary(session.probes)
        self._show_status(f"session {session.session_id} · {len(session.probes)} probes")

    def action_run(self) -> None:
        if self.running:
            self.notify(f"A run is in progress: {self._key('cancel', 'escape')} cancels it.", severity="warning")
            return
        if not self.targets:
            self.notify(f"No targets yet: pick some with {self._key('picker', 'ctrl+t')}.", severity="warning")
            return
        try:
            params, settings = self.read_params()
        except ParamsError as exc:
            self.notify(str(exc), title="Cannot run", severity="error")
            return
        self.start_run(self.targets, params, settings)

    def start_run(self, targets: list[Target], params: ProbeParams, settings: RunSettings) -> None:
        app = self.app
        controller = app.run_controller()
        try:
            session = controller.start(targets, params, settings, on_unsaved=self._not_saved)
        except ValueError as exc:
            self.notify(str(exc), title="Cannot run", severity="error")
            return
        self.controller = controller
        self.session = session
        assert controller.feed is not None
        mounting = None
        if list(self.panes) == [t.label for t in session.targets]:
            self.query_one("#panes", PaneGrid).reset_widths()
            for pane in self.panes.values():
                pane.reset()
        else:
            mounting = self._build_panes(session.targets)
        self._drawer = PaneDrawer(self.panes, controller.feed)
        summary = self.query_one("#summary", SummaryTable)
        summary.update_from([], labels=[t.label for t in session.targets])
        summary.display = True
        self.sidebar.set_running(True)
        self._run_started = time.monotonic()
        app.remember_targets(session.targets)

        def go() -> None:
            # Once the panes are on screen: mounting a dozen widgets blocks the
            # loop for a while, and not while the first bytes come in.
            self._run_worker(controller)
            assert self._frame_timer is not None
            self._frame_timer.resume()

        async def when_mounted() -> None:
            # New panes mount over several turns of the loop, each laying out
            # the screen, and a layout that resizes widgets asks for one more
            # (the summary appearing shrinks the panes, which reflow their
            # text): the requests go out once that is over, so that none of it
            # delays reading a fast first byte.
            if mounting is not None:
                await mounting
            await self._layout_settled()
            go()

        # A task of its own: the refreshes it waits for are messages to this
        # screen, which must not be blocked by the wait.
        self.run_worker(when_mounted(), name="run-start", group="run-start")

    async def _layout_settled(self, most: int = 8) -> None:
        """Wait for refreshes until one leaves no layout pending: at least two
        (a mount's layout, and the one its resizes ask for), at most `most`."""
        loop = asyncio.get_running_loop()
        for passes in range(1, most + 1):
            refreshed = loop.create_future()
            self.call_after_refresh(lambda done=refreshed: done.done() or done.set_result(None))
            await refreshed
            # Textual's own flag for "a layout is due on the next update";
            # without it (another Textual), two passes as before.
            if passes >= 2 and not getattr(self, "_layout_required", False):
                return

    @work(exclusive=True, group="run", exit_on_error=False, name="run")
    async def _run_worker(self, controller: RunController) -> None:
        outcome = await controller.run()
        self.post_message(RunEnded(outcome.session, outcome.cancelled, outcome.problems))

    def _not_saved(self, unsaved) -> None:
        """From the store's writer thread, when it gave up saving probes of a
        run: which, why, and the rescue file that already holds the session."""
        from infertui.textsafe import display

        text = display("\n".join(unsaved.lines()) + "\nctrl+s exports the session on screen.")
        try:
            self.app.call_from_thread(self.app.notify, text, title="Not saved",
                                      severity="error", timeout=60, markup=False)
        except RuntimeError:  # the app is closing
            pass

    def action_cancel(self) -> bool:
        """Stop every probe; finished ones are kept. False when nothing runs."""
        if not self.running or self.controller is None or not self.controller.cancel():
            return False
        self._show_status("cancelling…")
        return True

    def _end_run(self) -> None:
        """The run is over (or broke): last frame, buttons back."""
        self._frame(final=True)
        if self._frame_timer is not None:
            self._frame_timer.pause()
        self._drawer = None
        self.sidebar.set_running(False)

    @on(RunEnded)
    def _run_ended(self, message: RunEnded) -> None:
        self._end_run()
        self.session = message.session
        elapsed = time.monotonic() - self._run_started
        summary = message.session.summary()
        ok = sum(row.ok for row in summary)
        errors = sum(row.errors for row in summary)
        what = f"{len(message.session.probes)} probes, {ok} ok, {errors} errors, {units.seconds(elapsed)}"
        flagged = sum(1 for p in message.session.probes if p.client_saturated and not p.warmup)
        lagged = (f" · ⚠ {flagged} timed while infertui lagged ({self._key('explain', 'i')}: why)"
                  if flagged else "")
        self._show_status(("cancelled: " if message.cancelled else "finished: ") + what + lagged)
        if self._flagged() != self._explain_shown:  # the footer's "i" comes or goes
            self._explain_shown = not self._explain_shown
            self.refresh_bindings()
        for problem in message.store_problems:
            self.notify(problem, title="Not saved", severity="error", timeout=10)
        if message.cancelled:
            self.notify(f"Finished probes kept ({what}).", title="Cancelled")
        elif elapsed >= LONG_RUN_S:
            self.notify(what, title="Run finished")
            self.app.bell()

    def on_worker_state_changed(self, event) -> None:
        from textual.worker import WorkerState

        if event.worker.name == "run" and event.state is WorkerState.ERROR:
            # A bug of ours, not a provider's bad day: keep the app and the results.
            self._end_run()
            self.notify(f"The run stopped: {event.worker.error!r}", title="Internal error",
                        severity="error", timeout=15)

    # -- frames -------------------------------------------------------------------
    def _frame(self, final: bool = False) -> None:
        """Hand every pane what arrived since the last frame; refresh the summary."""
        drawer = self._drawer
        if drawer is None:
            return
        drawer.draw(final)
        feed = drawer.feed
        if feed.summary_dirty:
            feed.summary_dirty = False
            self._refresh_summary(feed.finished)
        self._show_status(self._live_status(feed))

    def _refresh_summary(self, finished: list[ProbeResult]) -> None:
        order = {label: i for i, label in enumerate(self.panes)}
        summary = sorted(metrics.summarize(finished), key=lambda row: order.get(row.target_label, 1 << 30))
        self.query_one("#summary", SummaryTable).update_from(summary, labels=list(self.panes), probes=finished)
        first_token, first_finish = badge_winners(summary, contestants=len(self.panes))
        by_median = self.session is not None and self.session.settings.repeat > 1
        for label, pane in self.panes.items():
            pane.set_badges(label == first_token, label == first_finish, by_median)

    def _live_status(self, feed: RunFeed) -> str:
        done = len(feed.finished)
        running = sum(feed.progress(label)[0] for label in feed.labels)
        if not self.running:
            return self._status_cache
        elapsed = time.monotonic() - self._run_started
        return (f"running · {done}/{feed.total} probes done · {running} in flight · "
                f"{units.seconds(elapsed)} · {self._key('cancel', 'escape')} cancels")

    def _show_status(self, text: str) -> None:
        if not text:
            n = len(self.targets)
            key = self._key
            text = (f"{n} target{'s' if n != 1 else ''} · {key('run', 'ctrl+r')} runs · "
                    f"{key('picker', 'ctrl+t')} picks targets · {key('help', 'f1')} help"
                    if n else f"no targets: {key('picker', 'ctrl+t')} picks some")
            if not self.sidebar.display:  # say where the prompt went, first
                text = f"{key('sidebar', 'ctrl+b')} prompt & parameters · {text}"
        text = one_line(text)
        if text != self._status_cache:
            self._status_cache = text
            try:
                self.query_one("#run-status", Static).update(text, layout=False)
            except NoMatches:
                pass

    # -- why a number is marked ------------------------------------------------------
    def _flagged(self) -> bool:
        if any(pane.result is not None and pane.result.client_saturated for pane in self.panes.values()):
            return True
        return any(f.saturated for f in self.summary_table().flags.values())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "explain":
            return self._flagged()  # in the footer only when something is flagged
        return True

    def action_explain(self) -> None:
        """Say why the focused pane's probe, or the highlighted summary row, is marked."""
        from infertui.tui.explain import probe_details
        from infertui.tui.widgets.summary import flag_reason

        pane = self.focused_pane()
        if pane is not None and pane.result is not None:
            self.notify(probe_details(pane.result), title="This probe", timeout=20)
            return
        table = self.summary_table()
        labels = [table.highlighted_label] if table.has_focus else list(table.flags)
        reasons = [flag_reason(label, table.flags[label]) for label in labels
                   if label in table.flags and table.flags[label].saturated]
        if reasons:
            self.notify("\n".join(reasons), title="⚠ client lag", timeout=20)
        else:
            self.notify("Nothing flagged here: focus a pane (tab) or a summary row marked ⚠.", timeout=6)

    # -- buttons ------------------------------------------------------------------
    @on(Button.Pressed, "#run")
    def _run_pressed(self) -> None:
        self.action_run()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    @on(Button.Pressed, "#pick")
    def _pick_pressed(self) -> None:
        self.app.action_picker()

    # -- checks (tui/checks_run.py) ---------------------------------------------
    def action_checks(self) -> None:
        checks_run.start(self)

    def action_check_details(self) -> None:
        checks_run.show_details(self)

    @on(checks_run.ChecksEnded)
    def _checks_ended(self, message: checks_run.ChecksEnded) -> None:
        checks_run.ended(self, message)

    # -- what copy and export use -----------------------------------------------
    def focused_pane(self) -> ProbePane | None:
        node: DOMNode | None = self.app.focused
        while node is not None:
            if isinstance(node, ProbePane):
                return node
            node = node.parent
        return None

    def summary_table(self) -> SummaryTable:
        return self.query_one("#summary", SummaryTable)
