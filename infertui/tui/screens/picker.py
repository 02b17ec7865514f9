"""The target picker: every provider and model in one filterable list.

Type to filter; space toggles; enter applies. A group line picks one model on
every provider that serves it. Providers without their key, or local servers
that are not running, are listed with what to do about it. Model lists come
from the app (fetched in workers through `infertui.core.models`); this screen
only shows them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, SelectionList, Static
from textual.widgets.selection_list import Selection

from infertui.core.targets import Target, split_target
from infertui.textsafe import one_line
from infertui.tui import fmt
from infertui.tui.catalog import Catalog, Entry
from infertui.tui.messages import ModelsListed

if TYPE_CHECKING:
    from textual import getters

    from infertui.tui.app import InfertuiApp

MAX_SHOWN = 400  # lines in the list at once; the filter narrows the rest
NO_MATCH = "!no-match"  # the key of the line that says nothing matched


class TargetPicker(ModalScreen[list[Target] | None]):
    if TYPE_CHECKING:  # the app it runs in, for the type checker only
        app = getters.app(InfertuiApp)

    BINDINGS = [
        Binding("escape", "dismiss_picker", "Close", id="picker_close"),
        Binding("down", "focus_list", "List", show=False, id="picker_list"),
    ]

    def __init__(self, chosen: list[Target]) -> None:
        super().__init__(id="picker")
        self.chosen: dict[str, Target] = {t.label: t for t in chosen}
        self.catalog = Catalog()

    def compose(self) -> ComposeResult:
        with Vertical(id="picker-box"):
            yield Label("Pick targets", id="picker-title")
            yield Input(placeholder="filter: provider, model or group; or type PROVIDER/MODEL",
                        id="picker-filter")
            yield SelectionList[str](id="picker-list")
            yield Static("", id="picker-chosen", markup=False)
            with Horizontal(id="picker-buttons"):
                yield Static("type to filter · ↓ then space toggles · enter applies · esc closes",
                             id="picker-help")
                yield Button("Apply", id="picker-apply", variant="primary", compact=True)
                yield Button("Clear", id="picker-clear", compact=True)

    def on_mount(self) -> None:
        self.app.request_model_lists()
        self.rebuild()
        self.query_one("#picker-filter", Input).focus()

    # -- the list -----------------------------------------------------------------
    def rebuild(self) -> None:
        self.catalog = self.app.catalog()
        query = self.query_one("#picker-filter", Input).value
        entries = self.catalog.filtered(query)
        extra = self._typed_target(query)
        selections: list[Selection[str]] = []
        if extra is not None:
            selections.append(Selection(Text.assemble(("add ", "bold"), one_line(extra.label)), extra.label,
                                        extra.label in self.chosen))
        selections.extend(self._selection(entry) for entry in entries[:MAX_SHOWN])
        if not selections and query.strip():
            # Never an empty box: say that nothing matched, and what else works.
            hint = "no provider, model or group matches " + repr(one_line(query.strip(), 40))
            if "/" not in query:
                hint += " · type PROVIDER/MODEL to add a model by hand"
            selections.append(Selection(Text(hint, style="italic"), NO_MATCH, False, disabled=True))
        listing = self.query_one("#picker-list", SelectionList)
        highlighted = listing.highlighted
        listing.set_options(selections)
        if selections:
            listing.highlighted = min(highlighted or 0, len(selections) - 1)
        self._show_chosen()

    def _selection(self, entry: Entry) -> Selection[str]:
        if entry.kind == "group":
            members = {t.label for t in entry.targets}
            on_ = bool(members) and members <= set(self.chosen)
            label = Text.assemble(("group ", "bold magenta"), one_line(entry.label))
            return Selection(label, entry.key, on_)
        if entry.kind == "target":
            return Selection(fmt.cell(entry.label), entry.key, entry.key in self.chosen)
        style = {"missing-key": "yellow", "not-running": "dim", "listing": "dim italic",
                 "error": "red"}.get(entry.kind, "dim")
        return Selection(fmt.cell(entry.label, style=style), entry.key, False, disabled=True)

    def _typed_target(self, query: str) -> Target | None:
        """`PROVIDER/MODEL` typed for a known provider, when not listed already."""
        query = query.strip()
        if " " in query or "/" not in query:
            return None
        try:
            provider_name, model = split_target(query)
        except ValueError:
            return None
        provider = self.app.config.providers.get(provider_name)
        if provider is None or query in self.catalog.by_key():
            return None
        return Target(provider, model)

    def _show_chosen(self) -> None:
        names = ", ".join(self.chosen) or "none"
        self.query_one("#picker-chosen", Static).update(fmt.cell(f"{len(self.chosen)} chosen: {names}"))

    @on(Input.Changed, "#picker-filter")
    def _filter(self) -> None:
        self.rebuild()

    @on(Input.Submitted, "#picker-filter")
    def _submitted(self) -> None:
        # Enter on a typed `PROVIDER/MODEL` (listed or not) or `group:NAME` adds it, then applies.
        query = self.query_one("#picker-filter", Input).value.strip()
        typed = self._typed_target(query)
        entry = self.catalog.by_key().get(query) if " " not in query else None
        if typed is not None:
            self.chosen.setdefault(typed.label, typed)
        elif entry is not None:
            for target in entry.targets:
                self.chosen.setdefault(target.label, target)
        elif "/" in query and " " not in query:
            provider = query.split("/", 1)[0]
            self.notify(f"No provider named {provider!r}: pick one from the list, or add it to the config.",
                        severity="warning")
            return
        self.action_apply()

    @on(SelectionList.SelectionToggled, "#picker-list")
    def _toggled(self, event: SelectionList.SelectionToggled) -> None:
        key = event.selection.value
        on_now = key in event.selection_list.selected
        entry = self.catalog.by_key().get(key)
        if entry is not None:
            targets = list(entry.targets)
        else:
            typed = self._typed_target(key)
            targets = [typed] if typed is not None else []
        for target in targets:
            if on_now:
                self.chosen.setdefault(target.label, target)
            else:
                self.chosen.pop(target.label, None)
        if (entry is not None and entry.kind == "group") or entry is None:
            self.rebuild()  # a group changes other lines' marks
        else:
            self._show_chosen()

    def on_key(self, event) -> None:
        listing = self.query_one("#picker-list")
        if self.focused is not listing:
            return
        if event.key == "enter":  # space toggles, enter applies, as the help line says
            event.stop()
            self.action_apply()
        elif event.key == "backspace" or (event.is_printable and event.key != "space"):
            # Typing in the list goes on filtering.
            event.stop()
            field = self.query_one("#picker-filter", Input)
            field.focus()
            if event.key == "backspace":
                field.value = field.value[:-1]
            else:
                field.insert_text_at_cursor(event.character or "")

    def on_models_listed(self, _message: ModelsListed) -> None:
        self.rebuild()

    # -- closing ------------------------------------------------------------------
    def action_apply(self) -> None:
        self.dismiss(list(self.chosen.values()))

    def action_dismiss_picker(self) -> None:
        self.dismiss(None)

    def action_focus_list(self) -> None:
        self.query_one("#picker-list").focus()

    @on(Button.Pressed, "#picker-apply")
    def _apply_pressed(self) -> None:
        self.action_apply()

    @on(Button.Pressed, "#picker-clear")
    def _clear_pressed(self) -> None:
        self.chosen.clear()
        self.rebuild()
        self.query_one("#picker-filter", Input).focus()
