"""`infertui probe --stop/--request-seed/--top-p/--json-output/--check`: the
options reach the request (the simulator honours them) and the session."""

from __future__ import annotations

import json

from infertui.cli import main
from infertui.core.checks.steps import STOP_PROMPT


def probe(capsys, *argv: str) -> tuple[int, dict | None, str]:
    code = main(["probe", "--no-save", "--json", *argv])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else None), err


def texts(doc: dict) -> list[str]:
    return [p["text"] for p in doc["probes"]]


def test_stop_reaches_every_wire_format(capsys):
    for target in ("sim-alpha/fast", "sim-beta/fast", "sim-gamma/fast"):
        code, doc, err = probe(capsys, "-t", target, "-p", STOP_PROMPT, "--stop", "gamma",
                               "--stop", "zeta")
        assert code == 0, err
        assert texts(doc) == ["alpha beta "], target
        assert doc["params"]["stop"] == ["gamma", "zeta"]


def test_a_request_seed_makes_the_simulated_answers_repeat(capsys):
    _, seeded, _ = probe(capsys, "-t", "sim-alpha/fast", "-n", "2", "--request-seed", "7")
    _, unseeded, _ = probe(capsys, "-t", "sim-alpha/fast", "-n", "2")
    assert len(set(texts(seeded))) == 1 and len(set(texts(unseeded))) == 2
    assert seeded["params"]["request_seed"] == 7 and unseeded["params"]["request_seed"] is None


def test_json_output_asks_for_json(capsys):
    code, doc, err = probe(capsys, "-t", "sim-gamma/fast", "--json-output", "--top-p", "0.5")
    assert code == 0, err
    assert isinstance(json.loads(texts(doc)[0]), dict)
    assert doc["params"]["json_output"] is True and doc["params"]["top_p"] == 0.5


def test_bad_values_are_one_line_errors(capsys):
    for argv, said in ((["--top-p", "2"], "must be between 0 and 1"),
                       (["--request-seed", "x"], "not a whole number"),
                       (["--check", "speed"], "invalid choice"),
                       (["--stop", ""], "--stop needs a non-empty sequence"),
                       (["--reference", "nosuch/m"], "--reference")):
        try:
            code = main(["probe", "--no-save", "-t", "sim-alpha/fast", *argv])
        except SystemExit as exc:
            code = exc.code
        err = capsys.readouterr().err
        assert code == 2 and said in err and "Traceback" not in err, argv


def test_checks_run_after_the_probes_into_the_same_session(capsys, tmp_path):
    db = str(tmp_path / "r.db")
    assert main(["--db", db, "probe", "-t", "sim-alpha/ignores-max-tokens", "-n", "2",
                 "--check", "compliance", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [row["n"] for row in doc["summary"]] == [2]  # the check probes are apart
    (row,) = doc["checks"]["targets"]
    assert row["compliance"]["max_tokens"]["verdict"] == "fail"
    assert main(["--db", db, "show", "last", "--json"]) == 0
    stored = json.loads(capsys.readouterr().out)
    assert stored["checks"] == doc["checks"] and stored["summary"] == doc["summary"]
    assert main(["--db", db, "history", "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["targets"][0]["n"] == 2


def test_show_says_the_parameters_that_were_sent(capsys, tmp_path):
    db = str(tmp_path / "r.db")
    assert main(["--db", db, "probe", "-t", "sim-alpha/fast", "--stop", "END", "--stop", "\x1b[2J",
                 "--top-p", "0.25", "--request-seed", "9", "--json-output", "--json"]) == 0
    capsys.readouterr()
    assert main(["--db", db, "show", "last"]) == 0
    out = capsys.readouterr().out
    assert "stop 'END' | '\\x1b[2J'  seed 9  top_p 0.25  JSON output" in out
    assert "\x1b[2J" not in out
