"""The store's commands, driven through `infertui.cli.main` as a user would."""

from __future__ import annotations

import csv
import io
import json

import pytest

from infertui.cli import main
from infertui.store import paths
from infertui.store.repository import Store
from infertui.store.starter import STARTER
from tests.helpers.timezone import local_timezone
from tests.store.factories import CLAUDE, GROQ, full_probe, mixed_session, session


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def seeded():
    """Three sessions in the default store: 01 (oldest) .. 03 (newest)."""
    with Store.open() as store:
        for s in (mixed_session("0190000001", started_at="2025-06-01T10:00:00Z",
                                prompt="Explain Rayleigh scattering"),
                  session("0190000002", started_at="2025-06-02T10:00:00Z", targets=[CLAUDE],
                          probes=[full_probe(CLAUDE, seed=7)], prompt="Count to ten"),
                  session("0190000003", started_at="2025-06-03T10:00:00Z", targets=[GROQ],
                          probes=[full_probe(GROQ, seed=8)], prompt="Name three rivers")):
            store.create_session(s)
            for p in s.probes:
                store.save_probe(s.session_id, p)
    return ["0190000001", "0190000002", "0190000003"]


def test_config_path_init_check(capsys):
    code, out, _ = run(capsys, "config", "path")
    assert code == 0
    assert str(paths.config_file()) in out and str(paths.db_file()) in out
    assert "not created yet" in out
    code, out, _ = run(capsys, "config", "init")
    assert code == 0 and paths.config_file().read_text() == STARTER
    code, _, err = run(capsys, "config", "init")
    assert code == 2 and "already exists; infertui never overwrites your config" in err
    code, out, _ = run(capsys, "config", "check")
    assert code == 0 and out.startswith(f"{paths.config_file()}: ok")
    assert "waiting for a key: openai ($OPENAI_API_KEY)" in out


def test_config_check_reports_every_problem_with_file_and_line(capsys):
    cfg = paths.config_file()
    cfg.parent.mkdir(parents=True)
    cfg.write_text('[defaults]\nrepeat = "x"\n\n[providers.groq]\napi_key = "gsk_1"\n')
    code, out, err = run(capsys, "config", "check")
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert lines[0] == f"{cfg}:2: defaults.repeat must be an integer, not a string ('x')"
    assert lines[1].startswith(f"{cfg}:5: 'api_key' in [providers.groq]")
    assert lines[2] == "infertui: 2 problems in the config"
    assert "Traceback" not in err and "gsk_1" not in err


def test_a_bad_config_stops_other_commands_with_exit_2(capsys, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[providers.x]\napi = 'openai'\n")
    code, _, err = run(capsys, "--config", str(bad), "history", "--model", "llama")
    assert code == 2
    assert err == f"infertui: {bad}:1: [providers.x] needs 'base_url'\n"


def test_history_lists_newest_first_with_filters(capsys, seeded):
    code, out, _ = run(capsys, "history")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == seeded[::-1]
    assert "groq/llama-3.3-70b-versatile 1/1 ok ttft p50" in out
    _, out, _ = run(capsys, "history", "--target", "anthropic", "--limit", "1")
    assert [line.split()[0] for line in out.splitlines()] == ["0190000002"]
    _, out, _ = run(capsys, "history", "--since", "2025-06-02T00:00:00+00:00", "--json")
    assert [r["session_id"] for r in json.loads(out)] == ["0190000003", "0190000002"]
    _, out, err = run(capsys, "history", "--model", "nothing-like-this")
    assert out == "" and "no sessions match" in err


def test_history_model_accepts_a_group_name(capsys, seeded):
    cfg = paths.config_file()
    cfg.parent.mkdir(parents=True)
    cfg.write_text('[groups.sonnet]\nanthropic = "claude-sonnet-4"\n')
    _, out, _ = run(capsys, "history", "--model", "claude-sonnet")
    assert {line.split()[0] for line in out.splitlines()} == {"0190000001", "0190000002"}


def test_show_prints_tables_and_the_same_json(capsys, seeded):
    code, out, _ = run(capsys, "show", "0190000001")
    assert code == 0
    assert "session 0190000001" in out and "Explain Rayleigh scattering" in out
    assert "rate_limited" in out
    code, out, _ = run(capsys, "show", "0190000001", "--json")
    with Store.open() as store:
        assert json.loads(out) == store.load_session("0190000001").to_json()
    assert json.loads(out) == mixed_session("0190000001", started_at="2025-06-01T10:00:00Z",
                                            prompt="Explain Rayleigh scattering").to_json()
    code, _, err = run(capsys, "show", "01900000")
    assert code == 2 and "matches several sessions" in err
    code, out, _ = run(capsys, "show", "last", "--json")
    assert json.loads(out)["session_id"] == "0190000003"


def test_export_json_then_import_into_another_store_twice(capsys, seeded, tmp_path):
    export = tmp_path / "export.json"
    code, _, err = run(capsys, "export", *seeded, "--format", "json", "-o", str(export))
    assert code == 0 and "wrote 3 sessions" in err
    other = tmp_path / "other.db"
    code, out, _ = run(capsys, "--db", str(other), "import", str(export))
    assert code == 0
    assert out == f"{export}: 3 sessions: 3 new, 8 probes added, 0 already present\n"
    code, out, _ = run(capsys, "--db", str(other), "import", str(export))
    assert out == f"{export}: 3 sessions: 0 new, 0 probes added, 3 already present\n"
    with Store.open(other) as store, Store.open() as original:
        assert store.count_sessions() == 3
        for sid in seeded:
            # The JSON has µs precision, the store ns: everything printed matches,
            # statistics recomputed from µs times agree to 1e-6.
            imported, kept = store.load_session(sid).to_json(), original.load_session(sid).to_json()
            summaries = imported.pop("summary"), kept.pop("summary")
            assert imported == kept
            for a, b in zip(*summaries, strict=True):
                assert (a["n"], a["ok"], a["errors"]) == (b["n"], b["ok"], b["errors"])
                assert a["ttft_ms"]["p95"] == pytest.approx(b["ttft_ms"]["p95"], abs=1e-3)
                assert a["decode_tps"]["p50"] == pytest.approx(b["decode_tps"]["p50"], rel=1e-6)


def test_export_csv_and_md_to_stdout(capsys, seeded):
    code, out, _ = run(capsys, "export", "0190000001", "0190000003", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(rows) == 7
    assert {r["session_id"] for r in rows} == {"0190000001", "0190000003"}
    code, out, _ = run(capsys, "export", "0190000002", "--format", "md")
    assert out.startswith("## Session 0190000002") and "| anthropic/claude-sonnet-4 |" in out


def test_import_of_something_else_is_an_error(capsys, tmp_path):
    junk = tmp_path / "junk.json"
    junk.write_text('{"hello": 1}')
    code, _, err = run(capsys, "import", str(junk))
    assert code == 2 and f"{junk}: not an infertui export" in err


def test_delete_asks_or_takes_yes(capsys, seeded, monkeypatch):
    code, _, err = run(capsys, "delete", "0190000002")
    assert code == 2 and "pass --yes" in err
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    code, out, _ = run(capsys, "delete", "0190000002")
    assert code == 1 and "0190000002" in out
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    code, out, _ = run(capsys, "delete", "0190000002")
    assert code == 0 and out.endswith("deleted 1 session\n")
    code, out, _ = run(capsys, "delete", "--yes", "0190000001", "0190000003")
    assert out == "deleted 2 sessions\n"
    _, out, err = run(capsys, "history")
    assert out == "" and "no sessions yet" in err


def test_search_prompt_and_output(capsys, seeded):
    _, out, _ = run(capsys, "search", "rivers")
    assert [line.split()[0] for line in out.splitlines()] == ["0190000003"]
    _, out, _ = run(capsys, "search", "latency", "--json")
    assert len(json.loads(out)) >= 1
    code, out, err = run(capsys, "search", "zebra-unicorn")
    assert code == 0 and out == "" and "no session contains" in err


def test_since_reads_a_date_without_a_zone_as_local_time(capsys, seeded, monkeypatch):
    # Sessions start at 10:00 UTC. Twelve hours behind UTC, local midnight of
    # 2025-06-02 is 12:00 UTC: session 02 is before it (the app's filter reads
    # the date the same way: tests/tui/test_history_screens.py).
    with local_timezone(monkeypatch, "Etc/GMT+12"):
        _, out, _ = run(capsys, "history", "--since", "2025-06-02", "--json")
    assert [r["session_id"] for r in json.loads(out)] == ["0190000003"]


def test_reading_commands_do_not_create_the_database(capsys):
    code, out, err = run(capsys, "history")
    assert code == 0 and out == "" and "no sessions yet" in err
    code, out, _ = run(capsys, "search", "x", "--json")
    assert code == 0 and json.loads(out) == []
    code, _, err = run(capsys, "show", "last")
    assert code == 2 and "no results yet" in err
    assert not paths.data_dir().exists()


def test_probe_saves_by_default_and_show_prints_the_identical_document(capsys):
    code, printed, err = run(capsys, "probe", "-t", "sim-alpha/fast", "-t", "sim-beta/fast",
                             "--max-tokens", "12", "-n", "2", "--json")
    assert code == 0
    session_id = json.loads(printed)["session_id"]
    assert f"saved session {session_id}" in err
    code, shown, _ = run(capsys, "show", session_id, "--json")
    assert code == 0 and shown == printed
    code, _, err = run(capsys, "probe", "-t", "sim-alpha/fast", "--max-tokens", "4", "--json",
                       "--no-save")
    assert code == 0 and "saved session" not in err
    with Store.open() as store:
        assert store.count_sessions() == 1
