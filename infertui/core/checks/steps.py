"""What a check set sends: one step per probe, each with its own parameters.

A step's tag is stored on its probe (`ProbeResult.check`); verdicts find
their probes by tag. Tags never change once released.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from infertui.core.checks import COMPLIANCE, FIDELITY
from infertui.core.checks.suite import SUITE, SUITE_MAX_TOKENS
from infertui.core.targets import Api, ProbeParams

# The compliance prompts. Each is chosen so the check can tell: the natural
# answer of the max_tokens prompt is far longer than its limit, the stop
# prompt's answer holds the stop sequence in its middle, the JSON prompt's
# answer is an object.
MAX_TOKENS_PROMPT = ("Count from 1 to 100, with the numbers separated by single spaces, and "
                     "write nothing else.")
MAX_TOKENS_LIMIT = 16
# Every other step's limit: room for a reasoning model to think before it
# answers, so an answer is never judged on a cut (a limit, not a length).
ROOMY = 2048
STOP_PROMPT = ("Write the words alpha, beta, gamma, delta and epsilon on one line, separated by "
               "single spaces, and write nothing else.")
STOP_SEQUENCE = "gamma"
REASONING_PROMPT = "What is 17 + 25? Think it through step by step, then give the number."
SEED_PROMPT = "Write a two-sentence story about a lighthouse keeper."
SEED_VALUE = 4242
JSON_PROMPT = 'Describe Paris as a JSON object with the keys "city" and "country".'

MAX_TOKENS = "max_tokens"
STOP = "stop"
REASONING_OFF = "reasoning_off"
SEED = "seed"
JSON = "json"
COMPLIANCE_CHECKS = (MAX_TOKENS, STOP, REASONING_OFF, SEED, JSON)

# Checks an API has no switch for: never sent, verdict n/a.
NO_SWITCH: dict[Api, dict[str, str]] = {
    Api.ANTHROPIC: {SEED: "the Anthropic Messages API has no seed parameter",
                    JSON: "the Anthropic Messages API has no JSON-output switch"},
}


@dataclass(frozen=True)
class CheckStep:
    tag: str  # "compliance.stop", "compliance.seed.2", "fidelity.arith-mul"
    params: ProbeParams

    @property
    def check_set(self) -> str:
        return self.tag.split(".", 1)[0]


def tag(check_set: str, name: str, part: str | None = None) -> str:
    return f"{check_set}.{name}" + (f".{part}" if part else "")


def compliance_steps(api: Api) -> list[CheckStep]:
    skip = NO_SWITCH.get(api, {})
    steps = [
        CheckStep(tag(COMPLIANCE, MAX_TOKENS), ProbeParams(MAX_TOKENS_PROMPT, MAX_TOKENS_LIMIT,
                                                           temperature=0.0)),
        CheckStep(tag(COMPLIANCE, STOP), ProbeParams(STOP_PROMPT, ROOMY, temperature=0.0,
                                                     stop=(STOP_SEQUENCE,))),
        # Left at the default first (does the model reason at all?), then off.
        CheckStep(tag(COMPLIANCE, REASONING_OFF, "default"), ProbeParams(REASONING_PROMPT, ROOMY)),
        CheckStep(tag(COMPLIANCE, REASONING_OFF, "off"), ProbeParams(REASONING_PROMPT, ROOMY,
                                                                     reasoning=False)),
    ]
    if SEED not in skip:
        seeded = ProbeParams(SEED_PROMPT, ROOMY, temperature=0.0, request_seed=SEED_VALUE)
        steps += [CheckStep(tag(COMPLIANCE, SEED, "1"), seeded),
                  CheckStep(tag(COMPLIANCE, SEED, "2"), seeded)]
    if JSON not in skip:
        steps.append(CheckStep(tag(COMPLIANCE, JSON), ProbeParams(JSON_PROMPT, ROOMY, temperature=0.0,
                                                                  json_output=True)))
    return steps


def fidelity_steps() -> list[CheckStep]:
    """Every suite item at temperature 0 (agreement compares these answers)."""
    return [CheckStep(tag(FIDELITY, item.id), ProbeParams(item.prompt, SUITE_MAX_TOKENS,
                                                          temperature=0.0))
            for item in SUITE]


def plan_steps(api: Api, check_sets: Iterable[str]) -> list[CheckStep]:
    wanted = set(check_sets)
    unknown = wanted - {COMPLIANCE, FIDELITY}
    if unknown:
        raise ValueError(f"unknown check set {sorted(unknown)[0]!r}; known: {COMPLIANCE}, {FIDELITY}")
    steps: list[CheckStep] = []
    if COMPLIANCE in wanted:
        steps += compliance_steps(api)
    if FIDELITY in wanted:
        steps += fidelity_steps()
    return steps
