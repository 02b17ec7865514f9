"""The HTML report in a real browser (headless Chromium): it opens offline
from a file, with no console error and no request besides the file itself,
its four charts are drawn, and hostile strings stay text (no dialog, no
request, no script)."""

from __future__ import annotations

from pathlib import Path

import pytest

from infertui.cli import main
from infertui.store.repository import Store
from tests.cli.test_report import HOSTILE, hostile_session
from tests.helpers.report_sample import SAMPLE_TARGETS, sample_campaign

CHARTS = ("ttft-distribution", "ttft-over-rounds", "decode-speed", "errors-over-time")


def open_report(context, path: Path):
    page = context.new_page()
    seen = {"console": [], "errors": [], "requests": [], "dialogs": []}
    page.on("console", lambda m: seen["console"].append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
    page.goto(path.resolve().as_uri(), wait_until="load")
    return page, seen


@pytest.fixture
def campaign_report(tmp_path) -> Path:
    """Made before the browser starts: Playwright's sync API keeps an event
    loop running in this thread, and the campaign needs its own."""
    db = tmp_path / "r.db"
    sample_campaign(db)
    report = tmp_path / "report.html"
    assert main(["--db", str(db), "report", "--campaign", "last", "-o", str(report)]) == 0
    return report


def test_the_campaign_report_loads_offline_with_its_charts(campaign_report, browser_context,
                                                          tmp_path, capsys):
    report = campaign_report
    page, seen = open_report(browser_context, report)
    assert seen["console"] == [] and seen["errors"] == []
    assert seen["requests"] == [report.resolve().as_uri()]
    assert page.locator("svg.chart").count() == len(CHARTS)
    for chart in CHARTS:
        box = page.locator(f"#chart-{chart}").bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 50, chart
    targets = len(SAMPLE_TARGETS)
    assert page.locator("#chart-ttft-distribution rect.box").count() == targets
    assert page.locator("#chart-decode-speed rect.box").count() == targets
    assert page.locator("#chart-ttft-over-rounds polyline.series").count() == 2 * targets
    assert page.locator("#chart-errors-over-time rect.bar").count() >= 1  # the flaky target
    assert page.locator("#table-compliance tbody tr").count() == targets
    assert page.locator("#table-agreement tbody tr").count() == targets
    assert "fail" in page.inner_text("#table-compliance") or "pass" in page.inner_text(
        "#table-compliance")
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000


def test_hostile_strings_stay_text_in_the_browser(browser_context, tmp_path, capsys):
    db = tmp_path / "h.db"
    with Store.open(db) as store:
        store.import_document(hostile_session().to_json())
    report = tmp_path / "hostile.html"
    assert main(["--db", str(db), "report", "last", "-o", str(report)]) == 0
    page, seen = open_report(browser_context, report)
    assert seen["dialogs"] == [] and seen["errors"] == [] and seen["console"] == []
    assert seen["requests"] == [report.resolve().as_uri()]
    assert page.locator("script, img, iframe, object, embed").count() == 0
    body = page.inner_text("body")
    assert "<script>alert(1)</script>" in body and "onerror=alert(2)" in body
    assert HOSTILE[:20] in body
