"""The target picker: typing PROVIDER/MODEL, and a filter that matches nothing."""

from __future__ import annotations

from textual.widgets import SelectionList

from infertui.tui.screens.picker import TargetPicker
from tests.tui.helpers import SIZE, make_app
from tests.tui.test_hostile_text import screen_lines


async def open_picker(pilot) -> TargetPicker:
    await pilot.press("ctrl+t")
    await pilot.pause()
    picker = pilot.app.screen
    assert isinstance(picker, TargetPicker)
    await pilot.click("#picker-clear")
    return picker


async def test_enter_adds_a_typed_provider_and_model(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_picker(pilot)
        await pilot.press(*"sim-alpha/not-listed-model", "enter")
        await pilot.pause()
        assert app.screen is app.compare
        assert [t.label for t in app.compare.targets] == ["sim-alpha/not-listed-model"]


async def test_enter_adds_a_listed_target_typed_in_full(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_picker(pilot)
        await pilot.press(*"sim-beta/demo-8b", "enter")
        await pilot.pause()
        assert [t.label for t in app.compare.targets] == ["sim-beta/demo-8b"]


async def test_enter_on_an_unknown_provider_says_so_and_stays(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_picker(pilot)
        await pilot.press(*"nowhere/model", "enter")
        await pilot.pause()
        assert isinstance(app.screen, TargetPicker)
        assert any("No provider named 'nowhere'" in n.message for n in app._notifications)


async def test_a_filter_without_a_match_says_so(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        picker = await open_picker(pilot)
        await pilot.press(*"zzz-nothing")
        await pilot.pause()
        listing = picker.query_one(SelectionList)
        assert listing.option_count == 1 and listing.get_option_at_index(0).disabled
        screen = "\n".join(screen_lines(app))
        assert "no provider, model or group matches 'zzz-nothing'" in screen
        assert "type PROVIDER/MODEL to add a model by hand" in screen


async def test_opening_the_picker_looks_for_local_servers_again(tmp_path):
    """A local server started after the app (or missed on a busy machine) is
    found when the picker opens."""
    import asyncio
    import socket

    from infertui.tui.app import create_app

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    config = tmp_path / "config.toml"
    config.write_text(f'[providers.mylocal]\napi = "openai"\nbase_url = "http://127.0.0.1:{port}/v1"\n')
    app = create_app(config, tmp_path / "results.db", detect_local_servers=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "mylocal" not in app.local_running
        server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", port)
        try:
            await pilot.press("ctrl+t")
            for _ in range(200):
                if "mylocal" in app.local_running:
                    break
                await asyncio.sleep(0.02)
                await pilot.pause()
            assert "mylocal" in app.local_running
        finally:
            server.close()
