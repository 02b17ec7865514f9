"""The compare screen's sidebar: targets, the prompt (with saved prompts), the
system prompt and the run's parameters, with the run and cancel buttons.

A prompt put here from a file or a past session is data: the fields show it
with control characters as escapes, and while a field is left as shown the
run sends the text exactly as it was. Keys written on the buttons follow the
user's keymap.
"""

from __future__ import annotations

from typing import Mapping

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Input, Label, OptionList, Select, TextArea
from textual.widgets.option_list import Option

from infertui.core.session import RunSettings
from infertui.core.targets import ProbeParams, Target
from infertui.inputs import DEFAULT_PROMPT
from infertui.textsafe import display, one_line
from infertui.tui import fmt
from infertui.tui.widgets.params import ParamsError, ParamsForm
from infertui.tui.widgets.params_extra import ExtraParams


class TargetList(OptionList):
    """The chosen targets; Delete removes the highlighted one."""

    BINDINGS = [Binding("delete", "remove", "Remove target", id="remove_target")]

    class RemoveRequested(Message):
        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def action_remove(self) -> None:
        if self.highlighted is not None:
            self.post_message(self.RemoveRequested(self.highlighted))


class Sidebar(VerticalScroll, can_focus=False):
    """What the next run asks, of whom, and how often."""

    class SavedPromptChosen(Message):
        """A saved prompt was picked in the list; the screen decides whether it replaces the form's."""

        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._exact_prompt = (DEFAULT_PROMPT, DEFAULT_PROMPT)  # (as shown, as it was)
        self._exact_system = ("", "")

    def compose(self) -> ComposeResult:
        yield Label("Targets", classes="section")
        yield TargetList(id="targets")
        yield Button("Pick targets", id="pick", compact=True)
        yield Label("Prompt", classes="section")
        yield Select([], id="saved-prompt", prompt="saved prompts", compact=True)
        yield TextArea(DEFAULT_PROMPT, id="prompt", soft_wrap=True, show_line_numbers=False)
        yield Input(id="system", placeholder="system prompt (optional)", compact=True)
        yield Label("Parameters", classes="section")
        yield ParamsForm(id="params")
        yield ExtraParams(id="params-extra")
        with Horizontal(id="run-buttons"):
            yield Button("Run", id="run", variant="primary", compact=True)
            yield Button("Cancel", id="cancel", variant="error", compact=True, disabled=True)

    def on_mount(self) -> None:
        self.show_keys()

    def show_keys(self) -> None:
        """Write the keys on the buttons as the keymap has them."""
        key = getattr(self.app, "key_text", lambda _id, default: default)
        self.query_one("#pick", Button).label = f"Pick targets  {key('picker', 'ctrl+t')}"
        self.query_one("#run", Button).label = f"Run  {key('run', 'ctrl+r')}"
        self.query_one("#cancel", Button).label = f"Cancel  {key('cancel', 'escape')}"

    # -- targets ------------------------------------------------------------------
    def show_targets(self, targets: list[Target], environ: Mapping[str, str]) -> None:
        """List `targets`, keeping the highlight where it was (or on the one before)."""
        listing = self.query_one("#targets", TargetList)
        highlighted = listing.highlighted
        options = []
        for t in targets:
            prompt = fmt.cell(t.label)
            if t.provider.needs_key() and not t.provider.api_key(environ):
                prompt.append(f"  (export {one_line(t.provider.api_key_env)})", style="yellow")
            options.append(Option(prompt, id=t.label))
        listing.set_options(options)
        if options and highlighted is not None:
            listing.highlighted = min(highlighted, len(options) - 1)

    # -- the prompt -----------------------------------------------------------------
    def show_saved_prompts(self, names: list[str]) -> None:
        select = self.query_one("#saved-prompt", Select)
        with self.prevent(Select.Changed):
            select.set_options([(fmt.cell(name), name) for name in sorted(names)])
        select.disabled = not names

    def clear_saved_choice(self) -> None:
        with self.prevent(Select.Changed):
            self.query_one("#saved-prompt", Select).clear()

    @on(Select.Changed, "#saved-prompt")
    def _saved_prompt_chosen(self, event: Select.Changed) -> None:
        event.stop()
        if isinstance(event.value, str):  # not the blank line
            self.post_message(self.SavedPromptChosen(event.value))

    def set_prompt(self, prompt: str, system: str | None) -> None:
        """Put a prompt and a system prompt in the form."""
        shown = display(prompt)
        self._exact_prompt = (shown, prompt)
        self.query_one("#prompt", TextArea).text = shown
        shown_system = one_line(system or "")
        self._exact_system = (shown_system, system or "")
        self.query_one("#system", Input).value = shown_system

    @property
    def prompt_edited(self) -> bool:
        """The prompt is not the one the app last put there: the user wrote in it."""
        return self.query_one("#prompt", TextArea).text != self._exact_prompt[0]

    @property
    def prompt_text(self) -> str:
        text = self.query_one("#prompt", TextArea).text
        return self._exact_prompt[1] if text == self._exact_prompt[0] else text

    @property
    def system_text(self) -> str | None:
        value = self.query_one("#system", Input).value
        exact = self._exact_system[1] if value == self._exact_system[0] else value
        return exact if exact.strip() else None

    # -- parameters -------------------------------------------------------------------
    def read_params(self) -> tuple[ProbeParams, RunSettings]:
        """The form as core values, or ParamsError with a message for the user."""
        prompt = self.prompt_text
        if not prompt.strip():
            raise ParamsError("the prompt is empty")
        max_tokens, temperature, reasoning, settings = self.query_one(ParamsForm).read()
        params = ProbeParams(prompt=prompt, max_tokens=max_tokens, temperature=temperature,
                             reasoning=reasoning, system=self.system_text,
                             **self.query_one(ExtraParams).read())
        return params, settings

    def load(self, params: ProbeParams, settings: RunSettings) -> None:
        self.set_prompt(params.prompt, params.system)
        self.query_one(ParamsForm).load(params.max_tokens, params.temperature, params.reasoning, settings)
        self.query_one(ExtraParams).load(params)

    def set_running(self, running: bool) -> None:
        self.query_one("#run", Button).disabled = running
        self.query_one("#cancel", Button).disabled = not running
