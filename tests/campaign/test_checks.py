"""Checks in a campaign: `checks = [...]` and `reference = "PROVIDER/MODEL"`
run once, as a session of the first round, and the document carries their
results per target, from the stored probes alone."""

from __future__ import annotations

import json

from infertui.cli import main
from infertui.core.campaign.document import build
from infertui.core.campaign.record import KIND_CHECKS, from_sessions
from infertui.core.checks.suite import SUITE
from infertui.core.events import ProbeFinished
from infertui.core.simulator.oracle import degraded_items
from infertui.core.targets import Target
from tests.campaign.helpers import PROVIDERS, resolved, run_campaign, with_spec

TARGETS = ["sim-alpha/fast", "sim-gamma/quantized", "sim-alpha/ignores-stop"]


def checked_campaign(**spec):
    campaign = resolved(TARGETS, concurrency=(1,), requests=3, checks=("compliance",),
                        reference="sim-beta/fast", **spec)
    from dataclasses import replace
    return replace(campaign, reference=Target(PROVIDERS["sim-beta"], "fast"))


def test_a_campaign_runs_its_checks_once_and_reports_them_per_target():
    record, _, _ = run_campaign(checked_campaign())
    doc = build(record)
    rows = {t["target"]: t for t in doc["targets"]}
    assert list(rows) == TARGETS  # the reference is not made a target
    (checks_session,) = [s for r in record.rounds for s in r.sessions
                         if s.campaign["kind"] == KIND_CHECKS]
    assert checks_session.campaign["round"] == 0
    # Check probes never count as measured requests.
    assert all(rows[t]["n"] == 3 for t in TARGETS)
    assert rows["sim-alpha/ignores-stop"]["compliance"]["stop"]["verdict"] == "fail"
    assert rows["sim-alpha/fast"]["compliance"]["stop"]["verdict"] == "pass"
    assert rows["sim-alpha/fast"]["fidelity"]["score"] == 1.0
    wrong = degraded_items(0.25)
    assert rows["sim-gamma/quantized"]["fidelity"]["correct"] == len(SUITE) - len(wrong)
    assert rows["sim-gamma/quantized"]["agreement"]["exact"] == round(1 - len(wrong) / len(SUITE), 4)
    assert rows["sim-alpha/fast"]["agreement"] == {"reference": "sim-beta/fast", "exact": 1.0,
                                                   "similarity": 1.0, "n": len(SUITE)}
    # The reference was asked the suite only, and is reported apart.
    assert doc["reference"]["target"] == "sim-beta/fast"
    assert doc["reference"]["fidelity"]["score"] == 1.0 and doc["reference"]["compliance"] is None
    for row in rows.values():
        assert "cost_per_correct_usd" in row and "cost_per_ok_usd" in row
    assert doc["spec"]["checks"] == ["compliance"] and doc["spec"]["reference"] == "sim-beta/fast"


def test_without_checks_the_fields_are_there_and_null():
    record, _, _ = run_campaign(resolved(["sim-alpha/fast"], requests=2))
    (row,) = build(record)["targets"]
    assert [row[k] for k in ("compliance", "fidelity", "agreement", "cost_per_correct_usd")] == \
        [None] * 4
    assert build(record)["reference"] is None


def test_a_stopped_campaign_resumes_its_checks_without_sending_a_step_twice():
    campaign = checked_campaign()
    seen = []

    def stop_after_some(_ex, event):
        if type(event) is ProbeFinished and event.result.check:
            seen.append(event.result.check)
        return len(seen) == 10

    record, _ex, _ = run_campaign(campaign, stop_when=stop_after_some)
    assert record.status == "stopped"
    first = [p for r in record.rounds for s in r.sessions for p in s.probes if p.check]
    record.status = "running"
    again, _, _ = run_campaign(campaign, record=record)
    assert again.status == "finished"
    probes = [p for r in again.rounds for s in r.sessions for p in s.probes if p.check]
    finished = [(p.target.label, p.check) for p in probes if str(p.status) != "cancelled"]
    assert len(finished) == len(set(finished))  # every step answered once
    assert len(probes) > len(first)
    rebuilt = build(from_sessions([s for r in again.rounds for s in r.sessions], status="finished"))
    assert rebuilt["targets"] == build(again)["targets"]


CAMPAIGN = """
name = "checked"
targets = ["sim-alpha/fast", "sim-gamma/quantized"]
prompt = "hi"
requests = 2
max_tokens = 8
stop = "END"
top_p = 0.9
request_seed = 3
json_output = false
checks = ["compliance", "fidelity"]
reference = "sim-beta/fast"
"""


def test_campaign_run_json_equals_show_json_with_checks(tmp_path, capsys):
    path = tmp_path / "c.toml"
    path.write_text(CAMPAIGN)
    db = str(tmp_path / "r.db")
    assert main(["--db", db, "campaign", "run", str(path), "--json"]) == 0
    ran = json.loads(capsys.readouterr().out)
    assert main(["--db", db, "campaign", "show", "last", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown == ran
    rows = {t["target"]: t for t in shown["targets"]}
    assert rows["sim-gamma/quantized"]["agreement"]["exact"] < 1.0
    assert rows["sim-alpha/fast"]["compliance"]["max_tokens"]["verdict"] == "pass"
    assert shown["spec"]["params"]["stop"] == ["END"] and shown["spec"]["params"]["top_p"] == 0.9
    # The measured requests carried the parameters.
    assert main(["--db", db, "show", shown["rounds"][0]["sessions"][-1]["session_id"], "--json"]) == 0
    session = json.loads(capsys.readouterr().out)
    assert session["params"]["stop"] == ["END"] and session["params"]["request_seed"] == 3


def test_unknown_check_sets_and_bad_references_are_config_errors(tmp_path, capsys):
    path = tmp_path / "c.toml"
    path.write_text(CAMPAIGN.replace('"compliance", "fidelity"', '"complience"'))
    assert main(["campaign", "run", str(path)]) == 2
    err = capsys.readouterr().err
    assert "complience" in err and "compliance" in err and f"{path}:" in err
    path.write_text(CAMPAIGN.replace('reference = "sim-beta/fast"', 'reference = "group:x"'))
    assert main(["campaign", "run", str(path)]) == 2
    assert "reference must be one PROVIDER/MODEL" in capsys.readouterr().err


def test_with_spec_keeps_checks():
    c = with_spec(checked_campaign(), requests=1)
    assert c.spec.check_sets == ("compliance", "fidelity")


def test_new_probe_parameters_are_checked_like_the_others(tmp_path, capsys):
    path = tmp_path / "c.toml"
    for bad, said in (("stop = 5", "stop must be an array of strings"),
                      ("top_p = -1", "top_p must be at least 0"),
                      ("request_seed = 1.5", "request_seed must be an integer"),
                      ("json_output = 1", "json_output must be true or false")):
        key = bad.split(" ")[0]
        text = "\n".join(line for line in CAMPAIGN.splitlines() if not line.startswith(key + " "))
        path.write_text(text + "\n" + bad + "\n")
        assert main(["campaign", "run", str(path)]) == 2
        assert said in capsys.readouterr().err, bad
