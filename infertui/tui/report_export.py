"""ctrl+s on the campaign screen: the campaign's HTML report, written by a
thread worker from the stored campaign (the same `build` as `campaign show`
and `infertui report`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from infertui.textsafe import one_line


class ReportPathScreen(ModalScreen[Path | None]):
    """Ask where to write a report; returns the path."""

    BINDINGS = [Binding("escape", "close", "Close", id="report_close")]

    def __init__(self, title: str, default: Path) -> None:
        super().__init__(classes="dialog")
        self.title_text = title
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            yield Input(str(self.default), id="report-path")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Write", id="report-ok", variant="primary", compact=True)
                yield Button("Cancel", id="report-cancel", compact=True)

    @on(Button.Pressed, "#report-ok")
    @on(Input.Submitted, "#report-path")
    def _ok(self) -> None:
        path = self.query_one("#report-path", Input).value.strip()
        if not path:
            self.notify("Give a file to write.", severity="warning")
            return
        self.dismiss(Path(path))

    @on(Button.Pressed, "#report-cancel")
    def action_close(self) -> None:
        self.dismiss(None)


def campaign_html(store: Any, campaign_id: str) -> str:
    """The report of a stored campaign, as `infertui report` writes it."""
    from infertui.core.campaign.document import build
    from infertui.core.campaign.record import from_sessions
    from infertui.report.build import campaign_report
    from infertui.report.charts import campaign_samples
    from infertui.report.html import render
    from infertui.store.campaigns import Campaigns

    campaigns = Campaigns(store)
    row = campaigns.row(campaign_id)
    record = from_sessions(campaigns.load_sessions(campaign_id), status=row.status,
                           finished_at=row.finished_at)
    peers = [from_sessions(campaigns.load_sessions(p.campaign_id), status=p.status)
             for p in campaigns.vantage_peers(row.name) if p.vantage != row.vantage and p.sessions]
    return render(campaign_report(build(record, peers), campaign_samples(record)))


def ask_and_write(screen: Any, campaign_id: str, access: Any) -> None:
    default = Path.cwd() / f"infertui-{campaign_id}.html"

    def chosen(path: Path | None) -> None:
        if path is not None:
            screen.run_worker(lambda: _write(screen, campaign_id, access, path), thread=True,
                              group="campaign-report", exit_on_error=False)

    screen.app.push_screen(ReportPathScreen(f"HTML report of campaign {one_line(campaign_id)}",
                                            default), chosen)


def _write(screen: Any, campaign_id: str, access: Any, path: Path) -> None:
    try:
        text = access.call(lambda store: campaign_html(store, campaign_id), None)
        if text is None:
            raise ValueError("the campaign is not in the results store")
        path = path.expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except Exception as exc:  # noqa: BLE001 - shown, never raised in the app
        screen.app.call_from_thread(screen.notify, f"{path}: {exc}", title="Report not written",
                                    severity="error")
        return
    screen.app.call_from_thread(screen.notify, f"Wrote {path}", title="Report")
