"""Browser tests: the launch helper and fixture live in tests/helpers/browser.py
so tests elsewhere can use them too."""

from tests.helpers.browser import browser_context  # noqa: F401 - a fixture
