"""Compare the outputs of two probes: side by side or as a unified diff.

Texts are compared line by line with difflib; a long line is cut at sentence
ends first, so two paragraphs that differ in one sentence show that sentence,
not the whole paragraph. Within a changed pair of lines the differing words
are highlighted.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Sequence

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Header, Label, Select, Static

from infertui.core.result import ProbeResult, Status
from infertui.core.session import Session
from infertui.textsafe import display, one_line
from infertui.tui.widgets.footer import AppFooter

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")
_WORDS = re.compile(r"\s+|\w+|[^\w\s]")
LONG_LINE = 100

DELETE_STYLE = "on #5f1f1f"
INSERT_STYLE = "on #1f4f1f"
WORD_DELETE_STYLE = "bold on #8f2f2f"
WORD_INSERT_STYLE = "bold on #2f7f2f"


def split_units(text: str) -> list[str]:
    """Lines, with lines longer than LONG_LINE cut after each sentence. The
    text is a server's: every control character (line ends aside) is an
    escape from here on, so no line can move the cursor or clear the screen."""
    units: list[str] = []
    for line in display(text.replace("\r\n", "\n")).split("\n"):
        if len(line) > LONG_LINE:
            units.extend(_SENTENCE_END.split(line))
        else:
            units.append(line)
    return units


@dataclass(frozen=True)
class DiffRow:
    """One row of a side-by-side diff. `tag` is difflib's: equal, replace,
    delete (left only) or insert (right only). Line numbers count from 1."""

    tag: str
    left_no: int | None
    left: str | None
    right_no: int | None
    right: str | None


def diff_rows(left: str, right: str) -> list[DiffRow]:
    a, b = split_units(left), split_units(right)
    rows: list[DiffRow] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows.extend(DiffRow("equal", i + 1, a[i], j + 1, b[j])
                        for i, j in zip(range(i1, i2), range(j1, j2), strict=True))
            continue
        span = max(i2 - i1, j2 - j1)
        for k in range(span):
            i, j = i1 + k, j1 + k
            has_left, has_right = i < i2, j < j2
            row_tag = "replace" if has_left and has_right else ("delete" if has_left else "insert")
            rows.append(DiffRow(row_tag, i + 1 if has_left else None, a[i] if has_left else None,
                                j + 1 if has_right else None, b[j] if has_right else None))
    return rows


def changed_count(rows: Sequence[DiffRow]) -> int:
    return sum(1 for r in rows if r.tag != "equal")


def _word_marked(left: str, right: str) -> tuple[Text, Text]:
    """Both lines with the words that differ between them highlighted."""
    a, b = _WORDS.findall(left), _WORDS.findall(right)
    lt, rt = Text(style=DELETE_STYLE), Text(style=INSERT_STYLE)
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        lt.append("".join(a[i1:i2]), style=None if tag == "equal" else WORD_DELETE_STYLE)
        rt.append("".join(b[j1:j2]), style=None if tag == "equal" else WORD_INSERT_STYLE)
    return lt, rt


def render_side_by_side(rows: Sequence[DiffRow], left_title: str, right_title: str) -> Table:
    table = Table(expand=True, show_edge=False, box=None, pad_edge=False, header_style="bold")
    table.add_column("", justify="right", style="dim", width=4, no_wrap=True)
    table.add_column(Text(one_line(left_title)), ratio=1, overflow="fold")
    table.add_column("", justify="right", style="dim", width=4, no_wrap=True)
    table.add_column(Text(one_line(right_title)), ratio=1, overflow="fold")
    for row in rows:
        no_l = "" if row.left_no is None else str(row.left_no)
        no_r = "" if row.right_no is None else str(row.right_no)
        if row.tag == "equal":
            table.add_row(no_l, Text(row.left or ""), no_r, Text(row.right or ""))
        elif row.tag == "replace":
            lt, rt = _word_marked(row.left or "", row.right or "")
            table.add_row(no_l, lt, no_r, rt)
        elif row.tag == "delete":
            table.add_row(no_l, Text(row.left or "", style=DELETE_STYLE), no_r, Text(""))
        else:
            table.add_row(no_l, Text(""), no_r, Text(row.right or "", style=INSERT_STYLE))
    return table


def render_unified(left: str, right: str, left_title: str, right_title: str, context: int = 3) -> Text:
    out = Text()
    lines = difflib.unified_diff(split_units(left), split_units(right), fromfile=one_line(left_title),
                                 tofile=one_line(right_title), n=context, lineterm="")
    for line in lines:
        if line.startswith(("---", "+++")):
            style = "bold"
        elif line.startswith("@@"):
            style = "cyan"
        elif line.startswith("-"):
            style = "red"
        elif line.startswith("+"):
            style = "green"
        else:
            style = ""
        out.append(line + "\n", style=style)
    if not out:
        out.append("the two outputs are identical\n", style="dim")
    return out


class DiffView(Widget):
    """The diff of two texts; `unified` switches between the two layouts."""

    DEFAULT_CSS = """
    DiffView { height: auto; }
    DiffView > #diff-stats { color: $text-muted; margin: 0 0 1 0; }
    """

    def __init__(self, left_title: str = "", left: str = "", right_title: str = "", right: str = "",
                 *, unified: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.left_title, self.left = left_title, left
        self.right_title, self.right = right_title, right
        self.unified = unified
        self.rows: list[DiffRow] = []

    def compose(self) -> ComposeResult:
        yield Static(id="diff-stats")
        yield Static(id="diff-body")

    def on_mount(self) -> None:
        self._redraw()

    def set_texts(self, left_title: str, left: str, right_title: str, right: str) -> None:
        self.left_title, self.left, self.right_title, self.right = left_title, left, right_title, right
        self._redraw()

    def set_unified(self, unified: bool) -> None:
        self.unified = unified
        self._redraw()

    def _redraw(self) -> None:
        if not self.is_mounted:
            return
        rows = self.rows = diff_rows(self.left, self.right)
        changed = changed_count(rows)
        stats = self.query_one("#diff-stats", Static)
        body = self.query_one("#diff-body", Static)
        if changed == 0:
            stats.update(f"identical · {len(rows)} lines")
        else:
            stats.update(f"{changed} of {len(rows)} lines differ · "
                         + ("unified diff" if self.unified else "side by side"))
        if self.unified:
            body.update(render_unified(self.left, self.right, self.left_title, self.right_title))
        else:
            body.update(render_side_by_side(rows, self.left_title, self.right_title))


def probe_title(p: ProbeResult) -> str:
    kind = "warm-up " if p.warmup else ""
    state = "" if p.status is Status.OK else f" [{p.error.kind if p.error else p.status}]"
    return one_line(f"{p.target.label} {kind}#{p.seq}{state}")


def default_pair(probes: Sequence[ProbeResult]) -> tuple[int, int]:
    """The last probe of the first two targets (the panes as they ended), or
    the last two probes when the session has a single target."""
    if not probes:
        return 0, 0
    last: dict[str, int] = {}
    for i, p in enumerate(probes):
        last[p.target.label] = i
    picks = list(last.values())
    if len(picks) >= 2:
        return picks[0], picks[1]
    return max(0, len(probes) - 2), len(probes) - 1


class DiffScreen(Screen):
    """Choose two probes of a session and see how their outputs differ."""

    BINDINGS = [
        Binding("escape", "close", "Back", id="diff.close"),
        Binding("u", "toggle_unified", "Unified/side by side", id="diff.toggle_unified"),
        Binding("x", "swap", "Swap", id="diff.swap"),
    ]
    DEFAULT_CSS = """
    DiffScreen #diff-pickers { height: auto; padding: 0 1; }
    DiffScreen #diff-pickers Label { padding: 1 1 0 0; }
    DiffScreen #diff-pickers Select { width: 1fr; }
    DiffScreen #diff-scroll { padding: 0 1; }
    """

    def __init__(self, session: Session, left_probe_id: str | None = None,
                 right_probe_id: str | None = None) -> None:
        super().__init__()
        self.session = session
        self.probes = [p for p in session.probes if p.chunks or p.status is Status.OK]
        ids = [p.probe_id for p in self.probes]
        a, b = default_pair(self.probes)
        if left_probe_id in ids:
            a = ids.index(left_probe_id)
            if a == b:  # the other side: the last probe of another target
                b = next((i for i in range(len(ids) - 1, -1, -1)
                          if self.probes[i].target.label != self.probes[a].target.label), b)
        if right_probe_id in ids:
            b = ids.index(right_probe_id)
        self.left_index, self.right_index = a, b
        self.unified = False

    def compose(self) -> ComposeResult:
        yield Header()
        options = [(Text(probe_title(p)), i) for i, p in enumerate(self.probes)]
        with Horizontal(id="diff-pickers"):
            yield Label("A")
            yield Select(options, value=self.left_index if options else Select.BLANK,
                         allow_blank=not options, id="diff-left")
            yield Label("B")
            yield Select(options, value=self.right_index if options else Select.BLANK,
                         allow_blank=not options, id="diff-right")
        with VerticalScroll(id="diff-scroll"):
            yield DiffView(id="diff-view")
        yield AppFooter()

    def on_mount(self) -> None:
        self.title = f"diff · session {one_line(self.session.session_id[:12])}"
        self.sub_title = "two probes' outputs, line by line"
        self.query_one("#diff-scroll").focus()
        if not self.probes:
            self.query_one(DiffView).set_texts("", "", "", "")
            self.notify("no probe in this session returned any text", severity="warning")
            return
        self._show()

    def _show(self) -> None:
        if not self.probes:
            return
        a, b = self.probes[self.left_index], self.probes[self.right_index]
        view = self.query_one(DiffView)
        view.unified = self.unified
        view.set_texts(probe_title(a), a.text, probe_title(b), b.text)

    @on(Select.Changed, "#diff-left")
    def _left_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, int):
            self.left_index = event.value
            self._show()

    @on(Select.Changed, "#diff-right")
    def _right_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, int):
            self.right_index = event.value
            self._show()

    def action_toggle_unified(self) -> None:
        self.unified = not self.unified
        self.query_one(DiffView).set_unified(self.unified)

    def action_swap(self) -> None:
        if not self.probes:
            return
        self.left_index, self.right_index = self.right_index, self.left_index
        with self.prevent(Select.Changed):
            self.query_one("#diff-left", Select).value = self.left_index
            self.query_one("#diff-right", Select).value = self.right_index
        self._show()

    def action_close(self) -> None:
        self.app.pop_screen()
