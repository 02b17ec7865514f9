"""The app finds a running llama-server among its local providers: the
`llamacpp` preset pointed at the test server's port by the user's config, as
a user whose server is not on the default 8080 would do."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from infertui.core.models import detect_local, list_models, loopback_port
from infertui.store import paths
from infertui.store.config import load_config
from tests.e2e.servers import MODEL_NAME, Server

pytestmark = pytest.mark.e2e


def _config_for(server: Server):
    config_file = paths.config_file()
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(f'[providers.llamacpp]\nbase_url = "{server.base_url}"\n')
    return load_config()


async def test_detection_finds_llama_server_and_lists_its_model(llama_server: Server) -> None:
    config = _config_for(llama_server)
    local = [p for p in config.providers.values() if not p.simulated and loopback_port(p)]
    running = await detect_local(local)
    assert [p.name for p in running if p.name == "llamacpp"] == ["llamacpp"]
    async with httpx.AsyncClient() as client:
        listed = await list_models(client, config.providers["llamacpp"])
    assert listed.ok, listed.error
    assert MODEL_NAME in listed.models


async def test_the_app_finds_llama_server_at_every_start(llama_server: Server,
                                                          tmp_path: Path) -> None:
    """Detection runs while the app mounts its screen, its busiest moment; a
    running server must be found at every start, not most of them."""
    from infertui.tui.app import create_app

    config = _config_for(llama_server)
    for start in range(3):
        app = create_app(config, tmp_path / f"results-{start}.db")
        async with app.run_test(size=(160, 48)) as pilot:
            deadline = time.monotonic() + 20
            while not ("llamacpp" in app.local_running and "llamacpp" in app.model_lists):
                assert time.monotonic() < deadline, (
                    f"start {start}: local servers found {sorted(app.local_running)}")
                await pilot.pause(0.05)
            assert MODEL_NAME in app.model_lists["llamacpp"].models


async def test_detection_while_the_event_loop_is_busy(llama_server: Server) -> None:
    """What a busy start-up does to a 0.3 s check: the loop is held for half
    a second by synchronous work (as when the app composes its widgets) right
    after the check began. The server is running all along."""
    config = _config_for(llama_server)
    local = [config.providers["llamacpp"]]

    async def busy() -> None:
        await asyncio.sleep(0)
        end = time.monotonic() + 0.5
        while time.monotonic() < end:
            pass

    running, _ = await asyncio.gather(detect_local(local), busy())
    assert [p.name for p in running] == ["llamacpp"]
