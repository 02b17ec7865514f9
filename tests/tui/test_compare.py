"""The compare screen driven like a user would: pick, run, cancel, read errors."""

from __future__ import annotations

import subprocess
import sys

from textual.widgets import SelectionList

from infertui.core.result import ChunkKind, ErrorKind, Status
from infertui.store.repository import Store
from infertui.tui.screens.help import HelpScreen
from infertui.tui.screens.picker import TargetPicker
from infertui.tui.widgets.summary import SummaryTable
from tests.fakes import Script, ScriptedTransport
from tests.tui.helpers import SIZE, make_app, shown, targets_of, wait_run


async def test_first_launch_races_the_simulator(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        compare = app.compare
        assert [t.label for t in compare.targets] == [
            "sim-alpha/demo-70b", "sim-beta/demo-70b", "sim-gamma/demo-70b"]
        assert len(compare.panes) == 3
        await pilot.press("ctrl+r")
        await wait_run(pilot)
        for pane in compare.panes.values():
            assert pane.status == "ok", pane.header_text
            assert len(pane.text) > 50
            assert "TTFT" in pane.header_text
        summary = app.screen.query_one(SummaryTable)
        assert summary.row_count == 3
        assert [row.target_label for row in summary.summary] == [t.label for t in compare.targets]
        # One pane won the first token, one the finish.
        headers = [pane.header_text for pane in compare.panes.values()]
        assert sum("1st token" in h for h in headers) == 1
        assert sum("1st finish" in h for h in headers) == 1


async def test_picker_lists_simulators_and_missing_keys(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+t")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, TargetPicker)
        keys = [e.key for e in picker.catalog.entries]
        labels = [e.label for e in picker.catalog.entries]
        assert keys[0] == "group:demo-70b"  # one action: the model on every simulator
        assert "sim-alpha/demo-8b" in keys
        assert any("openai  no key: export OPENAI_API_KEY" == label for label in labels)
        missing = next(e for e in picker.catalog.entries if e.provider == "groq")
        assert not missing.selectable
        await pilot.press("escape")
        assert not isinstance(app.screen, TargetPicker)


async def test_pick_two_targets_by_filtering_and_run(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+t")
        await pilot.pause()
        picker = app.screen
        await pilot.click("#picker-clear")
        await pilot.press(*"alpha demo-8b")
        await pilot.pause()
        listing = picker.query_one(SelectionList)
        # the group demo-8b (served by sim-alpha too) and the target itself
        assert [str(listing.get_option_at_index(i).value) for i in range(listing.option_count)] == [
            "group:demo-8b", "sim-alpha/demo-8b"]
        await pilot.press("down", "down", "space")
        picker.query_one("#picker-filter").value = ""
        await pilot.press(*"beta/fast")  # typing in the list goes to the filter
        await pilot.press("down", "space", "enter")
        await pilot.pause()
        compare = app.compare
        assert app.screen is compare
        assert [t.label for t in compare.targets] == ["sim-alpha/demo-8b", "sim-beta/fast"]
        await pilot.press("ctrl+r")
        await wait_run(pilot)
        assert [p.status for p in compare.panes.values()] == ["ok", "ok"]
        assert compare.query_one(SummaryTable).row_count == 2
        await app.persister().drained()
    # The run was saved as it went.
    with Store.open(tmp_path / "results.db") as store:
        session = store.load_session(compare.session.session_id)
    assert {p.target.label for p in session.probes} == {"sim-alpha/demo-8b", "sim-beta/fast"}


async def test_group_entry_picks_the_model_on_every_provider(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+t")
        await pilot.pause()
        await pilot.click("#picker-clear")
        await pilot.press(*"demo-reasoner")
        await pilot.pause()
        await pilot.press("down", "space", "enter")  # the group line comes first
        await pilot.pause()
        assert sorted(t.label for t in app.compare.targets) == [
            "sim-alpha/demo-reasoner", "sim-beta/demo-reasoner", "sim-gamma/demo-reasoner"]


async def test_reasoning_shows_apart_from_the_answer(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        compare = app.compare
        compare.set_targets(targets_of(app, "sim-alpha/demo-reasoner"))
        await pilot.press("ctrl+r")
        await wait_run(pilot)
        (pane,) = compare.panes.values()
        result = pane.result
        assert result is not None and result.reasoning_text
        assert pane.reasoning_text == result.reasoning_text
        assert pane.text == result.text
        assert pane.query_one(".pane-reasoning").display


async def test_cancel_keeps_finished_probes_and_marks_running_ones(tmp_path):
    app = make_app(tmp_path, time_scale=1.0)
    async with app.run_test(size=SIZE) as pilot:
        compare = app.compare
        # demo-8b on sim-beta answers in well under a second; slow-ttft waits ~1.5 s
        # before its first token, so it is still running when the fast one is done.
        compare.set_targets(targets_of(app, "sim-beta/demo-8b", "sim-alpha/slow-ttft"))
        compare.query_one("#max-tokens").value = "24"
        await pilot.press("ctrl+r")
        fast, slow = compare.panes.values()
        while fast.result is None:
            await pilot.pause(0.02)
        assert compare.running
        await pilot.press("escape")
        await wait_run(pilot)
        assert fast.status == "ok"
        assert slow.status == "cancelled"
        statuses = {p.target.label: p.status for p in compare.session.probes}
        assert statuses == {"sim-beta/demo-8b": Status.OK, "sim-alpha/slow-ttft": Status.CANCELLED}
        assert "cancelled" in shown(compare.query_one("#run-status"))


ERROR_CONFIG = """
[providers.broken]
api = "openai"
base_url = "http://broken.example/v1"
"""


async def test_error_shows_in_its_pane_while_others_finish(tmp_path):
    app = make_app(tmp_path, ERROR_CONFIG)
    body = b'{"error": {"message": "slow down, you are over the limit", "type": "rate_limit"}}'
    scripted = ScriptedTransport(Script(status=429, headers={"content-type": "application/json",
                                                             "retry-after": "7"},
                                        parts=[(0.0, body)]))
    app.transport_factory = lambda provider: scripted if provider.name == "broken" else None
    async with app.run_test(size=SIZE) as pilot:
        compare = app.compare
        compare.set_targets(targets_of(app, "broken/some-model", "sim-alpha/fast"))
        await pilot.press("ctrl+r")
        await wait_run(pilot)
        broken, fine = compare.panes.values()
        assert broken.status == "error"
        assert broken.result.error.kind is ErrorKind.RATE_LIMITED
        error_text = shown(broken.query_one(".pane-error"))
        assert "rate_limited · HTTP 429 · retry after 7 s" in error_text
        assert "slow down, you are over the limit" in error_text
        assert fine.status == "ok" and fine.text
        summary = compare.query_one(SummaryTable).summary
        assert [(row.ok, row.errors) for row in summary] == [(0, 1), (1, 0)]
        assert summary[0].error_kinds == {"rate_limited": 1}


async def test_missing_key_is_an_error_in_the_pane_not_a_crash(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        compare = app.compare
        compare.set_targets(targets_of(app, "groq/llama-3.3-70b-versatile", "sim-alpha/fast"))
        assert "export GROQ_API_KEY" in str(compare.query_one("#targets").get_option_at_index(0).prompt)
        await pilot.press("ctrl+r")
        await wait_run(pilot)
        groq, _ = compare.panes.values()
        assert groq.result.error.kind is ErrorKind.AUTH
        assert "export GROQ_API_KEY" in shown(groq.query_one(".pane-error"))


async def test_repeats_fill_the_summary_and_panes_follow_the_latest(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        compare = app.compare
        compare.set_targets(targets_of(app, "sim-alpha/fast", "sim-beta/fast"))
        compare.query_one("#repeat").value = "3"
        compare.query_one("#warmup").value = "1"
        compare.query_one("#max-tokens").value = "16"
        await pilot.press("ctrl+r")
        await wait_run(pilot)
        summary = compare.query_one(SummaryTable).summary
        assert [(row.n, row.ok) for row in summary] == [(3, 3), (3, 3)]
        assert len(compare.session.probes) == 8  # warm-ups kept, not counted
        for pane in compare.panes.values():
            assert pane.seq == 3 and "4/4 done" in pane.header_text


async def test_bad_params_and_empty_prompt_are_notifications(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        compare = app.compare
        compare.query_one("#repeat").value = "zero"
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert not compare.running and compare.session is None
        assert any("repeat: not a whole number: 'zero'" in n.message for n in app._notifications)
        # The bounds and the words of `infertui probe` (tests/cli/test_probe_args.py).
        compare.query_one("#repeat").value = "100001"
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert not compare.running
        assert any("repeat: must be <= 100,000, got 100001" in n.message for n in app._notifications)
        compare.query_one("#repeat").value = "1"
        compare.query_one("#prompt").text = "   "
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert compare.session is None
        assert any("the prompt is empty" in n.message for n in app._notifications)


async def test_help_screen_lists_keys_and_metrics(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        keys = shown(app.screen.query_one("#help-keys"))
        for text in ("ctrl+r", "Run", "Cancel", "f2", "History", "ctrl+t"):
            assert text.lower() in keys.lower(), text
        assert "first visible content token" in shown(app.screen.query_one("#help-metrics"))
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_bad_config_still_starts_with_builtins(tmp_path):
    app = make_app(tmp_path, "[providers.oops]\napi = 'nope'\n")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.config_error and "config.toml" in app.config_error
        assert any(n.title == "Config not loaded" for n in app._notifications)
        assert "sim-alpha" in app.config.providers
        await pilot.press("ctrl+r")
        await wait_run(pilot)
        assert all(p.status == "ok" for p in app.compare.panes.values())


async def test_unusable_store_is_a_notification_and_results_stay(tmp_path, monkeypatch):
    from infertui.store import background

    monkeypatch.setattr(background, "RETRY_AFTER_END_S", 0.2)
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    app = make_app(tmp_path)
    app.store_path = blocker / "results.db"  # its parent is a file
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+r")
        await wait_run(pilot)
        await app.persister().drained()
        await pilot.pause()
        titles = [n.title for n in app._notifications]
        assert titles.count("Results store unavailable") == 1 and titles.count("Not saved") == 1
        [unsaved] = app.persister().unsaved
        [told] = [n.message for n in app._notifications if n.title == "Not saved"]
        assert told.startswith(f"3 of 3 probes of session {app.compare.session.session_id} "
                               "were not saved: ")
        assert str(unsaved.rescue_path) in told and "ctrl+s exports" in told
        assert len(app.compare.session.probes) == 3
        assert all(p.status == "ok" for p in app.compare.panes.values())


async def test_copy_and_export(tmp_path, monkeypatch):
    app = make_app(tmp_path)
    copied: list[str] = []
    monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
    async with app.run_test(size=SIZE) as pilot:
        compare = app.compare
        compare.set_targets(targets_of(app, "sim-alpha/fast"))
        await pilot.press("f3")
        assert copied == []  # nothing yet
        await pilot.press("ctrl+r")
        await wait_run(pilot)
        (pane,) = compare.panes.values()
        pane.focus()
        await pilot.press("f3")
        assert copied[-1] == pane.text
        app.action_copy("summary")
        assert copied[-1].splitlines()[0].startswith("target\tn\tok")
        assert copied[-1].splitlines()[1].startswith("sim-alpha/fast\t1\t1\t0")
        await pilot.press("ctrl+s")
        await pilot.pause()
        out = tmp_path / "out.md"
        app.screen.query_one("#export-path").value = str(out)
        app.screen.query_one("#export-format").value = "md"
        await pilot.click("#export-ok")
        await pilot.pause()
        assert out.is_file() and "sim-alpha/fast" in out.read_text()


async def test_rerun_loads_a_session_and_runs_it(tmp_path):
    from tests.tui.test_history_fixtures import race_session

    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        past = race_session(repeat=2)
        app.rerun(past)
        await wait_run(pilot)
        compare = app.compare
        assert compare.prompt_text == past.params.prompt
        assert compare.query_one("#repeat").value == "2"
        assert [t.label for t in compare.targets] == ["sim-alpha/demo-70b", "sim-beta/demo-70b"]
        assert compare.targets[0].provider is app.config.providers["sim-alpha"]
        assert len(compare.session.probes) == 4
        assert compare.session.session_id != past.session_id


async def test_pane_contract_buffers_until_flush(tmp_path):
    from infertui.tui.widgets.pane import ProbePane

    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        pane = app.compare.panes["sim-alpha/demo-70b"]
        pane.begin("x.0.0", 0, False)
        pane.append(ChunkKind.CONTENT, "Hello ", 150_000_000)
        pane.append(ChunkKind.CONTENT, "world", 170_000_000)
        assert pane._content.line_count == 1 and pane._content._open == ""  # not drawn yet
        pane.flush()
        assert pane._content._open == "Hello world"
        assert "TTFT 150 ms" in pane.header_text
        assert isinstance(pane, ProbePane)
        await pilot.pause()


def test_core_and_store_never_import_textual():
    code = ("import sys, infertui.core.runner, infertui.core.models, infertui.store, "
            "infertui.cli; assert 'textual' not in sys.modules, 'textual imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_importing_the_app_builds_nothing():
    code = ("import infertui.tui.app as m, textual.app as a; "
            "assert a.active_app.get(None) is None; assert not hasattr(m, 'app')")
    subprocess.run([sys.executable, "-c", code], check=True)


async def test_the_first_run_sends_only_once_the_screen_has_stopped_laying_out(tmp_path, monkeypatch):
    """The first run shows the summary, which shrinks the panes, which reflow:
    several layout passes, each blocking the loop for milliseconds. None may
    come between the run's start and its first token, where it would delay a
    stamp (the in-process simulator's too) and flag the probes ⚠."""
    import time

    from textual.screen import Screen

    import infertui.core.runner as runner_module

    layouts: list[int] = []
    started: list[int] = []
    refresh_layout = Screen._refresh_layout
    run = runner_module.Runner.run

    def recording_layout(self, *args, **kwargs):
        layouts.append(time.monotonic_ns())
        return refresh_layout(self, *args, **kwargs)

    async def recording_run(self, *args, **kwargs):
        started.append(time.monotonic_ns())
        return await run(self, *args, **kwargs)

    monkeypatch.setattr(Screen, "_refresh_layout", recording_layout)
    monkeypatch.setattr(runner_module.Runner, "run", recording_run)
    app = make_app(tmp_path, time_scale=1.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.5)
        await pilot.press("ctrl+r")
        await wait_run(pilot)
        session = app.compare.session
        assert started and all(p.status is Status.OK for p in session.probes)
        first_token = min(p.sent_clock_ns + p.first_content_ns for p in session.probes)
        during = [(t - started[0]) / 1e6 for t in layouts if started[0] <= t <= first_token]
        assert during == [], f"layouts at {during} ms after the run started"
