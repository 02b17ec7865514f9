"""The infertui app: built by `create_app`, never at import.

The app holds what every screen shares: the config, where the results store
lives (opened when first needed), the model lists and the local servers found
running. Screens own their state; workers post messages. A broken config or
store is a notification, never a crash.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.keys import format_key
from textual.screen import Screen

from infertui.core.clients import TransportFactory
from infertui.core.clock import Clock, monotonic_ns
from infertui.core.models import ModelList, detect_local, list_models, loopback_port
from infertui.core.session import Session
from infertui.core.targets import Provider, Target
from infertui.textsafe import display, one_line
from infertui.tui.layout import size_classes
from infertui.tui.messages import LocalServersFound, ModelsListed

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel

    from infertui.store.background import BackgroundRecorder
    from infertui.store.config import Config
    from infertui.store.repository import Store
    from infertui.tui.catalog import Catalog
    from infertui.tui.controller import RunController
    from infertui.tui.screens.compare import CompareScreen

DEFAULT_TARGET_MODEL = "demo-70b"  # raced on the simulator at first launch


class InfertuiApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "infertui"
    SUB_TITLE = "same model, different providers"
    BINDINGS = [
        Binding("ctrl+r", "run", "Run", id="run", priority=True),
        Binding("escape", "cancel", "Cancel", id="cancel"),
        Binding("ctrl+t", "picker", "Targets", id="picker", priority=True),
        Binding("f1", "help", "Help", id="help"),
        Binding("f2", "history", "History", id="history"),
        Binding("f3", "copy", "Copy", id="copy"),
        Binding("f4", "campaign", "Campaigns", id="campaign", show=False),
        Binding("ctrl+s", "export", "Export", id="export", priority=True),
        Binding("f12", "screenshot", "Screenshot", id="screenshot", show=False),
        Binding("ctrl+q", "quit", "Quit", id="quit", priority=True),
    ]

    def __init__(self, config: Config, store_path: Path, *, config_error: str | None = None,
                 sim_time_scale: float = 1.0, sim_seed: int = 0, clock: Clock | None = None,
                 detect_local_servers: bool = True) -> None:
        super().__init__()
        self.config = config
        self.store_path = store_path
        self.config_error = config_error
        self.sim_time_scale = sim_time_scale
        self.sim_seed = sim_seed
        self.clock: Clock = clock or monotonic_ns
        self.detect_local_servers = detect_local_servers
        # Hands a provider its own httpx transport (tests: a scripted provider).
        self.transport_factory: TransportFactory | None = None
        self.model_lists: dict[str, ModelList] = {}
        self.local_running: set[str] = set()
        self._listing: set[str] = set()
        self._store: Store | None = None
        self._persister: BackgroundRecorder | None = None
        self._store_failed: str | None = None
        self._theme_ready = False
        # The user's keymap before any screen is built: the keys written on
        # buttons, in the status line and in help are the remapped ones.
        keymap = config.ui.get("keymap")
        if isinstance(keymap, dict):
            self.set_keymap({str(k): str(v) for k, v in keymap.items()})

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Every notification is plain text: messages carry data (config lines,
        server errors, model ids, paths), so markup is never parsed and
        control characters are shown as escapes. Screens and widgets call this
        too (Widget.notify goes through the app)."""
        super().notify(display(message), title=one_line(title), severity=severity, timeout=timeout,
                       markup=False)

    async def on_event(self, event: events.Event) -> None:
        # Pasted text goes into a prompt, a filter or a path: whatever the
        # clipboard held, its control characters arrive as visible escapes, so
        # no widget ever draws one to the terminal.
        if isinstance(event, events.Paste) and not event.is_forwarded:
            event.text = display(event.text)
        await super().on_event(event)

    # -- start-up -----------------------------------------------------------------
    def get_default_screen(self) -> Screen:
        from infertui.tui.screens.compare import CompareScreen

        return CompareScreen()

    def on_mount(self) -> None:
        theme = self.config.ui.get("theme")
        if isinstance(theme, str) and theme in self.available_themes:
            self.theme = theme
        self._theme_ready = True
        if self.config_error:
            self.notify(f"{self.config_error}\nRunning with the built-in providers only; "
                        "`infertui config check` lists every problem.",
                        title="Config not loaded", severity="error", timeout=20)
        for notice in self.config.notices:
            self.notify(notice, title="Config", severity="warning", timeout=10)
        if self.detect_local_servers:
            self.run_worker(self._detect_local(), group="startup", exit_on_error=False)

    def on_resize(self, event: events.Resize) -> None:
        # Size classes (infertui.tui.layout): the CSS shortens what a small
        # terminal cannot hold, and screens collapse what they must.
        for name, on in size_classes(event.size.width, event.size.height).items():
            self.set_class(on, name)

    def watch_theme(self, theme: str) -> None:
        if not self._theme_ready:
            return
        try:
            from infertui.store.state import save_ui

            save_ui(self.config, {"theme": theme})
        except Exception as exc:  # noqa: BLE001 - a preference is not worth a crash
            self.notify(f"theme not saved: {exc}", severity="warning")

    def key_text(self, binding_id: str, default: str) -> str:
        """How the key bound to `binding_id` is written (`ctrl+r`, `f4`, `esc`),
        after the user's keymap; `default` is the binding's own key."""
        keys = self._keymap.get(binding_id) or default
        modifiers, key = Binding(keys.split(",")[0].strip(), "").parse_key()
        return "+".join([*modifiers, format_key(key)])

    @property
    def compare(self) -> CompareScreen:
        from infertui.tui.screens.compare import CompareScreen

        for screen in self.screen_stack:
            if isinstance(screen, CompareScreen):
                return screen
        raise LookupError("the compare screen is not on the stack")

    def initial_targets(self) -> list[Target]:
        """The targets of the last run, else one demo model on every simulator."""
        last = self.config.ui.get("last_targets")
        if isinstance(last, list) and last:
            try:
                return self.config.resolve_targets(str(spec) for spec in last)
            except Exception:  # noqa: BLE001 - a provider since removed: fall back
                pass
        return [Target(p, DEFAULT_TARGET_MODEL) for p in self.config.providers.values()
                if p.simulated and p.name.startswith("sim-")]

    def remember_targets(self, targets: Iterable[Target]) -> None:
        labels = [t.label for t in targets]
        if labels == self.config.ui.get("last_targets"):
            return
        try:
            from infertui.store.state import save_ui

            save_ui(self.config, {"last_targets": labels})
        except Exception:  # noqa: BLE001 - only a convenience
            pass

    # -- providers, models, local servers -------------------------------------------
    def local_providers(self) -> list[Provider]:
        return [p for p in self.config.providers.values()
                if not p.simulated and loopback_port(p) is not None]

    async def _detect_local(self) -> None:
        running = await detect_local(self.local_providers())
        self.post_message(LocalServersFound([p.name for p in running]))

    def on_local_servers_found(self, message: LocalServersFound) -> None:
        new = [name for name in message.running if name not in self.local_running]
        self.local_running = set(message.running)
        if new:
            self.notify("Local servers found: " + ", ".join(new), timeout=4, markup=False)
        self.request_model_lists()

    def rescan_local_servers(self) -> None:
        """Look for local servers again (the picker opens): one started since
        the app did, or missed on a busy machine, is found now."""
        if self.detect_local_servers:
            self.run_worker(self._detect_local(), group="local-scan", exclusive=True,
                            exit_on_error=False)

    def request_model_lists(self) -> None:
        """List the models of every usable provider not listed yet (workers)."""
        env = self.config.environ
        local = {p.name for p in self.local_providers()}
        for provider in self.config.providers.values():
            name = provider.name
            if name in self.model_lists or name in self._listing:
                continue
            if provider.simulated:
                from infertui.core.simulator import sim_models

                self.model_lists[name] = ModelList(name, models=list(sim_models(name)))
                continue
            if name in local and name not in self.local_running:
                continue
            if provider.needs_key() and not provider.api_key(env):
                continue
            self._listing.add(name)
            self.run_worker(self._list(provider), group="models", exit_on_error=False)

    async def _list(self, provider: Provider) -> None:
        import httpx

        timeout = httpx.Timeout(connect=3.0, read=8.0, write=3.0, pool=3.0)
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            listed = await list_models(client, provider, self.config.environ)
        self.post_message(ModelsListed(listed))

    def on_models_listed(self, message: ModelsListed) -> None:
        self.model_lists[message.listed.provider] = message.listed
        self._listing.discard(message.listed.provider)
        from infertui.tui.screens.picker import TargetPicker

        if isinstance(self.screen, TargetPicker):
            self.screen.rebuild()

    def catalog(self) -> Catalog:
        from infertui.tui.catalog import build_catalog

        return build_catalog(
            self.config.providers, self.model_lists, environ=self.config.environ,
            local_names=[p.name for p in self.local_providers()], running=self.local_running,
            groups=self.config.model_groups, listing=self._listing,
        )

    # -- the results store ----------------------------------------------------------
    def open_store(self) -> Store | None:
        """The store, opened on first use; None (and a notification) if it cannot be."""
        if self._store is not None:
            return self._store
        try:
            from infertui.store.repository import Store

            self._store = Store.open(self.store_path)
        except Exception as exc:  # noqa: BLE001 - StoreError, OSError: say it, carry on
            message = str(exc) or type(exc).__name__
            if message != self._store_failed:
                self._store_failed = message
                self.notify(f"{message}\nResults stay on screen but are not saved.",
                            title="Results store unavailable", severity="error", timeout=15)
            return None
        return self._store

    def persister(self) -> BackgroundRecorder:
        """Saves runs from a thread of its own (see infertui.store.background)."""
        if self._persister is None:
            from infertui.store.background import BackgroundRecorder

            def report(title: str, message: str) -> None:
                self.call_from_thread(
                    self.notify, f"{message}\nResults stay on screen; export them with "
                    f"{self.key_text('export', 'ctrl+s')}.",
                    title=title, severity="error", timeout=15)

            self._persister = BackgroundRecorder(self.store_path, report)
        return self._persister

    def run_controller(self) -> RunController:
        """A run of this app's targets: its clock, transports, simulator and store."""
        from infertui.tui.controller import RunController

        return RunController(self.config.environ, clock=self.clock, transport_factory=self.transport_factory,
                             sim_seed=self.sim_seed, sim_time_scale=self.sim_time_scale,
                             recorder=self.persister())

    def on_unmount(self) -> None:
        if self._persister is not None:
            self._persister.close()
        if self._store is not None:
            try:
                self._store.close()
            except Exception:  # noqa: BLE001 - the app is closing: nothing is left to tell
                pass

    # -- actions ----------------------------------------------------------------------
    def _on_compare(self) -> bool:
        from infertui.tui.screens.compare import CompareScreen

        return isinstance(self.screen, CompareScreen)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "export" and callable(getattr(self.screen, "export_report", None)):
            return True  # a session or campaign screen writes its own
        if action in ("run", "picker", "export", "copy", "cancel"):
            return self._on_compare()
        return True

    def action_run(self) -> None:
        self.compare.action_run()

    def action_cancel(self) -> None:
        self.compare.action_cancel()

    def action_picker(self) -> None:
        from infertui.tui.screens.picker import TargetPicker

        compare = self.compare
        if compare.running:
            self.notify("Targets cannot change during a run.", severity="warning")
            return

        def chosen(targets: list[Target] | None) -> None:
            if targets is not None:
                compare.set_targets(targets)

        self.rescan_local_servers()
        self.push_screen(TargetPicker(compare.targets), chosen)

    def action_help(self) -> None:
        from infertui.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self._help_bindings = [b.binding for b in self.screen.active_bindings.values()]
            self.push_screen(HelpScreen())

    def help_bindings(self) -> list[Binding]:
        return list(getattr(self, "_help_bindings", []))

    def action_history(self) -> None:
        try:
            from infertui.tui.screens.history import HistoryScreen
        except ImportError as exc:
            self.notify(f"History is not available: {exc}", severity="error")
            return
        # F2 from a screen over the history (a session, a replay) goes back to
        # it rather than stacking a second one.
        for screen in reversed(self.screen_stack):
            if isinstance(screen, HistoryScreen):
                while self.screen is not screen:
                    self.pop_screen()
                return
        self.push_screen(HistoryScreen())

    def action_campaign(self) -> None:
        from infertui.tui.screens.campaign import CampaignScreen

        if not isinstance(self.screen, CampaignScreen):
            self.push_screen(CampaignScreen())

    def open_session(self, session: Session) -> None:
        """Show a past session (the history screen calls this)."""
        from infertui.tui.screens.session import SessionScreen

        self.push_screen(SessionScreen(session))

    def rerun(self, session: Session) -> None:
        """Run a past session again: its targets, prompt and parameters."""
        compare = self.compare
        while self.screen is not compare:
            self.pop_screen()
        if compare.running:
            self.notify(f"A run is in progress: {self.key_text('cancel', 'escape')} cancels it.",
                        severity="warning")
            return
        providers = self.config.providers
        targets = []
        for target in session.targets:
            known = providers.get(target.provider.name)
            if known is not None and known.base_url == target.provider.base_url:
                targets.append(Target(known, target.model))
            else:
                targets.append(target)
        compare.load_run(targets, session.params, session.settings)
        compare.start_run(targets, session.params, session.settings)

    def action_copy(self, what: str = "auto") -> None:
        compare = self.compare
        pane = compare.focused_pane()
        summary = compare.summary_table()
        if what == "summary" or (what == "auto" and pane is None and summary.summary):
            if not summary.summary:
                self.notify("No summary yet: run first.", severity="warning")
                return
            self.copy_to_clipboard(summary.as_tsv())
            self.notify("Summary copied (tab-separated).")
            return
        if pane is None and compare.panes:
            pane = next(iter(compare.panes.values()))
        if pane is None or not (pane.text or pane.reasoning_text):
            self.notify(f"Nothing to copy: focus a pane with text (tab), then {self.key_text('copy', 'f3')}.",
                        severity="warning")
            return
        self.copy_to_clipboard(pane.text or pane.reasoning_text)
        self.notify(f"Copied the text of {pane.target.label}.")

    def action_export(self) -> None:
        from infertui.tui.screens.dialogs import ExportScreen, write_export

        own = getattr(self.screen, "export_report", None)  # a session or campaign screen's own
        if callable(own):
            own()
            return

        session = self.compare.session
        if session is None or not session.probes:
            self.notify("Nothing to export yet: run first.", severity="warning")
            return

        def chosen(answer: tuple[str, Path] | None) -> None:
            if answer is None:
                return
            fmt, path = answer
            try:
                written = write_export(session, fmt, path)
            except (OSError, ValueError) as exc:
                self.notify(f"{path}: {exc}", title="Export failed", severity="error")
                return
            self.notify(f"Wrote {written}", title="Exported")

        self.push_screen(ExportScreen(session), chosen)

    def action_save_prompt(self) -> None:
        from infertui.tui.screens.dialogs import NameScreen

        compare = self.compare
        text = compare.prompt_text
        if not text.strip():
            self.notify("The prompt is empty.", severity="warning")
            return

        def named(name: str | None) -> None:
            if name is None:
                return
            from infertui.store.config_model import SavedPrompt
            from infertui.store.state import save_prompt

            system = compare.system_text
            try:
                save_prompt(self.config, SavedPrompt(name, text, system))
            except Exception as exc:  # noqa: BLE001 - ConfigError, OSError
                self.notify(str(exc), title="Prompt not saved", severity="error")
                return
            compare.refresh_saved_prompts()
            self.notify(f"Saved prompt {name!r}.")

        self.push_screen(NameScreen("Save the prompt as", "prompt name"), named)

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        try:
            saved = self.save_screenshot(filename, path=path or os.getcwd())
        except OSError as exc:
            self.notify(str(exc), title="Screenshot failed", severity="error")
            return
        self.notify(f"Saved {saved}", title="Screenshot")

    # -- the command palette ------------------------------------------------------------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        # `screen` is the one the palette was opened over (while it is open,
        # `self.screen` is the palette itself).
        from infertui.tui.screens.compare import CompareScreen

        key = self.key_text
        if isinstance(screen, CompareScreen):
            yield SystemCommand("run: start the comparison",
                                f"Fire every target at once ({key('run', 'ctrl+r')})", self.action_run)
            yield SystemCommand("cancel: stop the run",
                                f"Finished probes are kept ({key('cancel', 'escape')})", self.action_cancel)
            yield SystemCommand("targets: pick providers and models", key("picker", "ctrl+t"),
                                self.action_picker)
            yield SystemCommand("export: save the session to a file",
                                f"JSON, CSV, Markdown or the HTML report ({key('export', 'ctrl+s')})",
                                self.action_export)
            yield SystemCommand("checks: compliance and fidelity of every target",
                                f"Parameters honoured? The fidelity suite answered? ({key('checks', 'f5')}; "
                                f"{key('check_details', 'f6')}: a pane's verdicts)", screen.action_checks)
            yield SystemCommand("copy: pane text",
                                f"The focused pane's answer, to the clipboard ({key('copy', 'f3')})",
                                lambda: self.action_copy("pane"))
            yield SystemCommand("copy: summary table", "Tab-separated, to the clipboard",
                                lambda: self.action_copy("summary"))
            yield SystemCommand("prompt: save as…", "Keep this prompt (and system prompt) for later",
                                self.action_save_prompt)
            yield SystemCommand("layout: toggle the sidebar", key("sidebar", "ctrl+b"),
                                screen.action_toggle_sidebar)
        yield SystemCommand("history: past sessions",
                            f"Browse, compare and replay ({key('history', 'f2')})", self.action_history)
        yield SystemCommand("help: keys and metric definitions", key("help", "f1"), self.action_help)
        yield SystemCommand("screenshot: save an SVG of the screen",
                            f"{key('screenshot', 'f12')}, into the current directory", self.action_screenshot)
        yield SystemCommand("campaign: run, watch and read consistency campaigns",
                            f"Many requests, concurrency levels, rounds ({key('campaign', 'f4')})",
                            self.action_campaign)
        for command in super().get_system_commands(screen):
            if command.title in ("Theme", "Quit", "Keys", "Maximize", "Minimize"):
                title = {"Theme": "theme: change the colours", "Quit": "quit"}.get(
                    command.title, command.title.lower())
                yield SystemCommand(title, command.help, command.callback, command.discover)


# -- building ---------------------------------------------------------------------------

def create_app(config: Config | str | os.PathLike[str] | None = None,
               store_path: str | os.PathLike[str] | None = None, *,
               sim_time_scale: float = 1.0, sim_seed: int = 0,
               clock: Clock | None = None, detect_local_servers: bool = True) -> InfertuiApp:
    """Build the app. `config` is a loaded Config, a config file, or None for
    the user's; `store_path` None means infertui.db in the data directory."""
    from infertui.store import paths
    from infertui.store.config import Config, builtin_config, load_config
    from infertui.store.errors import ConfigError

    error = None
    if not isinstance(config, Config):
        try:
            config = load_config(config)
        except ConfigError as exc:
            error = str(exc)
            config = builtin_config()
    return InfertuiApp(config, paths.db_file(store_path), config_error=error,
                       sim_time_scale=sim_time_scale, sim_seed=sim_seed, clock=clock,
                       detect_local_servers=detect_local_servers)
