"""The compare screen's form and commands, as a user drives them: the command
palette, fields that show their value while focused, visible focus on every
Tab stop, removing targets, saved prompts, a remapped keymap, the summary
after new targets."""

from __future__ import annotations

import tomllib

from textual.widgets import Input, Select

from infertui.store.config import builtin_config
from infertui.store.config_model import SavedPrompt
from infertui.tui.app import InfertuiApp
from infertui.tui.screens.dialogs import ConfirmScreen, NameScreen
from infertui.tui.screens.help import HelpScreen
from infertui.tui.widgets.summary import SummaryTable
from tests.tui.helpers import FAST, SIZE, make_app, shown, targets_of, wait_run
from tests.tui.test_hostile_text import screen_lines


def screen_cells(app) -> list[list[tuple[str, object]]]:
    """The composed screen with its styles: what changes when only a colour does."""
    return [[(segment.text, segment.style) for segment in strip]
            for strip in app.screen._compositor.render_strips()]


def row_of(app, label: str) -> str:
    """The screen line where a form label is written."""
    return next(line for line in screen_lines(app) if line.lstrip().startswith(label))


# -- the command palette ------------------------------------------------------------------

async def palette_titles(pilot, query: str) -> list[str]:
    from textual.command import CommandList

    await pilot.press("ctrl+p")
    await pilot.pause()
    await pilot.press(*query)
    palette = pilot.app.screen
    titles: list[str] = []
    for _ in range(100):
        await pilot.pause(0.02)
        commands = palette.query_one(CommandList)
        titles = [str(commands.get_option_at_index(i).prompt) for i in range(commands.option_count)]
        if titles:
            break
    return titles


async def test_palette_offers_the_compare_commands(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for query, expected in [("run: start", "run: start the comparison"), ("cancel: stop", "cancel: stop the run"),
                                ("targets: pick", "targets: pick providers and models"),
                                ("export: save", "export: save the session to a file"),
                                ("copy: summ", "copy: summary table"), ("layout: toggle", "layout: toggle the sidebar"),
                                ("prompt: save", "prompt: save as…")]:
            titles = await palette_titles(pilot, query)
            assert any(expected in t for t in titles), (query, titles)
            await pilot.press("escape")
            await pilot.pause()


async def test_a_prompt_saved_from_the_palette_goes_to_state_toml(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        compare = app.compare
        compare.set_prompt("Write a haiku about tail latency.", "Be terse.")
        await palette_titles(pilot, "prompt: save")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, NameScreen)
        await pilot.press(*"haiku", "enter")
        await pilot.pause()
        saved = app.config.prompts["haiku"]
        assert (saved.text, saved.system) == ("Write a haiku about tail latency.", "Be terse.")
        state = tomllib.loads(app.config.state_path.read_text(encoding="utf-8"))
        assert state["prompts"]["haiku"] == {"text": "Write a haiku about tail latency.", "system": "Be terse."}
        select = compare.query_one("#saved-prompt", Select)
        assert not select.disabled and [v for _, v in select._options if isinstance(v, str)] == ["haiku"]


# -- fields and focus ------------------------------------------------------------------------

async def test_a_focused_field_keeps_showing_its_value(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        compare = app.compare
        compare.query_one("#temperature", Input).value = "0.7"
        compare.query_one("#warmup", Input).value = "2"
        await pilot.pause()
        for field, label, value in [("#max-tokens", "max tokens", "256"), ("#temperature", "temperature", "0.7"),
                                    ("#reasoning", "reasoning", "default"), ("#repeat", "repeat", "1"),
                                    ("#concurrency", "concurrency", "1"), ("#warmup", "warm-up", "2")]:
            compare.query_one(field).focus()
            await pilot.pause()
            line = row_of(app, label)
            assert value in line and "▔" not in line and "▁" not in line, (field, line)
        compare.query_one("#nonce").focus()
        await pilot.pause()
        assert "▔" not in row_of(app, "nonce") and "▁" not in row_of(app, "nonce")


async def test_an_empty_temperature_is_the_default_not_an_error(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        field = app.compare.query_one("#temperature", Input)
        field.focus()
        await pilot.press(*"0.5")
        for _ in range(3):
            await pilot.press("backspace")
        await pilot.pause()
        assert field.value == "" and not field.has_class("-invalid")
        assert "provider default" in row_of(app, "temperature")


async def test_every_tab_stop_shows_that_it_has_the_focus(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for widget in app.screen.focus_chain:
            app.set_focus(None)
            await pilot.pause()
            before = screen_cells(app)
            widget.focus()
            await pilot.pause()
            assert screen_cells(app) != before, f"focus on {widget!r} shows nothing"


# -- targets ----------------------------------------------------------------------------------

async def test_delete_removes_targets_one_after_another(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        compare = app.compare
        listing = compare.query_one("#targets")
        listing.focus()
        await pilot.press("down")
        await pilot.press("delete")
        await pilot.pause()
        assert [t.label for t in compare.targets] == ["sim-beta/demo-70b", "sim-gamma/demo-70b"]
        assert app.focused is listing and listing.highlighted == 0
        await pilot.press("delete")
        await pilot.pause()
        assert [t.label for t in compare.targets] == ["sim-gamma/demo-70b"]
        assert app.focused is listing
        assert list(compare.panes) == ["sim-gamma/demo-70b"]


async def test_new_targets_clear_the_last_runs_summary(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        compare = app.compare
        compare.set_targets(targets_of(app, "sim-alpha/fast", "sim-beta/fast"))
        await pilot.press("ctrl+r")
        await wait_run(pilot)
        summary = compare.query_one(SummaryTable)
        assert summary.row_count == 2 and summary.display
        await pilot.press("ctrl+t")
        await pilot.pause()
        await pilot.click("#picker-clear")
        await pilot.press(*"sim-gamma/fast", "enter")
        await pilot.pause()
        assert [t.label for t in compare.targets] == ["sim-gamma/fast"]
        assert summary.row_count == 0 and not summary.display
        assert "sim-alpha/fast" not in "\n".join(screen_lines(app))


# -- saved prompts ------------------------------------------------------------------------------

PROMPTS_CONFIG = """
[prompts.haiku]
text = "Write a haiku about tail latency."
system = "Be terse."
"""


async def choose_saved(pilot, name: str) -> None:
    pilot.app.compare.query_one("#saved-prompt", Select).value = name
    await pilot.pause()
    await pilot.pause()


async def test_a_saved_prompt_asks_before_replacing_what_was_written(tmp_path):
    app = make_app(tmp_path, PROMPTS_CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        compare = app.compare
        prompt = compare.query_one("#prompt")
        prompt.focus()
        await pilot.press("end", *" Mine.")
        compare.query_one("#system", Input).value = "My system."
        written = prompt.text
        await choose_saved(pilot, "haiku")
        assert isinstance(app.screen, ConfirmScreen)
        assert "the prompt you wrote and the system prompt" in shown(app.screen.query_one("#confirm-message"))
        await pilot.click("#confirm-no")
        await pilot.pause()
        assert prompt.text == written and compare.system_text == "My system."
        assert compare.query_one("#saved-prompt", Select).is_blank()
        await choose_saved(pilot, "haiku")
        await pilot.click("#confirm-yes")
        await pilot.pause()
        assert compare.prompt_text == "Write a haiku about tail latency." and compare.system_text == "Be terse."


async def test_an_untouched_prompt_is_replaced_without_asking(tmp_path):
    app = make_app(tmp_path, PROMPTS_CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        await choose_saved(pilot, "haiku")
        assert not isinstance(app.screen, ConfirmScreen)
        assert app.compare.prompt_text == "Write a haiku about tail latency."


# -- keymap -------------------------------------------------------------------------------------

async def test_a_remapped_key_is_the_one_written_everywhere(tmp_path):
    config = builtin_config()
    config.ui["keymap"] = {"run": "f5", "picker": "f6", "help": "f9", "cancel": "f8"}
    config.prompts["x"] = SavedPrompt("x", "y")
    app = InfertuiApp(config, tmp_path / "results.db", sim_time_scale=FAST, detect_local_servers=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        compare = app.compare
        assert "f5" in str(compare.query_one("#run").label) and "ctrl+r" not in str(compare.query_one("#run").label)
        assert "f6" in str(compare.query_one("#pick").label)
        assert "f8" in str(compare.query_one("#cancel").label)
        status = shown(compare.query_one("#run-status"))
        assert "f5 runs" in status and "f6 picks targets" in status and "f9 help" in status
        await pilot.press("f9")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        keys = shown(app.screen.query_one("#help-keys"))
        run_line = next(line for line in keys.splitlines() if line.rstrip().endswith("run"))
        assert run_line.split()[0] == "f5", keys
        await pilot.press("escape")
        compare.set_targets(targets_of(app, "sim-alpha/fast"))
        await pilot.press("f5")
        await wait_run(pilot)
        assert compare.session is not None and compare.session.probes
