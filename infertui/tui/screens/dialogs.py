"""Small modal dialogs: export the session to a file, name a saved prompt,
confirm a replacement."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select

from infertui.core.session import Session
from infertui.textsafe import display, one_line


def export_formats() -> tuple[str, ...]:
    from infertui.store.export import FORMATS

    return (*FORMATS, "html")  # html: the report (infertui/report), charts and tables


def write_export(session: Session, fmt: str, path: Path) -> Path:
    """Write one session in one of the store's export formats."""
    from infertui.store.export import render

    if fmt == "html":
        from infertui.report.build import session_report
        from infertui.report.html import render as html

        text = html(session_report(session.to_json()))
    else:
        text = render([session], fmt)
    path = path.expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


class ExportScreen(ModalScreen[tuple[str, Path] | None]):
    """Ask for a format and a file; returns (format, path)."""

    BINDINGS = [Binding("escape", "close", "Close", id="export_close")]

    def __init__(self, session: Session, directory: Path | None = None) -> None:
        super().__init__(classes="dialog")
        self.session = session
        self.directory = directory or Path.cwd()

    def compose(self) -> ComposeResult:
        formats = export_formats()
        with Vertical(classes="dialog-box"):
            yield Label(Text(f"Export session {one_line(self.session.session_id)}"), classes="dialog-title")
            yield Select([(f, f) for f in formats], value=formats[0], allow_blank=False,
                         id="export-format")
            yield Input(str(self._default_path(formats[0])), id="export-path")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Export", id="export-ok", variant="primary", compact=True)
                yield Button("Cancel", id="export-cancel", compact=True)

    def _default_path(self, fmt: str) -> Path:
        return self.directory / f"infertui-{self.session.session_id}.{fmt}"

    @on(Select.Changed, "#export-format")
    def _format_changed(self, event: Select.Changed) -> None:
        path_input = self.query_one("#export-path", Input)
        current = Path(path_input.value)
        if current.stem.startswith("infertui-"):
            path_input.value = str(current.with_suffix(f".{event.value}"))

    @on(Button.Pressed, "#export-ok")
    @on(Input.Submitted, "#export-path")
    def _ok(self) -> None:
        path = self.query_one("#export-path", Input).value.strip()
        if not path:
            self.notify("Give a file to write.", severity="warning")
            return
        self.dismiss((str(self.query_one("#export-format", Select).value), Path(path)))

    @on(Button.Pressed, "#export-cancel")
    def action_close(self) -> None:
        self.dismiss(None)


class NameScreen(ModalScreen[str | None]):
    """Ask for a name (a saved prompt's)."""

    BINDINGS = [Binding("escape", "close", "Close", id="name_close")]

    def __init__(self, title: str, placeholder: str = "name") -> None:
        super().__init__(classes="dialog")
        self.title_text = title
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label(self.title_text, classes="dialog-title")
            yield Input(placeholder=self.placeholder, id="name-input")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", id="name-ok", variant="primary", compact=True)
                yield Button("Cancel", id="name-cancel", compact=True)

    @on(Button.Pressed, "#name-ok")
    @on(Input.Submitted, "#name-input")
    def _ok(self) -> None:
        name = self.query_one("#name-input", Input).value.strip()
        if not name:
            self.notify("A name is needed.", severity="warning")
            return
        self.dismiss(name)

    @on(Button.Pressed, "#name-cancel")
    def action_close(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """Ask before something the user wrote is replaced: True to go on."""

    BINDINGS = [Binding("escape", "close", "Close", id="confirm_close")]

    def __init__(self, title: str, message: str, *, yes: str = "Yes", no: str = "No") -> None:
        super().__init__(classes="dialog")
        self.title_text, self.message = title, message
        self.yes, self.no = yes, no

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label(Text(one_line(self.title_text)), classes="dialog-title")
            yield Label(Text(display(self.message)), id="confirm-message")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.yes, id="confirm-yes", variant="warning", compact=True)
                yield Button(self.no, id="confirm-no", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    @on(Button.Pressed, "#confirm-yes")
    def _yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#confirm-no")
    def action_close(self) -> None:
        self.dismiss(False)
