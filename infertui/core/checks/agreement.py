"""Agreement of a target's answers with a reference target's, on the same
prompts at temperature 0 (the fidelity suite's).

- `exact`: the share of prompts whose two answers are the same text once
  surrounding white space is trimmed.
- `similarity`: the mean, over the same prompts, of
  `1 - levenshtein(a, b) / max(len(a), len(b))` on the two answers with every
  run of white space made one space and the ends trimmed (1 for two empty
  answers). Levenshtein distance counts the characters inserted, deleted or
  replaced to turn one text into the other, so 0.9 means about one character
  in ten differs. Answers are compared on their first 4,000 characters.

Only prompts both targets answered (status ok) count; `n` says how many.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from infertui.core.result import ProbeResult, Status

COMPARED_CHARS = 4000
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    return _SPACES.sub(" ", text).strip()[:COMPARED_CHARS]


def levenshtein(a: str, b: str) -> int:
    """Edit distance, one row at a time (memory in the shorter text)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def similarity(a: str, b: str) -> float:
    a, b = normalise(a), normalise(b)
    longest = max(len(a), len(b))
    if longest == 0:
        return 1.0
    return 1.0 - levenshtein(a, b) / longest


def agreement(reference: str, mine: Mapping[str, ProbeResult],
              theirs: Mapping[str, ProbeResult]) -> dict[str, Any]:
    """`mine`, `theirs`: step tag -> the last probe of that step, for the
    target and for the reference."""
    pairs = [(mine[k], theirs[k]) for k in mine if k in theirs
             and mine[k].status is Status.OK and theirs[k].status is Status.OK]
    if not pairs:
        return {"reference": reference, "exact": None, "similarity": None, "n": 0}
    exact = sum(1 for a, b in pairs if a.text.strip() == b.text.strip())
    sims = [similarity(a.text, b.text) for a, b in pairs]
    return {"reference": reference, "exact": round(exact / len(pairs), 4),
            "similarity": round(sum(sims) / len(sims), 4), "n": len(pairs)}
