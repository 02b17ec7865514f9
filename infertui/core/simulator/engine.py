"""Planning one simulated response, before any byte is sent.

`plan_stream` is a pure function: the same profile, seed and request give the
same plan, in any process. The plan says what the server will do (an HTTP
error, or a stream of steps with the delay before each) in format-neutral
terms; `encode` turns it into one wire format's bytes and the front ends
(`transport`, `server`) play it out in real time.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass

from infertui.core.simulator.profiles import SimProfile
from infertui.core.simulator.words import take_tokens

CONTENT = "content"
REASONING = "reasoning"


@dataclass(frozen=True, slots=True)
class Step:
    """One streamed chunk: `delay_s` after the previous step (the first one's
    is the time to first token), carrying `tokens` tokens of `text`."""

    delay_s: float
    kind: str  # CONTENT or REASONING
    text: str
    tokens: int


@dataclass(frozen=True, slots=True)
class HttpError:
    """The request fails before any body: a 429 or a 500 after `delay_s`.
    Each format wraps `message` in its own error body."""

    status: int
    message: str
    delay_s: float
    retry_after_s: int | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {} if self.retry_after_s is None else {"retry-after": str(self.retry_after_s)}


@dataclass(frozen=True, slots=True)
class Failure:
    """The stream breaks `delay_s` after its last delivered step: an error
    event inside the 200 stream ("error"), a body that just ends ("truncate"),
    or a dropped connection ("disconnect")."""

    kind: str
    delay_s: float
    message: str = ""


@dataclass(frozen=True, slots=True)
class StreamPlan:
    request_id: str
    profile: str
    input_tokens: int
    http_error: HttpError | None = None
    steps: tuple[Step, ...] = ()
    # Tokens generated, reasoning included (not chunks: a chunk may carry
    # several). For a broken stream, the tokens delivered before the break.
    output_tokens: int = 0
    reasoning_tokens: int = 0
    finish_reason: str | None = None  # "stop" or "length"; None when broken
    failure: Failure | None = None
    # Before the finish, after the last step (hidden reasoning that used up
    # max_tokens takes its time here).
    end_delay_s: float = 0.0
    ttft_s: float | None = None  # the first step's planned delay
    cold: bool = False

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.steps if s.kind == CONTENT)

    @property
    def reasoning_text(self) -> str:
        return "".join(s.text for s in self.steps if s.kind == REASONING)

    @property
    def duration_s(self) -> float:
        tail = self.failure.delay_s if self.failure else self.end_delay_s
        if self.http_error:
            return self.http_error.delay_s
        return sum(s.delay_s for s in self.steps) + tail


def count_input_tokens(prompt: str) -> int:
    """About four bytes a token, plus the chat template's few."""
    return max(1, math.ceil(len(prompt.encode("utf-8")) / 4)) + 4


def _rng(key: tuple, stream: str) -> random.Random:
    digest = hashlib.sha256(repr((key, stream)).encode("utf-8")).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0.0, sigma)) if sigma > 0 else median


def _count(rng: random.Random, median: int, sigma: float) -> int:
    return max(1, round(_lognormal(rng, median, sigma)))


def plan_stream(
    profile: SimProfile,
    *,
    seed: int,
    provider: str,
    model: str,
    request_number: int,
    prompt: str,
    max_tokens: int,
    reasoning: bool | None = None,
    idle_s: float | None = None,
) -> StreamPlan:
    """`reasoning`: None is the model's default (a reasoning profile reasons),
    False switches reasoning off, True also shows hidden reasoning. `idle_s`:
    seconds since the (provider, model) last served a request; None if never,
    which is a cold start for a profile that has them."""
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be at least 1, not {max_tokens}")
    key = (seed, provider, model, request_number, prompt, max_tokens, reasoning)
    request_id = hashlib.sha256(repr(("id", key)).encode("utf-8")).hexdigest()[:24]
    input_tokens = count_input_tokens(prompt)
    base = {"request_id": request_id, "profile": profile.name, "input_tokens": input_tokens}

    fate = _rng(key, "fate")
    roll = fate.random()
    error_delay = _lognormal(fate, profile.error_ms, 0.3) / 1000
    if roll < profile.p_429:
        return StreamPlan(**base, http_error=HttpError(
            429, "Rate limit reached for requests (simulated)", error_delay, profile.retry_after_s))
    roll -= profile.p_429
    if roll < profile.p_500:
        return StreamPlan(**base, http_error=HttpError(
            500, "The server had an error while processing your request (simulated)", error_delay))
    roll -= profile.p_500
    breaking = None
    for kind, p in (("error", profile.p_stream_error), ("truncate", profile.p_truncate),
                    ("disconnect", profile.p_disconnect)):
        if roll < p:
            breaking = kind
            break
        roll -= p

    timing = _rng(key, "timing")
    cold = profile.cold_start_ms > 0 and (idle_s is None or idle_s > profile.cold_idle_s)
    ttft_ms = (_lognormal(timing, profile.ttft_ms, profile.ttft_sigma)
               + profile.prefill_ms_per_ktok * input_tokens / 1000
               + (profile.cold_start_ms if cold else 0.0))
    rate = _lognormal(timing, profile.tokens_per_s, profile.rate_sigma)

    lengths = _rng(key, "lengths")
    wants_reasoning = profile.reasoning_tokens > 0 and reasoning is not False
    n_reasoning = _count(lengths, profile.reasoning_tokens, profile.reasoning_sigma) if wants_reasoning else 0
    n_answer = _count(lengths, profile.answer_tokens, profile.answer_sigma)
    finish = "length" if n_reasoning + n_answer > max_tokens else "stop"
    n_reasoning = min(n_reasoning, max_tokens)
    n_answer = min(n_answer, max_tokens - n_reasoning)
    hidden = profile.hide_reasoning and reasoning is not True

    text_rng = _rng(key, "text")
    chunks: list[tuple[str, list[str]]] = []
    for kind, count in ((REASONING, n_reasoning), (CONTENT, n_answer)):
        tokens = take_tokens(text_rng, count, kind)
        while tokens:
            size = timing.randint(profile.chunk_tokens_min, profile.chunk_tokens_max)
            chunks.append((kind, tokens[:size]))
            tokens = tokens[size:]

    steps: list[Step] = []
    pending = ttft_ms / 1000  # delay owed to the next visible step
    first = True
    for kind, tokens in chunks:
        if first:
            first = False
        else:
            gap = _lognormal(timing, len(tokens) / rate, profile.gap_sigma)
            if profile.stall_prob and timing.random() < profile.stall_prob:
                gap += profile.stall_ms * timing.uniform(0.5, 1.5) / 1000
            pending += gap
        if kind == REASONING and hidden:
            continue
        steps.append(Step(pending, kind, "".join(tokens), len(tokens)))
        pending = 0.0

    ttft_s = steps[0].delay_s if steps else None
    if breaking is not None:
        cut = fate.randrange(len(steps)) if steps else 0
        failure = Failure(breaking, steps[cut].delay_s if steps else pending,
                          "Overloaded (simulated)" if breaking == "error" else "")
        delivered = tuple(steps[:cut])
        reasoned = sum(s.tokens for s in delivered if s.kind == REASONING)
        if hidden and delivered:
            reasoned = n_reasoning  # all of it was generated before the answer began
        answered = sum(s.tokens for s in delivered if s.kind == CONTENT)
        return StreamPlan(**base, steps=delivered, output_tokens=reasoned + answered,
                          reasoning_tokens=reasoned, failure=failure, ttft_s=ttft_s, cold=cold)
    return StreamPlan(**base, steps=tuple(steps), output_tokens=n_reasoning + n_answer,
                      reasoning_tokens=n_reasoning, finish_reason=finish, end_delay_s=pending,
                      ttft_s=ttft_s, cold=cold)
