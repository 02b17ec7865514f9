"""F1: every key the app answers to, and what each number means."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from infertui.core.result import ERROR_KIND_HELP
from infertui.textsafe import one_line

METRICS: tuple[tuple[str, str], ...] = (
    ("TTFT", "request sent → first visible content token. A role-only chunk, an empty delta, a "
             "usage-only chunk or an SSE comment is not a token."),
    ("TTFT-any", "request sent → first reasoning-or-content token."),
    ("TTFB", "request sent → response headers."),
    ("e2e", "request sent → last token (reasoning or content)."),
    ("tok/s", "decode speed: (streamed tokens − 1) / (last token − first token). Streamed tokens "
              "are the output tokens less reasoning the server counted but never sent; `~` marks "
              "a tokenizer-free estimate."),
    ("tok", "output tokens: the server's usage when it sent one, exactly max_tokens after a "
            "`length` finish, else `~estimate`."),
    ("stall", "the longest gap between two reads of the body that carried events."),
    ("sparkline", "gaps between consecutive chunks, as they arrived."),
    ("p50/p95", "percentiles over ok, non-warm-up probes (linear interpolation); errors are "
                "counted apart, by kind."),
    ("request sent", "the moment the request's last bytes were handed to the kernel (stamped by "
                     "infertui's own network code); arrivals are stamped by a receiver process as "
                     "the bytes come. Time waiting for infertui's own concurrency slot or a "
                     "connection is not in any latency."),
    ("live values", "while a probe streams, TTFT is the core's own offset of the first content "
                    "chunk; tok and tok/s are estimates marked `~`; the final numbers replace "
                    "them when the probe ends."),
    ("1st token / 1st finish", "with one probe per target: the pane whose probe had the lowest TTFT / "
                               "e2e, as its header shows."),
    ("best TTFT p50 / e2e p50", "with several probes per target (repeat > 1): the target with the lowest "
                                "TTFT p50 / e2e p50 over the run, the summary's numbers. The header shows "
                                "the pane's latest probe, which may be slower."),
    ("⚠ lag", "a probe stamped on infertui's own event loop (the built-in simulator) while that loop "
              "was late by over 10 ms (too many streams for this machine): its numbers may include "
              "infertui's delay. Real sockets are stamped by the receiver process and never flagged. "
              "In the summary: how many of "
              "a target's ok probes were. `i` says why for the focused pane or summary row."),
    ("~", "an estimate: the server sent no token count, so tokens (and tok/s) are infertui's own "
          "count, one per word or punctuation mark."),
)

def keys_note(app) -> str:
    """Which keys reach the app from inside a text field, as the keymap has them."""
    key = getattr(app, "key_text", lambda _id, default: default)
    everywhere = ", ".join(key(i, k) for i, k in (("run", "ctrl+r"), ("picker", "ctrl+t"),
                                                  ("export", "ctrl+s")))
    return (f"In text fields the field's own keys come first; {everywhere} and {key('quit', 'ctrl+q')} "
            "work everywhere. ctrl+p opens the command palette.")


def bindings_table(app) -> Table:
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False, expand=True)
    table.add_column("key", no_wrap=True, style="bold cyan")
    table.add_column("does")
    table.add_column("id", style="dim", no_wrap=True)
    seen: set[tuple[str, str]] = set()
    rows = []
    for binding in app.help_bindings():
        if not binding.id and binding.action != "command_palette":
            continue  # a focused widget's own keys: the footer shows those
        key = binding.key
        if (key, binding.action) in seen:
            continue
        seen.add((key, binding.action))
        rows.append((key, binding.description or binding.action, binding.id or ""))
    for key, description, binding_id in rows:  # a keymap is the user's text: never markup
        table.add_row(Text(one_line(key)), Text(one_line(description)), Text(one_line(binding_id)))
    return table


def metrics_table() -> Table:
    table = Table(box=None, show_header=False, pad_edge=False, expand=True)
    table.add_column("name", no_wrap=True, style="bold")
    table.add_column("meaning")
    for name, meaning in METRICS:
        table.add_row(name, meaning)
    return table


def errors_table() -> Table:
    table = Table(box=None, show_header=False, pad_edge=False, expand=True)
    table.add_column("kind", no_wrap=True, style="bold red")
    table.add_column("meaning")
    for kind, meaning in ERROR_KIND_HELP.items():
        table.add_row(str(kind), meaning)
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,f1,q", "close", "Close", id="help_close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(Text("infertui: the same model on different providers", style="bold"),
                         classes="help-title")
            yield Static(Text("Keys", style="bold underline"))
            yield Static(bindings_table(self.app), id="help-keys")
            yield Static(Text(keys_note(self.app), style="dim"))
            yield Static(Text("\nWhat the numbers mean", style="bold underline"))
            yield Static(metrics_table(), id="help-metrics")
            yield Static(Text("\nError kinds", style="bold underline"))
            yield Static(errors_table(), id="help-errors")
            yield Static(Text("\nescape closes", style="dim"))

    def action_close(self) -> None:
        self.dismiss(None)
