"""The built-in prompt sets and which prompt each request of a cell sends.

- `short`: short chat questions, cycled request by request.
- `long-1k`, `long-10k`: a generated document of about 1,000 or 10,000
  tokens (about four characters a token) with a question about it. Every
  request carries a per-request nonce at the very start of the prompt, so no
  provider can answer it, or its prefill, from a cache.

Generated text is the same on every machine (a fixed seed), so two vantage
points send the same inputs.
"""

from __future__ import annotations

import random
from functools import lru_cache

SHORT_PROMPTS = (
    "In three sentences, explain why the sky is blue.",
    "Name three uses of a hash table and say what each gains from it.",
    "What is the difference between latency and throughput? Answer briefly.",
    "Write a haiku about waiting in a queue.",
    "Give two reasons a web page might load slowly, in one sentence each.",
    "Summarise what a load balancer does in two sentences.",
    "Explain what a cache miss is to a new programmer, in three sentences.",
    "List four common HTTP status codes and what they mean.",
)

_WORDS = tuple("""
the a of to and in that is for it as with on by this be are from or at which
can more each when than its their these into only also most other some such
river valley station engineer harbor winter market council bridge record
letter garden signal machine village century schedule report network storm
archive lantern festival journey orchard workshop library mountain factory
measured carried opened crossed reported planned repaired noticed recorded
quietly slowly early later often rarely carefully suddenly finally together
""".split())

_TARGET_TOKENS = {"long-1k": 1_000, "long-10k": 10_000}
_QUESTION = ("\n\nRead the document above. In two sentences, say what it is mostly about "
             "and name one place it mentions.")


@lru_cache(maxsize=4)
def long_document(tokens: int) -> str:
    """A document of about `tokens` tokens (4 characters each), the same text
    in every process."""
    rng = random.Random(f"infertui-long-{tokens}")
    target_chars = tokens * 4
    sentences: list[str] = []
    size = 0
    while size < target_chars:
        words = [rng.choice(_WORDS) for _ in range(rng.randint(8, 18))]
        sentence = " ".join(words).capitalize() + "."
        sentences.append(sentence)
        size += len(sentence) + 1
    paragraphs = [" ".join(sentences[i:i + 6]) for i in range(0, len(sentences), 6)]
    return "\n\n".join(paragraphs)


def set_prompts(name: str) -> tuple[str, ...]:
    """The prompts of a built-in set, in the order requests cycle through them."""
    if name == "short":
        return SHORT_PROMPTS
    if name in _TARGET_TOKENS:
        return (long_document(_TARGET_TOKENS[name]) + _QUESTION,)
    raise ValueError(f"unknown prompt set {name!r}")


def prompt_for(texts: tuple[str, ...], index: int) -> str:
    """The prompt of a cell's request number `index` (cycling through `texts`)."""
    return texts[index % len(texts)]
