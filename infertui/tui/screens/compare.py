"""The compare screen: targets, prompt and parameters on the left, one live
pane per target on the right, the summary under the panes.

A run is a `RunController` (infertui.tui.controller), run in a worker; its
feed only appends. A frame timer hands new text to the panes through a
`PaneDrawer` and refreshes the summary at most `FPS` times a second, so fast
streams and many panes cost the measurement nothing and the UI a bounded
amount.
"""

from __future__ import annotations

import math
import time

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import AwaitMount
from textual.widgets import Button, Footer, Header, Input, Label, OptionList, Select, Static, TextArea
from textual.widgets.option_list import Option

from infertui.core import metrics
from infertui.core.result import ProbeResult
from infertui.core.session import RunSettings, Session
from infertui.core.targets import ProbeParams, Target
from infertui.textsafe import display, one_line
from infertui.tui import fmt
from infertui.tui.controller import RunController
from infertui.tui.feed import RunFeed
from infertui.tui.frames import FPS, PaneDrawer
from infertui.tui.messages import RunEnded
from infertui.tui.widgets.pane import ProbePane
from infertui.tui.widgets.params import ParamsError, ParamsForm
from infertui.tui.widgets.summary import SummaryTable

LONG_RUN_S = 10.0  # a run longer than this ends with a notification
MIN_PANE_WIDTH = 36
DEFAULT_PROMPT = "In three sentences, explain why the sky is blue."


def grid_shape(count: int, width: int) -> tuple[int, int]:
    """(columns, rows) for `count` panes in `width` cells: as many columns as
    fit, then balanced so the last row is not nearly empty."""
    if count <= 0:
        return 1, 1
    most = max(1, min(count, width // MIN_PANE_WIDTH))
    rows = math.ceil(count / most)
    cols = math.ceil(count / rows)
    return cols, rows


class CompareScreen(Screen):
    BINDINGS = [
        Binding("ctrl+b", "toggle_sidebar", "Sidebar", id="sidebar"),
        Binding("delete", "remove_target", "Remove target", id="remove_target", show=False),
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
        # A prompt and system prompt put in the form from a file or a past
        # session: the fields show them with control characters as escapes,
        # and while the fields are left as shown, the run sends them exactly.
        self._exact_prompt = ("", "")  # (as shown, as it was)
        self._exact_system = ("", "")

    # -- layout -------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="body"):
            with VerticalScroll(id="sidebar"):
                yield Label("Targets", classes="section")
                yield OptionList(id="targets")
                yield Button("Pick targets  ctrl+t", id="pick", compact=True)
                yield Label("Prompt", classes="section")
                yield Select([], id="saved-prompt", prompt="saved prompts", compact=True)
                yield TextArea(DEFAULT_PROMPT, id="prompt", soft_wrap=True, show_line_numbers=False)
                yield Input(id="system", placeholder="system prompt (optional)", compact=True)
                yield Label("Parameters", classes="section")
                yield ParamsForm(id="params")
                with Horizontal(id="run-buttons"):
                    yield Button("Run  ctrl+r", id="run", variant="primary", compact=True)
                    yield Button("Cancel  esc", id="cancel", variant="error", compact=True,
                                 disabled=True)
            with Vertical(id="main"):
                with Grid(id="panes"):
                    yield Static("Pick targets (ctrl+t), write a prompt, run (ctrl+r).\n"
                                 "F1 shows every key and what each number means.", id="empty-hint")
                yield Static("", id="run-status", markup=False)
                yield SummaryTable(id="summary")
        yield Footer()

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
        self._show_status("")

    # -- targets ------------------------------------------------------------------
    def set_targets(self, targets: list[Target]) -> None:
        self.targets = list(dict.fromkeys(targets))
        env = self.app.config.environ
        options = []
        for t in self.targets:
            prompt = fmt.cell(t.label)
            if t.provider.needs_key() and not t.provider.api_key(env):
                prompt.append(f"  (export {one_line(t.provider.api_key_env)})", style="yellow")
            options.append(Option(prompt, id=t.label))
        targets_list = self.query_one("#targets", OptionList)
        targets_list.set_options(options)
        if not self.running:
            self._build_panes(self.targets)
        self._show_status("")

    def action_remove_target(self) -> None:
        targets_list = self.query_one("#targets", OptionList)
        if not targets_list.has_focus or targets_list.highlighted is None or self.running:
            return
        del self.targets[targets_list.highlighted]
        self.set_targets(self.targets)

    def action_toggle_sidebar(self) -> None:
        sidebar = self.query_one("#sidebar")
        sidebar.display = not sidebar.display
        self.call_after_refresh(self._layout_panes)

    # -- prompts ------------------------------------------------------------------
    def refresh_saved_prompts(self) -> None:
        prompts = self.app.config.prompts
        select = self.query_one("#saved-prompt", Select)
        select.set_options([(fmt.cell(name), name) for name in sorted(prompts)])
        select.disabled = not prompts

    @on(Select.Changed, "#saved-prompt")
    def _saved_prompt_chosen(self, event: Select.Changed) -> None:
        if event.value is Select.BLANK:
            return
        saved = self.app.config.prompts.get(str(event.value))
        if saved is not None:
            self.set_prompt(saved.text, saved.system)

    def set_prompt(self, prompt: str, system: str | None) -> None:
        """Put a prompt and a system prompt in the form (data: shown safely, sent exactly)."""
        shown = display(prompt)
        self._exact_prompt = (shown, prompt)
        self.query_one("#prompt", TextArea).text = shown
        shown_system = one_line(system or "")
        self._exact_system = (shown_system, system or "")
        self.query_one("#system", Input).value = shown_system

    @property
    def prompt_text(self) -> str:
        text = self.query_one("#prompt", TextArea).text
        return self._exact_prompt[1] if text == self._exact_prompt[0] else text

    @property
    def system_text(self) -> str | None:
        value = self.query_one("#system", Input).value
        exact = self._exact_system[1] if value == self._exact_system[0] else value
        return exact if exact.strip() else None

    # -- panes --------------------------------------------------------------------
    def _build_panes(self, targets: list[Target]) -> AwaitMount | None:
        """New panes for `targets`; what to await for them to be mounted (None: no pane)."""
        grid = self.query_one("#panes", Grid)
        for pane in self.panes.values():
            pane.remove()
        self.panes = {t.label: ProbePane(t) for t in targets}
        self.query_one("#empty-hint").display = not targets
        mounting = grid.mount_all(self.panes.values()) if targets else None
        self._layout_panes()
        return mounting

    def _layout_panes(self) -> None:
        grid = self.query_one("#panes", Grid)
        width = grid.size.width or self.size.width
        cols, rows = grid_shape(len(self.panes), width)
        grid.styles.grid_size_columns = cols
        grid.styles.grid_size_rows = rows

    def on_resize(self) -> None:
        self.call_after_refresh(self._layout_panes)

    # -- running ------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """From the start of a run until its end is on screen."""
        return self._drawer is not None

    def read_params(self) -> tuple[ProbeParams, RunSettings]:
        """The form as core values, or ParamsError with a message for the user."""
        prompt = self.prompt_text
        if not prompt.strip():
            raise ParamsError("the prompt is empty")
        max_tokens, temperature, reasoning, settings = self.query_one(ParamsForm).read()
        system = self.system_text
        params = ProbeParams(prompt=prompt, max_tokens=max_tokens, temperature=temperature,
                             reasoning=reasoning, system=system)
        return params, settings

    def load_run(self, targets: list[Target], params: ProbeParams, settings: RunSettings) -> None:
        """Put a run's targets, prompt and parameters in the form (rerun, saved comparison)."""
        self.set_targets(targets)
        self.set_prompt(params.prompt, params.system)
        self.query_one(ParamsForm).load(params.max_tokens, params.temperature, params.reasoning,
                                        settings)

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
            self.notify("A run is in progress: Escape cancels it.", severity="warning")
            return
        if not self.targets:
            self.notify("No targets yet: pick some with ctrl+t.", severity="warning")
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
            session = controller.start(targets, params, settings)
        except ValueError as exc:
            self.notify(str(exc), title="Cannot run", severity="error")
            return
        self.controller = controller
        self.session = session
        assert controller.feed is not None
        mounting = None
        if list(self.panes) == [t.label for t in session.targets]:
            for pane in self.panes.values():
                pane.reset()
        else:
            mounting = self._build_panes(session.targets)
        self._drawer = PaneDrawer(self.panes, controller.feed)
        summary = self.query_one("#summary", SummaryTable)
        summary.update_from([], labels=[t.label for t in session.targets])
        summary.display = True
        self.query_one("#run", Button).disabled = True
        self.query_one("#cancel", Button).disabled = False
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
            # the screen (and a layout that resizes widgets asks for one more):
            # the requests go out once that is over, so that none of it delays
            # reading a fast first byte.
            if mounting is not None:
                await mounting
            self.call_after_refresh(self.call_after_refresh, go)

        self.call_later(when_mounted)

    @work(exclusive=True, group="run", exit_on_error=False, name="run")
    async def _run_worker(self, controller: RunController) -> None:
        outcome = await controller.run()
        self.post_message(RunEnded(outcome.session, outcome.cancelled, outcome.problems))

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
        self.query_one("#run", Button).disabled = False
        self.query_one("#cancel", Button).disabled = True

    @on(RunEnded)
    def _run_ended(self, message: RunEnded) -> None:
        self._end_run()
        self.session = message.session
        elapsed = time.monotonic() - self._run_started
        summary = message.session.summary()
        ok = sum(row.ok for row in summary)
        errors = sum(row.errors for row in summary)
        what = f"{len(message.session.probes)} probes, {ok} ok, {errors} errors, {elapsed:.1f} s"
        self._show_status(("cancelled: " if message.cancelled else "finished: ") + what)
        for problem in message.store_problems:
            self.notify(problem, title="Not saved", severity="error", timeout=10)
        if message.cancelled:
            self.notify(f"Finished probes kept ({what}).", title="Cancelled")
        elif elapsed >= LONG_RUN_S:
            self.notify(what, title="Run finished")
            self.app.bell()

    def on_worker_state_changed(self, event) -> None:
        from textual.worker import WorkerState  # noqa: PLC0415

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
        self.query_one("#summary", SummaryTable).update_from(summary, labels=list(self.panes))
        measured = [row for row in summary if row.ok]
        best_ttft = min(measured, key=lambda r: r.ttft_ms.p50 or math.inf, default=None)
        best_e2e = min(measured, key=lambda r: r.e2e_ms.p50 or math.inf, default=None)
        contest = len(self.panes) > 1
        for label, pane in self.panes.items():
            pane.set_badges(contest and best_ttft is not None and best_ttft.target_label == label
                            and best_ttft.ttft_ms.p50 is not None,
                            contest and best_e2e is not None and best_e2e.target_label == label
                            and best_e2e.e2e_ms.p50 is not None)

    def _live_status(self, feed: RunFeed) -> str:
        done = len(feed.finished)
        running = sum(feed.progress(label)[0] for label in feed.labels)
        if not self.running:
            return self._status_cache
        elapsed = time.monotonic() - self._run_started
        return (f"running · {done}/{feed.total} probes done · {running} in flight · "
                f"{elapsed:.1f} s · escape cancels")

    def _show_status(self, text: str) -> None:
        if not text:
            n = len(self.targets)
            text = (f"{n} target{'s' if n != 1 else ''} · ctrl+r runs · ctrl+t picks targets · f1 help"
                    if n else "no targets: ctrl+t picks some")
        text = one_line(text)
        if text != self._status_cache:
            self._status_cache = text
            try:
                self.query_one("#run-status", Static).update(text, layout=False)
            except NoMatches:
                pass

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

    # -- what copy and export use -----------------------------------------------
    def focused_pane(self) -> ProbePane | None:
        node = self.app.focused
        while node is not None:
            if isinstance(node, ProbePane):
                return node
            node = node.parent
        return None

    def summary_table(self) -> SummaryTable:
        return self.query_one("#summary", SummaryTable)
