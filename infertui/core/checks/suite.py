"""The built-in fidelity suite: prompts whose answers a program can check.

Each item has a prompt, a correct answer as a careful model would write it,
a plausible wrong one (what the simulator's degraded profiles answer), and a
check that says why an answer is wrong, or None when it is right. Checks are
lenient about what does not matter (surrounding spaces, a final full stop,
Markdown bold, a code fence around JSON) and strict about what does (the
number, the count, the lines, the casing, every character of a copy).

The prompts never change between versions without a new item id: answers
stored from an older run stay comparable with a newer one's.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, Callable

# Room for a reasoning model to think before it answers (a limit, not a length).
SUITE_MAX_TOKENS = 2048
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


@dataclass(frozen=True)
class SuiteItem:
    id: str
    category: str
    prompt: str
    answer: str
    wrong: str
    check: Callable[[str], str | None]


def _plain(text: str) -> str:
    """The answer without surrounding space, Markdown bold or a final full stop."""
    return text.strip().replace("**", "").strip().rstrip(".").strip()


def _number_is(expected: int) -> Callable[[str], str | None]:
    def check(text: str) -> str | None:
        found = _NUMBER.findall(_plain(text))
        if not found:
            return f"no number in the answer; expected {expected}"
        got = found[-1].replace(",", "")
        try:
            value = float(got)
        except ValueError:
            return f"expected {expected}, got {got!r}"
        if value != expected:
            return f"expected {expected}, got {got}"
        return None
    return check


def _exactly(expected: str, *, final_stop_optional: bool = True) -> Callable[[str], str | None]:
    def check(text: str) -> str | None:
        got = text.strip()
        if final_stop_optional:
            got, want = got.rstrip("."), expected.rstrip(".")
        else:
            want = expected
        if got == want:
            return None
        at = next((i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b), min(len(got), len(want)))
        return (f"differs from the expected text at character {at + 1}: expected "
                f"{want[at:at + 1] or 'the end'!r}, got {got[at:at + 1] or 'the end'!r} "
                f"({len(got)} characters, expected {len(want)})")
    return check


def _lines_of(word: str, count: int) -> Callable[[str], str | None]:
    def check(text: str) -> str | None:
        lines = [line.strip() for line in text.strip().splitlines()]
        if len(lines) != count:
            return f"expected {count} lines, got {len(lines)}"
        bad = [line for line in lines if line != word]
        if bad:
            return f"expected every line to be {word!r}, got {bad[0]!r}"
        return None
    return check


def json_value(text: str) -> Any:
    """The JSON an answer holds: the whole text, or the inside of one code
    fence around it. ValueError when neither parses."""
    body = text.strip()
    fenced = re.fullmatch(r"```[A-Za-z]*\s*\n(.*?)\n?```", body, re.S)
    if fenced:
        body = fenced.group(1)
    return json.loads(body)


def _json_object() -> Callable[[str], str | None]:
    def check(text: str) -> str | None:
        try:
            value = json_value(text)
        except ValueError:
            return "not JSON"
        if not isinstance(value, dict):
            return f"not a JSON object ({type(value).__name__})"
        if set(value) != {"name", "year", "tags"}:
            return f"keys {sorted(value)}, expected ['name', 'tags', 'year']"
        if value["name"] != "infertui" or value["year"] != 2025:
            return f"name {value['name']!r} / year {value['year']!r}, expected 'infertui' / 2025"
        tags = value["tags"]
        if not (isinstance(tags, list) and len(tags) == 2 and all(isinstance(t, str) for t in tags)):
            return "tags is not a list of two strings"
        return None
    return check


def _copy_text() -> str:
    """About 300 characters that no model can guess: groups of letters and
    digits from a fixed hash chain, the same on every machine."""
    groups: list[str] = []
    digest = b"infertui-fidelity-copy"
    while len(" ".join(groups)) < 300:
        digest = hashlib.sha256(digest).digest()
        groups.append(digest.hex()[:6] + "".join("ABCDEFGHJKMNPQRSTUVWXYZ"[b % 23] for b in digest[:3]))
    return " ".join(groups)


COPY_TEXT = _copy_text()
_WRONG_COPY = COPY_TEXT[:150] + ("x" if COPY_TEXT[150] != "x" else "y") + COPY_TEXT[151:]
_JSON_ANSWER = '{"name": "infertui", "year": 2025, "tags": ["latency", "fidelity"]}'
_ONLY_NUMBER = " Answer with the number only."

SUITE: tuple[SuiteItem, ...] = (
    SuiteItem("arith-mul", "arithmetic", "What is 347 multiplied by 28?" + _ONLY_NUMBER,
              "9716", "9706", _number_is(9716)),
    SuiteItem("arith-sum", "arithmetic", "Compute 1234 + 5678 - 999." + _ONLY_NUMBER,
              "5913", "5813", _number_is(5913)),
    SuiteItem("arith-div", "arithmetic", "What is 144 divided by 12, plus 17?" + _ONLY_NUMBER,
              "29", "27", _number_is(29)),
    SuiteItem("arith-pow", "arithmetic", "What is 2 to the power of 16?" + _ONLY_NUMBER,
              "65536", "65535", _number_is(65536)),
    SuiteItem("words-small", "number words",
              "Write 'four thousand and twenty-seven' in digits." + _ONLY_NUMBER,
              "4027", "4270", _number_is(4027)),
    SuiteItem("words-large", "number words",
              "Write 'nineteen million, three hundred and five thousand and eleven' in digits, "
              "without separators." + _ONLY_NUMBER,
              "19305011", "19350011", _number_is(19305011)),
    SuiteItem("count-letters", "counting",
              "How many times does the letter r appear in the word 'strawberry'?" + _ONLY_NUMBER,
              "3", "2", _number_is(3)),
    SuiteItem("count-items", "counting",
              "How many items are in this list: apple, pear, plum, fig, kiwi, lime, date?"
              + _ONLY_NUMBER, "7", "6", _number_is(7)),
    SuiteItem("format-lines", "formatting",
              "Write exactly four lines, each containing only the word ok, in lower case, and "
              "nothing else.", "ok\nok\nok\nok", "ok\nok\nok", _lines_of("ok", 4)),
    SuiteItem("format-upper", "formatting",
              "Repeat this sentence in upper case and write nothing else: The quick brown fox "
              "jumps over the lazy dog.",
              "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG.",
              "The Quick Brown Fox Jumps Over The Lazy Dog.",
              _exactly("THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG.")),
    SuiteItem("json-keys", "json",
              'Return a JSON object with exactly the keys "name", "year" and "tags", where name '
              'is "infertui", year is 2025 and tags is a list of two strings. Output only the '
              "JSON.", _JSON_ANSWER, '{"name": "infertui", "year": 2025}', _json_object()),
    SuiteItem("copy-long", "copying",
              "Copy the following text back exactly, with nothing before or after it:\n\n"
              + COPY_TEXT, COPY_TEXT, _WRONG_COPY, _exactly(COPY_TEXT, final_stop_optional=False)),
)
ITEMS: dict[str, SuiteItem] = {item.id: item for item in SUITE}


def check_answer(item: SuiteItem, text: str) -> str | None:
    """Why `text` is not a correct answer to `item`, or None when it is."""
    return item.check(text)
