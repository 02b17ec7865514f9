"""The simulator's "oracle": fixed answers to the prompts infertui's checks
send (the fidelity suite and the compliance prompts).

Every other prompt gets plausible filler words, which no check could judge.
For these known prompts a simulated model answers as a careful model would,
so a well-behaved profile passes every check and a degraded one fails
exactly where its profile says (`wrong_share`: that share of the suite's
items answered wrongly; which items is fixed, see `degraded_items`). The
oracle is a property of the simulator, not of any real model: it exists so
the checks themselves can be tested.

A prompt is known when it ends with one of these prompts (a nonce or a system
prompt may come before it).
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache

from infertui.core.checks.steps import (
    JSON_PROMPT,
    MAX_TOKENS_PROMPT,
    REASONING_PROMPT,
    STOP_PROMPT,
)
from infertui.core.checks.suite import SUITE

_TOKEN = re.compile(r"\s*[^\s]{1,4}|\s+")

_COMPLIANCE_ANSWERS = {
    MAX_TOKENS_PROMPT: " ".join(str(i) for i in range(1, 101)),
    STOP_PROMPT: "alpha beta gamma delta epsilon",
    REASONING_PROMPT: "42",
    JSON_PROMPT: '{"city": "Paris", "country": "France"}',
}
PROSE_BEFORE_JSON = "Here is the JSON you asked for:\n\n```json\n"
PROSE_AFTER_JSON = "\n```\n\nLet me know if you need anything else."


@lru_cache(maxsize=1)
def _known() -> tuple[tuple[str, str, str | None, str | None], ...]:
    """(prompt, answer, wrong answer, suite item id), longest prompt first."""
    rows: list[tuple[str, str, str | None, str | None]]
    rows = [(item.prompt, item.answer, item.wrong, item.id) for item in SUITE]
    rows += [(prompt, answer, None, None) for prompt, answer in _COMPLIANCE_ANSWERS.items()]
    return tuple(sorted(rows, key=lambda r: -len(r[0])))


def degraded_items(share: float) -> frozenset[str]:
    """The suite items a profile with `wrong_share = share` answers wrongly:
    the first round(share x items) in a fixed hash order, so the same items
    every time and a known count."""
    count = round(share * len(SUITE))
    order = sorted(SUITE, key=lambda item: hashlib.sha256(item.id.encode()).hexdigest())
    return frozenset(item.id for item in order[:count])


def answer(prompt: str, wrong_share: float = 0.0) -> str | None:
    """The oracle's answer to `prompt`, or None for a prompt it does not know."""
    text = prompt.rstrip()
    for known, right, wrong, item_id in _known():
        if text.endswith(known):
            if item_id is not None and wrong is not None and item_id in degraded_items(wrong_share):
                return wrong
            return right
    return None


def looks_like_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def in_prose(json_text: str) -> str:
    """JSON as a chatty model wraps it when it ignores a JSON-output request."""
    return PROSE_BEFORE_JSON + json_text + PROSE_AFTER_JSON


def tokens_of(text: str) -> list[str]:
    """`text` cut into token-like pieces (up to four characters, with their
    leading white space) that join back into exactly `text`."""
    return _TOKEN.findall(text)


def cut_at_stop(text: str, stop: tuple[str, ...]) -> tuple[str, bool]:
    """(the text before the first stop sequence, whether one was found)."""
    found = [i for i in (text.find(s) for s in stop if s) if i >= 0]
    if not found:
        return text, False
    return text[:min(found)], True
