"""The app never shows or saves the key: a run against a loopback server that
echoes the key in every string it controls (headers, ids, model, the answer
split across chunks, an error body), then the race, History and the past
session are drawn as F12 SVG screenshots, and no form of the key is in any of
them, nor in the database files."""

from __future__ import annotations

import base64
import json

import pytest

from infertui.tui.app import create_app
from infertui.tui.screens.history import HistoryScreen
from tests.hostile_server import KEY, HostileServer
from tests.tui.helpers import wait_run


@pytest.fixture(scope="module")
def server():
    srv = HostileServer().start()
    yield srv
    srv.stop()


def forms(key: str) -> list[str]:
    raw = key.encode()
    return [key, key[3:], json.dumps(key)[1:-1], base64.b64encode(raw).decode()[:-4]]


async def test_no_form_of_the_key_in_screenshots_or_the_store(server, tmp_path, monkeypatch):
    monkeypatch.setenv("HOSTILE_KEY", KEY)
    config = tmp_path / "config.toml"
    config.write_text("\n".join(
        f'[providers.{name}]\napi = "openai"\nbase_url = "{server.url(scenario)}"\n'
        'api_key_env = "HOSTILE_KEY"\n'
        for name, scenario in (("echo", "echo_key"), ("echoerr", "echo_key_error"))))
    app = create_app(config, tmp_path / "results.db", detect_local_servers=False)
    shots: list[str] = []
    async with app.run_test(size=(160, 48)) as pilot:
        app.compare.set_targets(app.config.resolve_targets(["echo/m", "echoerr/m"]))
        await pilot.pause()
        await pilot.press("ctrl+r")
        await wait_run(pilot)
        await pilot.pause()
        shots.append(app.export_screenshot())
        assert "***" in shots[-1]  # the echoed key is there, masked
        await pilot.press("f2")
        for _ in range(200):
            if isinstance(app.screen, HistoryScreen) and app.screen.rows:
                break
            await pilot.pause(0.02)
        shots.append(app.export_screenshot())
        await pilot.press("enter")
        for _ in range(200):
            if type(app.screen).__name__ == "SessionScreen":
                break
            await pilot.pause(0.02)
        await pilot.pause()
        shots.append(app.export_screenshot())
    assert len(shots) == 3
    files, blobs = [], []
    for path in sorted(tmp_path.glob("results.db*")):
        try:  # the WAL and its index go when the last connection closes
            blobs.append(path.read_bytes().decode("latin-1"))
        except FileNotFoundError:
            continue
        files.append(path)
    assert any(p.name == "results.db" for p in files)
    for form in forms(KEY):
        for shot in shots:
            assert form not in shot, f"{form!r} in a screenshot"
        for path, blob in zip(files, blobs, strict=True):
            assert form not in blob, f"{form!r} in {path.name}"
