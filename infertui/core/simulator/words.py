"""Plausible English for simulated answers, one token at a time.

A token is a word piece as a tokenizer would cut it: a short word with its
leading space, a long word split in two, a comma, a full stop, a paragraph
break. Only the counts and the look matter; the sense does not.
"""

from __future__ import annotations

import random
from typing import Iterator

_ANSWER_WORDS = tuple("""
the a an of to and in that is for it as with on by this be are from or at which
can more each when than its their these into only also most other some such
model request token latency provider network server response stream first time
second answer result value system cache queue batch memory kernel layer weight
prompt output input measure median tail percentile throughput decode prefill
inference provider region cluster replica scheduler context window length speed
quickly steady usually often rarely later early under load across between
because while after before during however therefore although whereas since
shows depends varies grows drops stays remains returns reaches arrives takes
makes keeps gives reports counts sends waits starts finishes improves reduces
simple careful useful typical different similar larger smaller faster slower
important reliable variable expensive efficient practical reasonable visible
""".split())

_REASONING_WORDS = tuple("""
first check whether the question asks about speed or cost so consider what
matters here maybe compare both options then note that each one has a limit
wait that seems wrong let me recount the numbers again and verify the step
hmm the user probably wants a short answer with the key facts so keep it brief
next think about edge cases where the value could be zero or very large then
conclude with the main point and mention the tradeoff clearly
""".split())

_OPENERS = {
    "content": ("In", "For", "The", "Most", "When", "Each", "This", "A", "Because", "Under"),
    "reasoning": ("Okay", "So", "First", "Let", "Hmm", "Now", "Next", "Then", "Wait", "Alright"),
}


def _pieces(word: str) -> list[str]:
    """Long words become two tokens, as sub-word tokenizers cut them."""
    if len(word) <= 7:
        return [word]
    cut = len(word) // 2
    return [word[:cut], word[cut:]]


def token_stream(rng: random.Random, kind: str = "content") -> Iterator[str]:
    """An endless run of tokens: sentences of 6 to 16 words, a comma now and
    then, a paragraph break every few sentences. The first token has no
    leading space."""
    vocabulary = _REASONING_WORDS if kind == "reasoning" else _ANSWER_WORDS
    openers = _OPENERS["reasoning" if kind == "reasoning" else "content"]
    start = True
    sentences = 0
    while True:
        length = rng.randint(6, 16)
        for i in range(length):
            word = rng.choice(openers) if i == 0 else rng.choice(vocabulary)
            for j, piece in enumerate(_pieces(word)):
                yield " " + piece if j == 0 and not start else piece
                start = False
            if 2 <= i < length - 2 and rng.random() < 0.08:
                yield ","
        yield "."
        sentences += 1
        if sentences % rng.randint(3, 5) == 0:
            yield "\n\n"
            start = True


def take_tokens(rng: random.Random, count: int, kind: str = "content") -> list[str]:
    stream = token_stream(rng, kind)
    return [next(stream) for _ in range(count)]
