"""Headless Chromium for tests that need a real browser, driven by Playwright.

The browser is Debian's `chromium` package (/usr/bin/chromium; `.ci/run`
installs it), never Playwright's own download, which cannot be reached here.
Outside CI a missing browser skips the test with the reason; in CI
(INFERTUI_CI=1, set by `.ci/run`) it is a failure.

Use the `browser_context` fixture (a fresh profile per test), or
`launch_chromium(profile_dir)` directly:

    def test_page(browser_context):
        page = browser_context.new_page()
        page.goto(url)
"""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pytest

CHROMIUM = os.environ.get("INFERTUI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)
IN_CI = os.environ.get("INFERTUI_CI") == "1"


def browser_missing() -> str | None:
    """Why no browser test can run here, or None."""
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)) and not shutil.which(CHROMIUM):
        return f"no Chromium at {CHROMIUM} (as root: apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401 - only whether it imports
    except ImportError:
        return "Playwright is not installed (pip install -e '.[test]')"
    return None


def require_browser() -> None:
    """Skip the calling test when there is no browser, except in CI, where
    the browser tests must run."""
    missing = browser_missing()
    if missing is None:
        return
    if IN_CI:
        pytest.fail(f"browser tests must run in CI: {missing}")
    pytest.skip(missing)


@contextmanager
def launch_chromium(profile_dir: Path, **options: Any) -> Iterator[Any]:
    """A Playwright BrowserContext on headless Chromium with a fresh profile
    in `profile_dir`; closed, and the driver stopped, on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile_dir), executable_path=CHROMIUM, headless=True,
            args=list(CHROMIUM_ARGS), **options)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A fresh headless Chromium context (skipped without a browser outside CI)."""
    require_browser()
    with launch_chromium(tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context
