"""Compliance and fidelity checks against the simulator: each check fails on
the profile that misbehaves its way and passes on a well-behaved one, and
agreement drops by exactly the share of answers a degraded profile changes."""

from __future__ import annotations

import json

import httpx
import pytest

from infertui.core.checks.agreement import levenshtein, similarity
from infertui.core.checks.results import checks_by_target
from infertui.core.checks.runner import run_steps
from infertui.core.checks.session_run import run_session_checks
from infertui.core.checks.steps import compliance_steps, plan_steps
from infertui.core.checks.suite import SUITE
from infertui.core.clients import ClientPool
from infertui.core.result import Status
from infertui.core.session import Session, session_from_json
from infertui.core.simulator.oracle import degraded_items
from infertui.core.simulator.providers import builtin_providers
from infertui.core.targets import Api, ProbeParams, Provider, Target
from tests.core.streams import OPENAI_STREAM
from tests.fakes import Script, ScriptedTransport, sse_parts

SIM = {p.name: p for p in builtin_providers()}


def sim(label: str) -> Target:
    provider, model = label.split("/", 1)
    return Target(SIM[provider], model)


async def checked(labels: list[str], sets=("compliance", "fidelity"), reference: str | None = None,
                  environ=None) -> Session:
    session = Session("s0", "2025-01-01T00:00:00Z", ProbeParams("x"), [sim(x) for x in labels])
    pool = ClientPool(sim_time_scale=0.0)
    try:
        await run_session_checks(session, list(sets), clients=pool,
                                 reference=sim(reference) if reference else None, environ=environ)
    finally:
        await pool.aclose()
    return session


def rows(session: Session) -> dict[str, dict]:
    return {row["target"]: row for row in session.checks_json()["targets"]}


@pytest.mark.parametrize("check, bad, good", [
    ("max_tokens", "sim-alpha/ignores-max-tokens", "sim-alpha/fast"),
    ("max_tokens", "sim-beta/ignores-max-tokens", "sim-beta/fast"),
    ("max_tokens", "sim-gamma/ignores-max-tokens", "sim-gamma/fast"),
    ("stop", "sim-alpha/ignores-stop", "sim-alpha/fast"),
    ("stop", "sim-beta/ignores-stop", "sim-beta/fast"),
    ("stop", "sim-gamma/ignores-stop", "sim-gamma/fast"),
    ("reasoning_off", "sim-alpha/reasoning-stays-on", "sim-alpha/reasoning"),
    ("reasoning_off", "sim-beta/reasoning-stays-on", "sim-beta/reasoning"),
    ("reasoning_off", "sim-gamma/reasoning-stays-on", "sim-gamma/reasoning"),
    ("seed", "sim-alpha/ignores-seed", "sim-alpha/fast"),
    ("seed", "sim-gamma/ignores-seed", "sim-gamma/fast"),
    ("json", "sim-alpha/json-in-prose", "sim-alpha/fast"),
    ("json", "sim-gamma/json-in-prose", "sim-gamma/fast"),
])
async def test_each_check_fails_on_its_profile_and_passes_on_a_well_behaved_one(check, bad, good):
    found = rows(await checked([bad, good], sets=("compliance",)))
    failed, passed = found[bad]["compliance"][check], found[good]["compliance"][check]
    assert failed["verdict"] == "fail", failed["reason"]
    assert passed["verdict"] == "pass", passed["reason"]
    # The evidence: the request as sent, the text and the counts.
    for verdict in (failed, passed):
        assert verdict["evidence"], verdict
        for item in verdict["evidence"]:
            assert item["request"]["method"] == "POST" and item["request"]["body"]
            assert item["status"] == "ok" and "output_tokens" in item and "text" in item


async def test_the_well_behaved_profile_passes_every_check_it_can_have():
    found = rows(await checked(["sim-alpha/fast", "sim-alpha/reasoning"], sets=("compliance",)))
    assert {k: v["verdict"] for k, v in found["sim-alpha/reasoning"]["compliance"].items()} == {
        "max_tokens": "pass", "stop": "pass", "reasoning_off": "pass", "seed": "pass", "json": "pass"}
    # A model that never reasons has nothing to switch off.
    fast = found["sim-alpha/fast"]["compliance"]["reasoning_off"]
    assert fast["verdict"] == "n/a" and "nothing to switch off" in fast["reason"]


async def test_anthropic_has_no_seed_and_no_json_switch_so_those_are_not_applicable():
    found = rows(await checked(["sim-beta/fast"], sets=("compliance",)))["sim-beta/fast"]
    assert found["compliance"]["seed"]["verdict"] == "n/a"
    assert found["compliance"]["json"]["verdict"] == "n/a"
    assert found["compliance"]["seed"]["evidence"] == []
    # Nothing was sent for them.
    assert not {"compliance.seed.1", "compliance.json"} & {s.tag for s in compliance_steps(Api.ANTHROPIC)}


async def test_a_provider_without_a_reasoning_off_switch_is_not_applicable():
    bare = Target(Provider(name="sim-alpha", api=Api.OPENAI, base_url="http://sim-alpha.invalid/v1",
                           simulated=True), "reasoning-stays-on")
    session = Session("s1", "2025-01-01T00:00:00Z", ProbeParams("x"), [bare])
    pool = ClientPool(sim_time_scale=0.0)
    await run_session_checks(session, ["compliance"], clients=pool)
    await pool.aclose()
    verdict = rows(session)["sim-alpha/reasoning-stays-on"]["compliance"]["reasoning_off"]
    assert verdict["verdict"] == "n/a" and "reasoning_off" in verdict["reason"]


async def test_fidelity_scores_and_keeps_each_failure():
    found = rows(await checked(["sim-alpha/fast", "sim-gamma/quantized"], sets=("fidelity",)))
    good, bad = found["sim-alpha/fast"]["fidelity"], found["sim-gamma/quantized"]["fidelity"]
    assert good == {"score": 1.0, "n": len(SUITE), "correct": len(SUITE), "errors": 0, "failures": []}
    wrong = degraded_items(0.25)
    assert len(wrong) == 3
    assert bad["n"] == len(SUITE) and bad["correct"] == len(SUITE) - len(wrong)
    assert bad["score"] == round((len(SUITE) - len(wrong)) / len(SUITE), 4)
    assert {f["item"] for f in bad["failures"]} == wrong
    for failure in bad["failures"]:
        assert failure["why"] and failure["expected"] != failure["got"] and failure["prompt"]


async def test_agreement_drops_by_the_share_of_answers_the_degraded_profile_changes():
    found = rows(await checked(["sim-gamma/quantized", "sim-alpha/fast"], sets=("fidelity",),
                               reference="sim-beta/fast"))
    changed = len(degraded_items(0.25)) / len(SUITE)
    degraded = found["sim-gamma/quantized"]["agreement"]
    same = found["sim-alpha/fast"]["agreement"]
    assert same == {"reference": "sim-beta/fast", "exact": 1.0, "similarity": 1.0, "n": len(SUITE)}
    assert degraded["n"] == len(SUITE)
    assert degraded["exact"] == pytest.approx(1.0 - changed, abs=1e-4)
    # A changed answer still shares most characters: similarity drops less.
    assert degraded["exact"] < degraded["similarity"] < 1.0
    # The reference was checked too (its answers are the yardstick), with no agreement of its own.
    assert found["sim-beta/fast"]["agreement"] is None


async def test_the_key_is_never_in_the_evidence_or_the_document():
    key = "sk-check-SECRET-0123456789"
    keyed = Provider(name="sim-alpha", api=Api.OPENAI, base_url="http://sim-alpha.invalid/v1",
                     simulated=True, api_key_env="SIM_CHECK_KEY")
    session = Session("s2", "2025-01-01T00:00:00Z", ProbeParams("x"), [Target(keyed, "fast")])
    pool = ClientPool(sim_time_scale=0.0)
    await run_session_checks(session, ["compliance", "fidelity"], clients=pool,
                             environ={"SIM_CHECK_KEY": key})
    await pool.aclose()
    assert all(p.status is Status.OK for p in session.probes)  # the key was there to send
    text = json.dumps(session.to_json())
    assert key not in text and "sk-check" not in text
    assert '"request": {"method": "POST"' in text


async def test_checks_survive_a_round_trip_through_the_session_document():
    session = await checked(["sim-gamma/quantized", "sim-alpha/ignores-stop"], reference="sim-alpha/fast")
    doc = json.loads(json.dumps(session.to_json()))
    again = session_from_json(doc)
    assert again.to_json()["checks"] == doc["checks"]
    assert doc["checks"]["asked"] == ["compliance", "fidelity"]
    # Check probes never enter the latency summary.
    assert doc["summary"] == []


async def test_a_transient_error_is_tried_again_and_every_attempt_is_kept():
    limited = Script(status=429, headers={"content-type": "application/json", "retry-after": "7"},
                     parts=[(0.0, b'{"error": {"message": "slow down"}}')])
    answer = Script(parts=sse_parts(OPENAI_STREAM))
    transport = ScriptedTransport(limited, answer)
    target = Target(Provider(name="p", api=Api.OPENAI, base_url="https://p.test/v1"), "m")
    waits: list[float] = []

    async def no_sleep(seconds: float) -> None:
        waits.append(seconds)

    async with httpx.AsyncClient(transport=transport) as client:
        probes = await run_steps(client, target, plan_steps(Api.OPENAI, ["compliance"])[:1],
                                 probe_id=lambda seq: f"x.0.{seq}", sleep=no_sleep)
    assert [p.status for p in probes] == [Status.ERROR, Status.OK]
    assert waits == [7.0]
    assert {p.check for p in probes} == {"compliance.max_tokens"} and probes[1].seq == 1
    assert json.loads(transport.requests[0].content)["max_tokens"] == 16


async def test_a_refusal_is_final_and_is_the_evidence():
    refused = Script(status=400, headers={"content-type": "application/json"},
                     parts=[(0.0, b'{"error": {"message": "unknown field: stop"}}')])
    target = Target(Provider(name="p", api=Api.OPENAI, base_url="https://p.test/v1"), "m")
    async with httpx.AsyncClient(transport=ScriptedTransport(refused)) as client:
        probes = await run_steps(client, target, compliance_steps(Api.OPENAI)[1:2],
                                 probe_id=lambda seq: f"x.0.{seq}")
    assert len(probes) == 1
    verdict = checks_by_target(probes, ["p/m"])[0]["compliance"]["stop"]
    assert verdict["verdict"] == "fail" and "unknown field: stop" in verdict["reason"]


@pytest.mark.parametrize("item", SUITE, ids=lambda i: i.id)
def test_every_suite_item_accepts_its_answer_and_rejects_the_wrong_one(item):
    assert item.check(item.answer) is None
    assert item.check(item.wrong) is not None


def test_checks_are_lenient_about_form_and_strict_about_content():
    by_id = {item.id: item for item in SUITE}
    assert by_id["arith-mul"].check("**9,716**.") is None
    assert by_id["arith-mul"].check("347 × 28 = 9716") is None
    assert by_id["arith-mul"].check("9,706") is not None
    assert by_id["json-keys"].check("```json\n" + by_id["json-keys"].answer + "\n```") is None
    assert by_id["format-upper"].check("THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG") is None
    assert by_id["format-lines"].check("ok\nOK\nok\nok") is not None
    copy = by_id["copy-long"]
    assert copy.check(copy.answer + ".") is not None


def test_similarity_is_one_minus_edit_distance_over_the_longer_text():
    assert levenshtein("kitten", "sitting") == 3
    assert similarity("kitten", "sitting") == pytest.approx(1 - 3 / 7)
    assert similarity("a  b\n", " a b") == 1.0
    assert similarity("", "") == 1.0
    assert similarity("abc", "") == 0.0
