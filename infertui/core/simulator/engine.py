"""Planning one simulated response.

`plan_stream` is a pure function: the same profile, seed and request give the
same plan, in any process. It decides at once, in constant time, everything a
response's head and usage need (an HTTP error or not, the time to the first
token, the decode rate, how many tokens, the finish, where a broken stream
breaks). The steps themselves (each chunk's text and the delay before it)
are generated one at a time from the plan's seeded generators as a front
end plays them (`StreamPlan.iter_timeline`), so a 6,000-token answer costs
no more before its first byte than a 6-token one. `encode` turns the
timeline into one wire format's frames and the front ends (`transport`,
`server`) play them out in real time.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from infertui.core.simulator import oracle
from infertui.core.simulator.profiles import SimProfile
from infertui.core.simulator.words import take_tokens, token_stream

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
class Pause:
    """A chunk of hidden reasoning: `delay_s` passes, `tokens` are generated,
    nothing is sent."""

    delay_s: float
    tokens: int


@dataclass(frozen=True, slots=True)
class End:
    """The timeline's last item: `delay_s` after the last step or pause, the
    finish (or, for a broken stream, the break)."""

    delay_s: float


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
    """The stream breaks after `after_tokens` visible tokens: an error event
    inside the 200 stream ("error"), a body that just ends ("truncate"), or a
    dropped connection ("disconnect"). The break comes when the chunk holding
    the next token would have; a chunk it falls inside is cut short."""

    kind: str
    after_tokens: int
    message: str = ""


@dataclass(frozen=True)
class StreamPlan:
    request_id: str
    profile: str
    input_tokens: int
    http_error: HttpError | None = None
    # Tokens generated, reasoning included (not chunks: a chunk may carry
    # several). For a broken stream, the tokens delivered before the break.
    output_tokens: int = 0
    reasoning_tokens: int = 0
    finish_reason: str | None = None  # "stop" or "length"; None when broken
    failure: Failure | None = None
    cold: bool = False
    # What the timeline is generated from. `first_delay_s` is the time to the
    # first generated chunk, shown or not (ttft, prefill, cold start).
    first_delay_s: float = 0.0
    rate: float = 0.0  # tokens per second for this request
    n_reasoning: int = 0  # generated, shown or hidden
    n_answer: int = 0
    hidden: bool = False  # reasoning generated but not streamed
    behaviour: SimProfile | None = field(default=None, repr=False)
    key: tuple = field(default=(), repr=False)
    # The answer's tokens when they are fixed (the oracle's answers, JSON
    # output); None: filler words drawn as the stream plays.
    answer_pieces: tuple[str, ...] | None = field(default=None, repr=False)
    # What the filler text is drawn from: a seeded request's own key, so the
    # same seed gives the same text; else `key`.
    text_key: tuple | None = field(default=None, repr=False)
    stop_sequence: str | None = None  # the stop sequence that ended the answer

    @property
    def visible_tokens(self) -> int:
        """Tokens the full (unbroken) stream would carry."""
        return self.n_answer + (0 if self.hidden else self.n_reasoning)

    def iter_timeline(self) -> Iterator[Step | Pause | End]:
        """The steps one at a time, each generated when asked for (its text
        and delay drawn from the plan's own seeded generators), with a Pause
        for each chunk of hidden reasoning, then one End. Constant work per
        item: a chunk's tokens, one gap."""
        profile = self.behaviour
        if self.http_error is not None or profile is None:
            return
        timing = _rng(self.key, "timing")
        _draw_ttft_and_rate(timing, profile)  # the same draws plan_stream made; sizes come next
        gaps = _rng(self.key, "gaps")
        text = _rng(self.text_key or self.key, "text")
        cut = self.failure.after_tokens if self.failure is not None else None
        pending = self.first_delay_s  # delay owed to the next step
        shown = 0  # visible tokens so far
        first = True
        for kind, count in ((REASONING, self.n_reasoning), (CONTENT, self.n_answer)):
            if not count:
                continue
            words = (iter(self.answer_pieces) if kind == CONTENT and self.answer_pieces is not None
                     else token_stream(text, kind))
            unseen = kind == REASONING and self.hidden
            left = count
            while left:
                size = min(timing.randint(profile.chunk_tokens_min, profile.chunk_tokens_max), left)
                left -= size
                tokens = [next(words) for _ in range(size)]
                if first:
                    gap = 0.0
                    first = False
                else:
                    gap = _lognormal(gaps, size / self.rate, profile.gap_sigma)
                    if profile.stall_prob and gaps.random() < profile.stall_prob:
                        gap += profile.stall_ms * gaps.uniform(0.5, 1.5) / 1000
                if unseen:
                    yield Pause(pending + gap, size)
                    pending = 0.0
                    continue
                if cut is not None and shown + size > cut:
                    keep = cut - shown
                    if keep == 0:
                        yield End(pending + gap)
                        return
                    # The break falls inside this chunk: its first `keep`
                    # tokens go out, the break comes when the rest would have.
                    whole = gap if gap > 0 else size / self.rate
                    yield Step(pending + gap * keep / size, kind, "".join(tokens[:keep]), keep)
                    yield End(whole * (size - keep) / size)
                    return
                shown += size
                yield Step(pending + gap, kind, "".join(tokens), size)
                pending = 0.0
        yield End(pending)

    def _folded(self) -> Iterator[Step | End]:
        """The timeline as a client sees it: the visible steps, with hidden
        reasoning's time folded into the delay of whatever comes next."""
        owed = 0.0
        for item in self.iter_timeline():
            if isinstance(item, Pause):
                owed += item.delay_s
                continue
            if owed:
                yield (End(owed + item.delay_s) if isinstance(item, End)
                       else Step(owed + item.delay_s, item.kind, item.text, item.tokens))
                owed = 0.0
                continue
            yield item

    def iter_steps(self) -> Iterator[Step]:
        """The visible steps, one at a time, as `steps` has them."""
        return (item for item in self._folded() if isinstance(item, Step))

    @cached_property
    def _played(self) -> tuple[tuple[Step, ...], float]:
        """The whole timeline at once: (visible steps, delay after the last)."""
        steps: list[Step] = []
        tail = 0.0
        for item in self._folded():
            if isinstance(item, Step):
                steps.append(item)
            else:
                tail = item.delay_s
        return tuple(steps), tail

    @property
    def steps(self) -> tuple[Step, ...]:
        """Every visible step, generated on first use (for tests and tools;
        the front ends stream `iter_timeline`)."""
        return self._played[0]

    @property
    def end_delay_s(self) -> float:
        """Between the last step and the finish or the break (hidden reasoning
        that used up max_tokens takes its time here)."""
        return self._played[1]

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.steps if s.kind == CONTENT)

    @property
    def reasoning_text(self) -> str:
        return "".join(s.text for s in self.steps if s.kind == REASONING)

    @property
    def known_ttft_s(self) -> float | None:
        """The time to the first visible step when it is known without
        generating any step: None if reasoning is hidden before it (or
        nothing is visible)."""
        if self.http_error is not None or self.visible_tokens == 0:
            return None
        return None if self.hidden and self.n_reasoning else self.first_delay_s

    @property
    def ttft_s(self) -> float | None:
        """The first visible step's planned delay, whether or not the stream
        breaks before it; None if nothing visible is planned. With hidden
        reasoning, this walks the timeline up to the first visible step."""
        if self.http_error is not None or self.visible_tokens == 0:
            return None
        known = self.known_ttft_s
        if known is not None:
            return known
        # The first step, or the break where it would have been.
        return next(self._folded()).delay_s

    @property
    def duration_s(self) -> float:
        if self.http_error:
            return self.http_error.delay_s
        return sum(s.delay_s for s in self.steps) + self.end_delay_s


def fixed_answer(profile: SimProfile, prompt: str, filler_tokens: int, stop: tuple[str, ...],
                 json_output: bool, rng: random.Random) -> tuple[tuple[str, ...] | None, str | None]:
    """(the answer's tokens, the stop sequence that cut it) when the answer is
    fixed: the oracle's answer to a known prompt, or, for JSON output, filler
    words as a JSON object. (None, None) for ordinary filler text."""
    text = oracle.answer(prompt, profile.wrong_share)
    if text is None and json_output:
        words = "".join(take_tokens(rng, min(filler_tokens, 2000))).strip()
        text = json.dumps({"answer": words})
    if text is None:
        return None, None
    if json_output and profile.json_in_prose and oracle.looks_like_json(text):
        text = oracle.in_prose(text)
    stopped_by = None
    if stop and not profile.ignore_stop:
        cut, found = oracle.cut_at_stop(text, stop)
        if found:
            stopped_by = next(s for s in stop if s and text.find(s) == len(cut))
            text = cut
    # An answer cut to nothing still streams one empty piece (and counts one token).
    return tuple(oracle.tokens_of(text)) or ("",), stopped_by


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


def _draw_ttft_and_rate(timing: random.Random, profile: SimProfile) -> tuple[float, float]:
    """The first draws of the "timing" generator: the time to first token
    before prefill and cold start (ms), and the decode rate. Chunk sizes are
    drawn from it after these."""
    ttft_ms = _lognormal(timing, profile.ttft_ms, profile.ttft_sigma)
    rate = _lognormal(timing, profile.tokens_per_s, profile.rate_sigma)
    return ttft_ms, rate


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
    stop: tuple[str, ...] = (),
    request_seed: int | None = None,
    json_output: bool = False,
) -> StreamPlan:
    """`reasoning`: None is the model's default (a reasoning profile reasons),
    False switches reasoning off, True also shows hidden reasoning. `idle_s`:
    seconds since the (provider, model) last served a request; None if never,
    which is a cold start for a profile that has them. Constant time in
    max_tokens and the answer's length."""
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be at least 1, not {max_tokens}")
    key = (seed, provider, model, request_number, prompt, max_tokens, reasoning)
    request_id = hashlib.sha256(repr(("id", key)).encode("utf-8")).hexdigest()[:24]
    input_tokens = count_input_tokens(prompt)
    base: dict[str, Any]  # StreamPlan's fields, of several types
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
    base_ttft_ms, rate = _draw_ttft_and_rate(timing, profile)
    ttft_ms = (base_ttft_ms + profile.prefill_ms_per_ktok * input_tokens / 1000
               + (profile.cold_start_ms if cold else 0.0))

    # A seed makes the sampled lengths and words repeatable (unless the
    # profile ignores it): they come from the seed, the model and the prompt.
    seeded = request_seed is not None and not profile.ignore_seed
    text_key = (request_seed, model, prompt, max_tokens, reasoning) if seeded else None
    lengths = _rng(text_key or key, "lengths")
    wants_reasoning = profile.reasoning_tokens > 0 and (reasoning is not False
                                                        or profile.ignore_reasoning_off)
    n_reasoning = _count(lengths, profile.reasoning_tokens, profile.reasoning_sigma) if wants_reasoning else 0
    n_answer = _count(lengths, profile.answer_tokens, profile.answer_sigma)
    pieces, stopped_by = fixed_answer(profile, prompt, n_answer, stop, json_output,
                                      _rng(text_key or key, "json"))
    if pieces is not None:
        n_answer = max(1, len(pieces))
    finish = "stop_sequence" if stopped_by else "stop"
    if not profile.ignore_max_tokens:
        finish = "length" if n_reasoning + n_answer > max_tokens else finish
        n_reasoning = min(n_reasoning, max_tokens)
        n_answer = min(n_answer, max_tokens - n_reasoning)
    hidden = profile.hide_reasoning and reasoning is not True and n_reasoning > 0

    timeline: dict[str, Any]
    timeline = {"cold": cold, "first_delay_s": ttft_ms / 1000, "rate": rate, "n_reasoning": n_reasoning,
                "n_answer": n_answer, "hidden": hidden, "behaviour": profile, "key": key,
                "answer_pieces": pieces, "text_key": text_key,
                "stop_sequence": stopped_by if finish == "stop_sequence" else None}
    if breaking is None:
        return StreamPlan(**base, **timeline, output_tokens=n_reasoning + n_answer,
                          reasoning_tokens=n_reasoning, finish_reason=finish)
    visible = n_answer + (0 if hidden else n_reasoning)
    # A token index rather than a chunk index: it is known before any chunk
    # is cut, and so are the counts delivered before it.
    cut = fate.randrange(visible) if visible else 0
    if hidden:
        reasoned, answered = (n_reasoning if cut else 0), cut
    else:
        reasoned = min(cut, n_reasoning)
        answered = cut - reasoned
    failure = Failure(breaking, cut, "Overloaded (simulated)" if breaking == "error" else "")
    return StreamPlan(**base, **timeline, output_tokens=reasoned + answered, reasoning_tokens=reasoned,
                      failure=failure)
