"""The compare screen: targets, prompt and parameters on the left, one live
pane per target on the right, the summary under the panes.

A run goes through the core's `Runner` in a worker; its sink is a `RunFeed`
(appends only). A frame timer hands new text to the panes and refreshes the
summary at most `FPS` times a second, so fast streams and many panes cost the
measurement nothing and the UI a bounded amount.
"""

from __future__ import annotations

import gc
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
from infertui.core.clients import ClientPool
from infertui.core.result import ProbeResult
from infertui.core.runner import Runner
from infertui.core.session import RunSettings, Session
from infertui.core.targets import ProbeParams, Target
from infertui.tui.feed import RunFeed
from infertui.tui.messages import RunEnded
from infertui.tui.widgets.pane import ProbePane
from infertui.tui import checks_run
from infertui.tui.widgets.params import ParamsError, ParamsForm
from infertui.tui.widgets.params_extra import ExtraParams
from infertui.tui.widgets.summary import SummaryTable

FPS = 25
LONG_RUN_S = 10.0  # a run longer than this ends with a notification
MIN_PANE_WIDTH = 36
RUN_GC_THRESHOLD0 = 10_000  # allocations between young GC passes during a run (Python's: 700)
ENDINGS_PER_FRAME = 3  # finished probes drawn per frame (each restyles its pane)
LATE_FRAME_MS = 15.0  # a frame this late means the loop is busy: draw fewer panes
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
        Binding("f5", "checks", "Checks", id="checks", show=False),
        Binding("f6", "check_details", "Verdicts", id="check_details", show=False),
    ]

    def __init__(self) -> None:
        super().__init__(id="compare")
        self.targets: list[Target] = []
        self.panes: dict[str, ProbePane] = {}
        self.feed: RunFeed | None = None
        self.runner: Runner | None = None
        self.session: Session | None = None  # the last run, finished or not
        self._frame_timer: Timer | None = None
        self._run_started = 0.0
        self._status_cache = ""
        self._gc_thresholds: tuple[int, int, int] | None = None
        self._pane_budget = 12  # panes drawn per frame, adapted to how late frames come
        self._next_pane = 0
        self._last_frame_at = 0.0

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
                yield ExtraParams(id="params-extra")
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
            if t.provider.needs_key() and not t.provider.api_key(env):
                options.append(Option(f"{t.label}  (export {t.provider.api_key_env})", id=t.label))
            else:
                options.append(Option(t.label, id=t.label))
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
        select.set_options([(name, name) for name in sorted(prompts)])
        select.disabled = not prompts

    @on(Select.Changed, "#saved-prompt")
    def _saved_prompt_chosen(self, event: Select.Changed) -> None:
        if event.value is Select.BLANK:
            return
        saved = self.app.config.prompts.get(str(event.value))
        if saved is not None:
            self.query_one("#prompt", TextArea).text = saved.text
            self.query_one("#system", Input).value = saved.system or ""

    @property
    def prompt_text(self) -> str:
        return self.query_one("#prompt", TextArea).text

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
        return self.runner is not None

    def read_params(self) -> tuple[ProbeParams, RunSettings]:
        """The form as core values, or ParamsError with a message for the user."""
        prompt = self.prompt_text
        if not prompt.strip():
            raise ParamsError("the prompt is empty")
        max_tokens, temperature, reasoning, settings = self.query_one(ParamsForm).read()
        system = self.query_one("#system", Input).value.strip() or None
        params = ProbeParams(prompt=prompt, max_tokens=max_tokens, temperature=temperature,
                             reasoning=reasoning, system=system,
                             **self.query_one(ExtraParams).read())
        return params, settings

    def load_run(self, targets: list[Target], params: ProbeParams, settings: RunSettings) -> None:
        """Put a run's targets, prompt and parameters in the form (rerun, saved comparison)."""
        self.set_targets(targets)
        self.query_one("#prompt", TextArea).text = params.prompt
        self.query_one("#system", Input).value = params.system or ""
        self.query_one(ParamsForm).load(params.max_tokens, params.temperature, params.reasoning,
                                        settings)
        self.query_one(ExtraParams).load(params)

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
        pool = ClientPool(app.transport_factory, clock=app.clock, sim_seed=app.sim_seed,
                          sim_time_scale=app.sim_time_scale)
        try:
            runner = Runner(targets, params, settings, clients=pool, clock=app.clock,
                            environ=app.config.environ)
        except ValueError as exc:
            self.notify(str(exc), title="Cannot run", severity="error")
            return
        self.runner = runner
        self.session = runner.session
        self.feed = RunFeed(runner.session.targets, settings.repeat + settings.warmup)
        mounting = None
        if list(self.panes) == [t.label for t in runner.session.targets]:
            for pane in self.panes.values():
                pane.reset()
        else:
            mounting = self._build_panes(runner.session.targets)
        summary = self.query_one("#summary", SummaryTable)
        summary.update_from([], labels=[t.label for t in runner.session.targets])
        summary.display = True
        self.query_one("#run", Button).disabled = True
        self.query_one("#cancel", Button).disabled = False
        self._run_started = time.monotonic()
        self._pane_budget = len(self.panes)
        self._last_frame_at = 0.0
        app.remember_targets(runner.session.targets)
        recorder = app.persister().sink(runner.session, on_unsaved=self._not_saved)
        feed = self.feed

        def go() -> None:
            # Once the panes are on screen: mounting a dozen widgets blocks the
            # loop for a while, and not while the first bytes come in. What is
            # built by now (Textual's widgets and styles, the panes) lives as
            # long as the app: keep it out of the cyclic GC's full passes, which
            # otherwise walk it all and stall the loop 100 ms and more mid-run.
            # Garbage first: what is frozen is never collected, and the last
            # run's cycles may still be waiting (the requests are not sent yet).
            gc.collect()
            gc.freeze()
            # Young collections less often while probes stream. Textual's
            # strips (one per drawn line) hold cycles through their caches;
            # each young collection promotes the ones on screen, which die a
            # frame later as garbage only a full pass frees (one such pass
            # took 250 ms in the 12-pane benchmark). Rarer young passes find
            # most strips already dead and free them while they are cheap.
            if self._gc_thresholds is None:
                self._gc_thresholds = gc.get_threshold()
                gc.set_threshold(max(self._gc_thresholds[0], RUN_GC_THRESHOLD0),
                                 *self._gc_thresholds[1:])
            self._run_worker(runner, feed, recorder)
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
    async def _run_worker(self, runner: Runner, feed: RunFeed, recorder) -> None:
        problems: list[str] = []
        sinks = [feed, recorder]
        try:
            session = await runner.run(*sinks)
        finally:
            await runner.clients.aclose()
        problems += [f"a consumer failed: {exc!r}" for exc in runner.sink_errors]
        self.post_message(RunEnded(session, runner.cancelled, problems))

    def _not_saved(self, unsaved) -> None:
        """From the store's writer thread, when it gave up saving probes of a
        run: which, why, and the rescue file that already holds the session."""
        from infertui.textsafe import display  # noqa: PLC0415

        text = display("\n".join(unsaved.lines()) + "\nctrl+s exports the session on screen.")
        try:
            self.app.call_from_thread(self.app.notify, text, title="Not saved",
                                      severity="error", timeout=60, markup=False)
        except RuntimeError:  # the app is closing
            pass

    def action_cancel(self) -> bool:
        """Stop every probe; finished ones are kept. False when nothing runs."""
        if self.runner is None:
            return False
        self.runner.cancel()
        self._show_status("cancelling…")
        return True

    @on(RunEnded)
    def _run_ended(self, message: RunEnded) -> None:
        self._restore_gc()
        self._frame(final=True)
        if self._frame_timer is not None:
            self._frame_timer.pause()
        self.runner = None
        self.session = message.session
        self.query_one("#run", Button).disabled = False
        self.query_one("#cancel", Button).disabled = True
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
            self._restore_gc()
            self._frame(final=True)
            if self._frame_timer is not None:
                self._frame_timer.pause()
            self.runner = None
            self.query_one("#run", Button).disabled = False
            self.query_one("#cancel", Button).disabled = True
            self.notify(f"The run stopped: {event.worker.error!r}", title="Internal error",
                        severity="error", timeout=15)

    # -- frames -------------------------------------------------------------------
    def _frame(self, final: bool = False) -> None:
        """Hand every pane what arrived since the last frame; refresh the summary.

        Drawing is rationed: when the previous frame came late (the loop was
        busy drawing or receiving), fewer panes are drawn per frame, in turn;
        the others keep their text buffered for the next one. So the app
        degrades to a lower frame rate per pane, never to a stalled loop."""
        feed = self.feed
        if feed is None:
            return
        self._adapt_budget(final)
        panes = list(self.panes.items())
        budget = len(panes) if final else self._pane_budget
        start = self._next_pane % max(1, len(panes))
        order = panes[start:] + panes[:start]
        drawn = ended = 0
        many = feed.per_target > 1
        for label, pane in order:
            probe = feed.followed(label)
            if probe is None:
                continue
            if pane.probe_id != probe.probe_id:
                pane.begin(probe.probe_id, probe.seq, probe.warmup)
                probe.shown = 0
            if probe.shown < len(probe.texts):
                for kind, text, offset in feed.chunks_since(probe, probe.shown):
                    pane.append(kind, text, offset)
                probe.shown = len(probe.texts)
            if many:
                running, done = feed.progress(label)
                pane.note = f"{done}/{feed.per_target} done" + (f" · {running} running" if running else "")
            ending = probe.result is not None and pane.result is not probe.result
            if ending and (final or ended < ENDINGS_PER_FRAME):
                # A few per frame: when a dozen probes end together, their
                # restyles and redraws would otherwise all land in one frame.
                ended += 1
                pane.finish(probe.result)
            elif drawn < budget:
                drawn += 1
                pane.flush()
                self._next_pane = (self._next_pane + 1) % max(1, len(panes))
        if feed.summary_dirty:
            feed.summary_dirty = False
            self._refresh_summary(feed.finished)
        self._show_status(self._live_status(feed))

    def _restore_gc(self) -> None:
        if self._gc_thresholds is not None:
            gc.set_threshold(*self._gc_thresholds)
            self._gc_thresholds = None

    def _adapt_budget(self, final: bool) -> None:
        now = time.perf_counter()
        late_ms = (now - self._last_frame_at) * 1000 - 1000 / FPS if self._last_frame_at else 0.0
        self._last_frame_at = 0.0 if final else now
        if late_ms > LATE_FRAME_MS:
            self._pane_budget = max(1, int(self._pane_budget * 0.7))
        elif late_ms < LATE_FRAME_MS / 3:
            self._pane_budget = min(len(self.panes) or 1, self._pane_budget + 1)

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
        if self.runner is None:
            return self._status_cache
        elapsed = time.monotonic() - self._run_started
        return (f"running · {done}/{feed.total} probes done · {running} in flight · "
                f"{elapsed:.1f} s · escape cancels")

    def _show_status(self, text: str) -> None:
        if not text:
            n = len(self.targets)
            text = (f"{n} target{'s' if n != 1 else ''} · ctrl+r runs · ctrl+t picks targets · f1 help"
                    if n else "no targets: ctrl+t picks some")
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
        node = self.app.focused
        while node is not None:
            if isinstance(node, ProbePane):
                return node
            node = node.parent
        return None

    def summary_table(self) -> SummaryTable:
        return self.query_one("#summary", SummaryTable)
