"""More of what is asked: stop sequences, a sampling seed, top_p and a
JSON-output request (each wire format maps them, see core/wire).

Stop sequences are typed in one line, separated by `|`; `\\|` is a literal
bar, `\\n` a line break, `\\t` a tab and `\\\\` a backslash."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Grid
from textual.validation import Integer, Number
from textual.widgets import Input, Label, Switch

from infertui import inputs
from infertui.core.targets import ProbeParams
from infertui.tui.widgets.params import ParamsError

_ESCAPES = {"n": "\n", "t": "\t", "|": "|", "\\": "\\"}


def parse_stop(text: str) -> tuple[str, ...]:
    """`a|b\\|c|\\n` -> ("a", "b|c", "\\n"); empty pieces are dropped."""
    out, piece, i = [], "", 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in _ESCAPES:
            piece += _ESCAPES[text[i + 1]]
            i += 2
            continue
        if ch == "|":
            out.append(piece)
            piece = ""
        else:
            piece += ch
        i += 1
    out.append(piece)
    return tuple(p for p in out if p)


def format_stop(stop: tuple[str, ...]) -> str:
    """The inverse of `parse_stop`."""
    def one(s: str) -> str:
        return (s.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "\\n")
                .replace("\t", "\\t"))
    return "|".join(one(s) for s in stop)


class ExtraParams(Grid):
    DEFAULT_CSS = """
    ExtraParams {
        grid-size: 2;
        grid-columns: 13 1fr;
        grid-rows: 1;
        grid-gutter: 0 1;
        height: auto;
    }
    ExtraParams Label { padding: 0 0; color: $text-muted; }
    ExtraParams Input { border: none; height: 1; padding: 0 1; }
    ExtraParams Switch { border: none; height: 1; padding: 0; }
    """

    def compose(self) -> ComposeResult:
        yield Label("stop")
        yield Input("", id="stop", placeholder="none (a|b; \\n, \\|)",
                    tooltip="stop sequences, separated by |")
        yield Label("seed")
        yield Input("", id="request-seed", placeholder="none", type="integer",
                    validators=[Integer()], tooltip="the sampling seed sent with each request "
                                                    "(OpenAI, Gemini; Anthropic has none)")
        yield Label("top p")
        yield Input("", id="top-p", placeholder="provider default", type="number",
                    validators=[Number(minimum=0, maximum=1)])
        yield Label("JSON output")
        yield Switch(False, id="json-output",
                     tooltip="ask for a JSON answer where the API has a switch (OpenAI, Gemini)")

    def read(self) -> dict[str, Any]:
        """The ProbeParams fields these set, or ParamsError."""
        seed_text = self.query_one("#request-seed", Input).value.strip()
        top_text = self.query_one("#top-p", Input).value.strip()
        seed = top_p = None
        if seed_text:
            try:
                seed = inputs.whole_number(seed_text)
            except ValueError as exc:
                raise ParamsError(f"seed: {exc}") from None
        if top_text:
            try:
                top_p = inputs.number(top_text, 0, inputs.MAX_TOP_P)
            except ValueError as exc:
                raise ParamsError(f"top p: {exc}") from None
        return {"stop": parse_stop(self.query_one("#stop", Input).value),
                "request_seed": seed, "top_p": top_p,
                "json_output": self.query_one("#json-output", Switch).value}

    def load(self, params: ProbeParams) -> None:
        self.query_one("#stop", Input).value = format_stop(params.stop)
        self.query_one("#request-seed", Input).value = ("" if params.request_seed is None
                                                        else str(params.request_seed))
        self.query_one("#top-p", Input).value = "" if params.top_p is None else f"{params.top_p:g}"
        self.query_one("#json-output", Switch).value = params.json_output
