"""`infertui show SESSION`: a stored session as a person reads it.

Its parameters, the per-target summary, one row per probe (in the tables'
order: targets as the session lists them, warm-ups first, then by repeat
index) and with --outputs every probe's text exactly as received, with
control characters shown as visible escapes (nothing else is changed: no
markup, no emoji codes, no wrapping).
"""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from infertui.cli.render import (
    SATURATED,
    data_console,
    estimated,
    fmt_ms,
    fmt_num,
    footnotes,
    summary_table,
)
from infertui.core import metrics
from infertui.core.session import Session
from infertui.store.export import ordered_probes
from infertui.tables.fit import Column, cell, fit_table
from infertui.textsafe import display, one_line

PROBE_COLUMNS = [
    Column("target", "left", wrap=True, min_width=18), Column("seq"),
    Column("status", "left"), Column("TTFT", priority=1), Column("e2e", priority=3),
    Column("tok/s", priority=2), Column("tokens", priority=4), Column("chunks", priority=5),
    Column("finish / error", "left", wrap=True, min_width=16),
]


def on_off(value: bool | None) -> str:
    return "provider default" if value is None else ("on" if value else "off")


def header_lines(session: Session) -> list[Text]:
    p, st = session.params, session.settings
    first = Text.assemble(("session ", "bold"), (one_line(session.session_id), "bold"),
                          f"  started {one_line(session.started_at)}",
                          f"  finished {one_line(session.finished_at or '—')}")
    if session.host:
        first.append(f"  host {one_line(session.host)}")
    temperature = "provider default" if p.temperature is None else f"{p.temperature:g}"
    lines = [first, Text(
        f"max_tokens {p.max_tokens}  temperature {temperature}  reasoning {on_off(p.reasoning)}"
        f"  repeat {st.repeat}  concurrency {st.concurrency}  warm-up {st.warmup}"
        f"  nonce {'yes' if st.nonce else 'no'}")]
    extra = [f"stop {' | '.join(repr(x) for x in p.stop)}" if p.stop else "",
             f"seed {p.request_seed}" if p.request_seed is not None else "",
             f"top_p {p.top_p:g}" if p.top_p is not None else "",
             "JSON output" if p.json_output else ""]
    if any(extra):
        lines.append(Text(one_line("  ".join(e for e in extra if e))))
    if p.system:
        lines.append(Text("system: " + display(p.system)))
    lines.append(Text("prompt: " + display(p.prompt)))
    if session.notes:
        lines.append(Text("notes: " + display(session.notes)))
    return lines


def probes_table(session: Session, width: int | None):
    rows = []
    for r in ordered_probes(session):
        count, source = metrics.output_tokens(r)
        guess = source == "estimate"
        outcome = Text(one_line(r.finish_reason or ""))
        if r.error is not None:
            outcome = Text(one_line(f"{r.error.kind}: {r.error.message}", 120), style="red")
        status = cell(r.status)
        if r.client_saturated:
            status.append(f" {SATURATED}", style="yellow")
        rows.append([
            cell(r.target.label), cell(f"{r.seq}{' w' if r.warmup else ''}"), status,
            cell(fmt_ms(metrics.ttft_ms(r))), cell(fmt_ms(metrics.e2e_ms(r))),
            estimated(fmt_num(metrics.decode_tps(r)), guess),
            estimated("—" if count is None else str(count), guess),
            cell(len(r.chunks)), outcome,
        ])
    return fit_table(PROBE_COLUMNS, rows, width, title=Text("probes"))


def print_outputs(session: Session, console: Console) -> None:
    """Each probe's reasoning and text, written as received (controls as
    escapes), not through Rich: it would wrap, and read `:smile:` as an emoji."""
    out = console.file
    for r in ordered_probes(session):
        console.rule(Text(one_line(f"{r.target.label} #{r.seq}"
                                   + (" (warm-up)" if r.warmup else ""))))
        if r.reasoning_text:
            console.print(Text("reasoning:", style="dim"))
            out.write(display(r.reasoning_text) + "\n")
            console.print(Text("answer:", style="dim"))
        out.write(display(r.text) + "\n")
        out.flush()


def print_session(session: Session, outputs: bool = False, console: Console | None = None) -> None:
    console = console or data_console()
    for line in header_lines(session):
        console.print(line)
    console.print(summary_table(session.summary(), title="summary (ok, non-warm-up probes)",
                                probes=session.probes, width=console.width))
    console.print(probes_table(session, console.width))
    notes = footnotes(session.probes, any(t.provider.simulated for t in session.targets))
    for note in notes:
        console.print(note)
    if outputs:
        print_outputs(session, console)
