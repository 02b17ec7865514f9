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
