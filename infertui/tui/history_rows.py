"""How the history screen draws its sessions: the table's columns fitted to
the width it gets, each row's cells, and the highlighted session's detail.

Pure functions (data and a width in, Rich text out). Every string from the
store is data (prompts, labels, hosts, notes, ids: an import can bring any
text): it reaches the screen through `fmt.cell`, never as markup.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from rich.text import Text

from infertui.store.rows import SessionRow
from infertui.textsafe import one_line
from infertui.tui import fmt
from infertui.units import compact_ms

# Each column's title, and its width when fixed. The columns that say what
# went wrong (probes cancelled or unfinished, errors) and the TTFT are never
# dropped; prompt and targets share what is left, targets going first.
STARTED, PROMPT, TARGETS, PROBES, TTFT, ERRORS = (
    "started (UTC)", "prompt", "targets", "probes", "TTFT p50", "err")
SHORT_STARTED = "UTC"  # the start column's title when dates lose their year
TTFT_MAX_W = 24  # wider: the fastest and slowest target instead of every one
PROMPT_MIN_W, TARGETS_MIN_W = 12, 12
CELL_PADDING = 2  # a DataTable cell's padding, one each side
SCROLLBAR_W = 2


def ttft_text(row: SessionRow) -> str:
    """Every target's TTFT p50 in session order; when that is too wide, the
    fastest and the slowest (the detail below lists each)."""
    values = [t.ttft_p50_ms for t in row.targets]
    every = " / ".join(compact_ms(v) for v in values)
    measured = [v for v in values if v is not None]
    if len(every) <= TTFT_MAX_W or len(measured) < 2:
        return every
    return f"{compact_ms(min(measured))}–{compact_ms(max(measured))}"


def compact_targets(row: SessionRow) -> str:
    """Targets grouped by model: `demo-70b: sim-alpha, sim-beta`."""
    by_model: dict[str, list[str]] = {}
    for t in row.targets:
        by_model.setdefault(t.model, []).append(t.provider)
    return "; ".join(f"{model}: {', '.join(providers)}" for model, providers in by_model.items())


def summary_line(text: str, width: int) -> str:
    """A prompt or a note on one line: whitespace runs as one space, controls
    as escapes, cut to `width`."""
    return one_line(" ".join(text.split()), width)


@dataclass(frozen=True)
class Layout:
    """The table's columns at one width: (title, width) in order, and the
    form of the start time."""

    columns: tuple[tuple[str, int], ...]
    short_dates: bool

    def width_of(self, title: str) -> int | None:
        return dict(self.columns).get(title)


def fit_columns(rows: list[SessionRow], width: int) -> Layout:
    """The columns for `width` cells: full dates while there is room, the
    prompt and targets sharing what is left (targets dropped first, the
    prompt never below PROMPT_MIN_W)."""
    ttft_w = max([len(ttft_text(r)) for r in rows] + [len(TTFT)])
    probes_w = max([len(probes_text(r)) for r in rows] + [len(PROBES)])
    err_w = max([len(str(sum(t.errors for t in r.targets))) for r in rows] + [len(ERRORS)])
    targets_w = max([len(compact_targets(r)) for r in rows] + [len(TARGETS)])
    prompt_w = max([len(" ".join(r.prompt.split())) + len(campaign_head(r)) for r in rows] + [len(PROMPT)])
    for short_dates in (False, True):
        started = (SHORT_STARTED, 11) if short_dates else (STARTED, 16)
        fixed = [started, (PROBES, probes_w), (TTFT, ttft_w), (ERRORS, err_w)]
        room = width - SCROLLBAR_W - sum(w + CELL_PADDING for _, w in fixed) - 2 * CELL_PADDING
        if room >= PROMPT_MIN_W + TARGETS_MIN_W or short_dates:
            break
    if room >= PROMPT_MIN_W + TARGETS_MIN_W:
        half = min(targets_w, max(TARGETS_MIN_W, room // 2))
        shown_prompt = min(prompt_w, max(PROMPT_MIN_W, room - half))
        middle = [(PROMPT, shown_prompt), (TARGETS, min(targets_w, room - shown_prompt))]
    else:  # no room for both: the prompt says which session it is
        middle = [(PROMPT, max(PROMPT_MIN_W, room + CELL_PADDING))]
    columns = (fixed[0], *middle, *fixed[1:])
    return Layout(tuple(columns), short_dates)


def started_cell(started_at: str, short: bool = False) -> str:
    """`2025-03-04 10:00`, or `03-04 10:00` where room is short."""
    text = one_line(started_at[:16].replace("T", " "))
    return text[5:] if short else text


def probes_text(row: SessionRow) -> str:
    """`6`, `4 cancelled`, `2 unfinished`."""
    if row.cancelled:
        return f"{row.probe_count} cancelled"
    if row.finished_at is None:
        return f"{row.probe_count} unfinished"
    return str(row.probe_count)


def campaign_head(row: SessionRow) -> str:
    """`◆ nightly r2 c5 · ` for a campaign's round, else nothing."""
    label = row.campaign_label
    return "" if label is None else one_line(f"◆ {label} · ")


def prompt_cell(row: SessionRow, width: int) -> Text:
    """The prompt, after the campaign cell when the session is a campaign's
    round (`◆ nightly r2 c5 · prompt…`)."""
    head = campaign_head(row)
    if not head:
        return Text(summary_line(row.prompt, width))
    if len(head) > max(4, width - 4):  # a few characters of the prompt stay in view
        head = one_line(head, max(4, width - 4))
    cell = Text(head, style="cyan")
    cell.append(summary_line(row.prompt, max(1, width - len(head))))
    return cell


def row_cells(row: SessionRow, layout: Layout) -> list[Text]:
    state = row.cancelled or row.finished_at is None
    errors = sum(t.errors for t in row.targets)
    started = Text(started_cell(row.started_at, layout.short_dates))
    cells: dict[str, Text] = {
        STARTED: started,
        SHORT_STARTED: started,
        PROMPT: prompt_cell(row, layout.width_of(PROMPT) or 20),
        TARGETS: fmt.cell(compact_targets(row), layout.width_of(TARGETS) or 20),
        PROBES: Text(probes_text(row), justify="right", style="yellow" if state else ""),
        TTFT: Text(ttft_text(row), justify="right"),
        ERRORS: Text(str(errors), justify="right", style="bold red" if errors else "dim"),
    }
    return [cells[title] for title, _ in layout.columns]


def detail_table(row: SessionRow) -> Table:
    """The per-target summary the store keeps for one session."""
    table = Table(box=None, pad_edge=False, expand=False, header_style="bold", show_edge=False)
    for name in ("target", "ok/n", "err", "TTFT p50", "TTFT p95", "e2e p50", "tok/s p50"):
        table.add_column(name, justify="left" if name == "target" else "right", no_wrap=True)
    for t in row.targets:
        table.add_row(fmt.cell(t.label, 60), Text(f"{t.ok}/{t.n}"),
                      Text(str(t.errors), style="red" if t.errors else ""),
                      Text(fmt.ms(t.ttft_p50_ms)), Text(fmt.ms(t.ttft_p95_ms)), Text(fmt.ms(t.e2e_p50_ms)),
                      Text(fmt.num(t.decode_tps_p50)))
    return table


def detail_text(row: SessionRow) -> Table:
    outer = Table.grid(padding=(0, 0))
    outer.add_column()
    head = Text()
    head.append(one_line(row.session_id, 40), style="bold")
    head.append("  ", style=fmt.GAP)  # spaces between styles: see fmt.GAP
    head.append(one_line(row.started_at, 40), style="dim")
    if row.host:
        head.append(f"  on {one_line(row.host, 60)}", style="dim")
    if row.imported:
        head.append("  ", style=fmt.GAP)
        head.append("imported", style="italic")
    outer.add_row(head)
    if row.campaign_id is not None:
        outer.add_row(Text.assemble(("campaign", "dim"), (" ", fmt.GAP),
                                    (one_line(row.campaign_label or "", 80), "cyan"), (" ", fmt.GAP),
                                    (one_line(row.campaign_id, 40), "dim"), (" ", fmt.GAP),
                                    ("c opens it", "dim")))
    outer.add_row(Text.assemble(("prompt", "dim"), (" ", fmt.GAP), summary_line(row.prompt, 160)))
    if row.notes:
        outer.add_row(Text.assemble(("notes", "dim"), (" ", fmt.GAP), summary_line(row.notes, 160)))
    outer.add_row(detail_table(row))
    return outer
