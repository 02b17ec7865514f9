"""The run's parameters: what is asked (max tokens, temperature, reasoning)
and how often (repeat, concurrency, warm-up, nonce)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Grid
from textual.validation import Integer, Number
from textual.widgets import Input, Label, Select, Switch

from infertui import inputs
from infertui.core.session import RunSettings

REASONING_CHOICES = [("default", "default"), ("on", "on"), ("off", "off")]


class ParamsError(ValueError):
    """A parameter the user typed cannot be used; the message says which."""


class ParamsForm(Grid):
    DEFAULT_CSS = """
    ParamsForm {
        grid-size: 2;
        grid-columns: 13 1fr;
        grid-rows: 1;
        grid-gutter: 0 1;
        height: auto;
    }
    ParamsForm Label { padding: 0 0; color: $text-muted; }
    ParamsForm Input { padding: 0 1; }
    ParamsForm Select { height: 1; }
    ParamsForm Select > SelectCurrent { padding: 0 1; }
    ParamsForm Switch { border: none; height: 1; padding: 0 1; width: 8; }
    /* One row per field: a focused field keeps its row and its value, and
       says it has the focus by its background, not by a border it has no
       room for. */
    ParamsForm Input:focus, ParamsForm Switch:focus, ParamsForm Select:focus > SelectCurrent {
        border: none;
        background: $accent 35%;
    }
    """

    def compose(self) -> ComposeResult:
        yield Label("max tokens")
        yield Input("256", id="max-tokens", type="integer", validators=[Integer(minimum=1)],
                    tooltip="max_tokens asked of every target", compact=True)
        yield Label("temperature")
        # Empty is the provider's default, and valid: it keeps its placeholder.
        yield Input("", id="temperature", placeholder="provider default", type="number",
                    validators=[Number(minimum=0, maximum=inputs.MAX_TEMPERATURE)], valid_empty=True, compact=True)
        yield Label("reasoning")
        yield Select(REASONING_CHOICES, id="reasoning", value="default", allow_blank=False,
                     tooltip="on/off where the API has a switch; default leaves it to the provider",
                     compact=True)
        yield Label("repeat")
        yield Input("1", id="repeat", type="integer", validators=[Integer(minimum=1)],
                    tooltip="measured probes per target", compact=True)
        yield Label("concurrency")
        yield Input("1", id="concurrency", type="integer", validators=[Integer(minimum=1)],
                    tooltip="probes in flight per target", compact=True)
        yield Label("warm-up")
        yield Input("0", id="warmup", type="integer", validators=[Integer(minimum=0)],
                    tooltip="probes per target run first, left out of statistics", compact=True)
        yield Label("nonce")
        yield Switch(False, id="nonce", tooltip="prefix every prompt with a unique nonce (defeats caches)")

    # -- reading and writing ----------------------------------------------------
    def _int(self, widget_id: str, name: str, minimum: int, maximum: int) -> int:
        text = self.query_one(f"#{widget_id}", Input).value
        try:
            return inputs.whole_number(text, minimum, maximum)
        except ValueError as exc:
            raise ParamsError(f"{name}: {exc}") from None

    def read(self) -> tuple[int, float | None, bool | None, RunSettings]:
        """(max_tokens, temperature, reasoning, settings), or ParamsError."""
        max_tokens = self._int("max-tokens", "max tokens", 1, inputs.MAX_TOKENS)
        text = self.query_one("#temperature", Input).value.strip()
        temperature: float | None = None
        if text:
            try:
                temperature = inputs.number(text, 0, inputs.MAX_TEMPERATURE)
            except ValueError as exc:
                raise ParamsError(f"temperature: {exc}") from None
        choice = self.query_one("#reasoning", Select).value
        reasoning = None if choice == "default" else choice == "on"
        settings = RunSettings(
            repeat=self._int("repeat", "repeat", 1, inputs.MAX_REPEAT),
            concurrency=self._int("concurrency", "concurrency", 1, inputs.MAX_CONCURRENCY),
            warmup=self._int("warmup", "warm-up", 0, inputs.MAX_WARMUP),
            nonce=self.query_one("#nonce", Switch).value,
        )
        return max_tokens, temperature, reasoning, settings

    def load(self, max_tokens: int, temperature: float | None, reasoning: bool | None,
             settings: RunSettings) -> None:
        self.query_one("#max-tokens", Input).value = str(max_tokens)
        self.query_one("#temperature", Input).value = "" if temperature is None else f"{temperature:g}"
        self.query_one("#reasoning", Select).value = (
            "default" if reasoning is None else ("on" if reasoning else "off"))
        self.query_one("#repeat", Input).value = str(settings.repeat)
        self.query_one("#concurrency", Input).value = str(settings.concurrency)
        self.query_one("#warmup", Input).value = str(settings.warmup)
        self.query_one("#nonce", Switch).value = settings.nonce
