"""The simulator's planning and encoding: pure functions, no sockets, no sleeps."""

from __future__ import annotations

import dataclasses
import itertools
import re
import statistics

import pytest

from tests.layering import import_without_ui

from infertui.core.simulator import PROFILES, SimProfile, builtin_providers, get_profile, plan_stream, sim_models
from infertui.core.simulator.encode import Frame, encode_stream
from infertui.core.simulator.engine import CONTENT, REASONING, End, Pause, Step
from infertui.core.simulator.providers import DEMO_MODELS, base_profile
from infertui.core.simulator.service import check_overrides
from infertui.core.targets import Api
from tests.core.test_simulator_helpers import FINISH_NAMES, count_tokens, decode

APIS = [Api.OPENAI, Api.ANTHROPIC, Api.GEMINI]


def plan(profile: str | SimProfile = "fast", n: int = 0, **kw):
    args = {"seed": 7, "provider": "sim-alpha", "model": "m", "request_number": n,
            "prompt": "How fast is it?", "max_tokens": 512, "reasoning": None, "idle_s": 1.0}
    args.update(kw)
    return plan_stream(get_profile(profile) if isinstance(profile, str) else profile, **args)


def calm(name: str, **changes) -> SimProfile:
    """A profile with its failures switched off, for tests of its other traits."""
    return dataclasses.replace(get_profile(name), p_429=0, p_500=0, p_stream_error=0,
                               p_truncate=0, p_disconnect=0, **changes)


def encode(api, p, **kw) -> list[Frame]:
    return list(encode_stream(api, p, **({"model": "demo"} | kw)))


def step_times(frames: list[Frame]) -> list[float]:
    """When each step frame is due, from the start of the stream."""
    clock, times = 0.0, []
    for frame in frames:
        clock += frame.delay_s
        if frame.kind:
            times.append(clock)
    return times


# Reproducibility ---------------------------------------------------------------

def test_same_seed_and_inputs_give_the_same_plan_and_bytes():
    for name in PROFILES:
        a, b = plan(name, n=3), plan(name, n=3)
        assert a == b
        if a.http_error is None:
            for api in APIS:
                assert encode(api, a, model="m") == encode(api, b, model="m")


def test_the_timeline_is_the_same_each_time_it_is_generated():
    for name in ("jittery", "multi-token", "reasoning"):
        p = plan(calm(name), max_tokens=600)
        assert list(p.iter_timeline()) == list(p.iter_timeline())
        assert tuple(p.iter_steps()) == p.steps == plan(calm(name), max_tokens=600).steps
        *_, end = p.iter_timeline()
        assert isinstance(end, End) and end.delay_s == p.end_delay_s
        assert sum(s.tokens for s in p.steps) == p.output_tokens


def test_another_seed_or_request_number_gives_another_plan():
    base = plan("jittery")
    for other in (plan("jittery", seed=8), plan("jittery", n=1), plan("jittery", prompt="Other?")):
        assert other.request_id != base.request_id
        assert other.text != base.text
        assert other.ttft_s != base.ttft_s


def test_text_looks_like_english_words():
    p = plan("fast", max_tokens=4000)
    assert re.match(r"^[A-Z][a-z]+", p.text)
    words = re.findall(r"[A-Za-z]+", p.text)
    assert len(words) > 20
    assert all(len(w) <= 14 for w in words)
    assert "." in p.text
    assert all(s.tokens == 1 for s in p.steps)


# Profiles and overrides ----------------------------------------------------------

def test_all_named_profiles_exist():
    assert {"fast", "slow-ttft", "cold-start", "jittery", "flaky", "reasoning", "multi-token"} <= set(PROFILES)
    with pytest.raises(ValueError, match="unknown simulator profile 'nope'"):
        get_profile("nope")


def test_overrides_replace_fields_and_coerce_types():
    p = get_profile("fast").with_overrides({"ttft_ms": 400, "tokens_per_s": 80, "chunk_tokens_max": 3.0})
    assert (p.ttft_ms, p.tokens_per_s, p.chunk_tokens_max) == (400.0, 80.0, 3)
    assert isinstance(p.ttft_ms, float) and isinstance(p.chunk_tokens_max, int)
    assert get_profile("fast").ttft_ms == 120  # the named profile is untouched


def test_unknown_or_mistyped_overrides_are_clear_errors():
    with pytest.raises(ValueError, match=r"unknown simulator setting 'ttft'.*known:.*ttft_ms"):
        get_profile("fast").with_overrides({"ttft": 1})
    with pytest.raises(ValueError, match="'tokens_per_s' must be float"):
        get_profile("fast").with_overrides({"tokens_per_s": "fast"})
    with pytest.raises(ValueError, match="p_429 must be between 0 and 1"):
        get_profile("flaky").with_overrides({"p_429": 1.5})
    with pytest.raises(ValueError, match="chunk_tokens_min"):
        SimProfile(chunk_tokens_min=4, chunk_tokens_max=2)


def test_override_keys_are_checked():
    ok = check_overrides({"*": {"ttft_ms": 10}, "flaky": {"p_429": 0.5}, "sim-beta": {"tokens_per_s": 5},
                          "sim-gamma/demo-8b": {"p_500": 0}})
    assert ok["sim-gamma/demo-8b"] == {"p_500": 0}
    for bad in ("nope", "sim-alpha/nope", "sim-alpha/"):
        with pytest.raises(ValueError, match=re.escape(repr(bad))):
            check_overrides({bad: {"ttft_ms": 1}})
    with pytest.raises(ValueError, match="unknown simulator setting 'speed'"):
        check_overrides({"fast": {"speed": 1}})


# Each profile's behaviour -----------------------------------------------------------

def test_flaky_fails_at_roughly_its_rates():
    profile = get_profile("flaky")
    plans = [plan(profile, n=i, max_tokens=4) for i in range(3000)]
    n = len(plans)
    r429 = [p for p in plans if p.http_error and p.http_error.status == 429]
    r500 = [p for p in plans if p.http_error and p.http_error.status == 500]
    broken = {k: sum(1 for p in plans if p.failure and p.failure.kind == k)
              for k in ("error", "truncate", "disconnect")}
    assert abs(len(r429) / n - profile.p_429) < 0.025
    assert abs(len(r500) / n - profile.p_500) < 0.02
    assert abs(broken["error"] / n - profile.p_stream_error) < 0.015
    assert abs(broken["truncate"] / n - profile.p_truncate) < 0.012
    assert abs(broken["disconnect"] / n - profile.p_disconnect) < 0.01
    assert all(p.http_error.headers == {"retry-after": "2"} for p in r429)
    assert all(p.http_error.headers == {} for p in r500)
    assert all(p.finish_reason is None and not p.steps for p in r429 + r500)
    assert all(p.finish_reason is None for p in plans if p.failure)


def test_fast_profile_has_no_failures_and_its_median_ttft():
    plans = [plan("fast", n=i) for i in range(400)]
    assert all(p.http_error is None and p.failure is None for p in plans)
    median_ms = statistics.median(p.ttft_s for p in plans) * 1000
    assert 110 < median_ms < 132


def test_slow_ttft_is_slower_than_fast():
    slow = statistics.median(plan("slow-ttft", n=i).ttft_s for i in range(200))
    fast = statistics.median(plan("fast", n=i).ttft_s for i in range(200))
    assert slow > 8 * fast


def test_cold_start_after_idle_only():
    never = plan("cold-start", idle_s=None)
    warm = plan("cold-start", idle_s=5.0)
    idle = plan("cold-start", idle_s=31.0)
    assert never.cold and idle.cold and not warm.cold
    assert never.ttft_s > warm.ttft_s + 2.5
    assert idle.ttft_s == pytest.approx(warm.ttft_s + 3.0)
    assert not plan("fast", idle_s=None).cold


def test_multi_token_chunks_carry_several_tokens_and_usage_counts_tokens():
    p = plan("multi-token", max_tokens=4000)
    sizes = [s.tokens for s in p.steps]
    assert all(3 <= k <= 8 for k in sizes[:-1]) and 1 <= sizes[-1] <= 8
    assert statistics.mean(sizes) > 3
    assert p.output_tokens == sum(sizes) > 2 * len(sizes)


def test_reasoning_comes_before_content():
    p = plan("reasoning", max_tokens=4000)
    kinds = [s.kind for s in p.steps]
    first_content = kinds.index(CONTENT)
    assert first_content > 10
    assert set(kinds[:first_content]) == {REASONING} and set(kinds[first_content:]) == {CONTENT}
    assert p.reasoning_tokens == sum(s.tokens for s in p.steps if s.kind == REASONING)
    assert p.output_tokens == sum(s.tokens for s in p.steps)
    off = plan("reasoning", max_tokens=4000, reasoning=False)
    assert off.reasoning_tokens == 0 and {s.kind for s in off.steps} == {CONTENT}


def test_hidden_reasoning_delays_the_first_visible_token():
    profile = dataclasses.replace(get_profile("reasoning"), hide_reasoning=True)
    hidden = plan(profile, max_tokens=4000)
    visible = plan(get_profile("reasoning"), max_tokens=4000)  # the same draws, streamed
    assert {s.kind for s in hidden.steps} == {CONTENT}
    assert hidden.reasoning_tokens == visible.reasoning_tokens > 0
    assert hidden.output_tokens == visible.output_tokens
    assert hidden.text == visible.text
    reasoning_time = sum(s.delay_s for s in visible.steps if s.kind == REASONING)
    first_content = next(s for s in visible.steps if s.kind == CONTENT)
    assert hidden.ttft_s == pytest.approx(reasoning_time + first_content.delay_s)
    assert hidden.ttft_s > visible.ttft_s + 0.5  # ~150 unseen tokens at ~90 tok/s
    # Asking for the thoughts streams them.
    asked = plan(profile, max_tokens=4000, reasoning=True)
    assert asked.reasoning_text and asked.steps[0].kind == REASONING


def test_max_tokens_is_respected():
    short = plan("fast", max_tokens=5)
    assert short.output_tokens == 5 == sum(s.tokens for s in short.steps)
    assert short.finish_reason == "length"
    chunky = plan("multi-token", max_tokens=10)
    assert chunky.output_tokens == 10 and chunky.finish_reason == "length"
    assert plan("fast", max_tokens=5000).finish_reason == "stop"
    eaten = plan("reasoning", max_tokens=20)  # reasoning uses the whole budget
    assert eaten.reasoning_tokens == 20 and eaten.text == "" and eaten.finish_reason == "length"
    with pytest.raises(ValueError):
        plan("fast", max_tokens=0)


# Work before the first byte and per step ---------------------------------------------

@pytest.mark.parametrize("max_tokens", [40, 8000])
def test_planning_generates_no_token_and_each_step_only_its_own(monkeypatch, max_tokens):
    made = count_tokens(monkeypatch)
    p = plan(calm("multi-token", answer_tokens=20_000, answer_sigma=0), max_tokens=max_tokens)
    assert made.n == 0
    assert (p.output_tokens, p.finish_reason, p.ttft_s) == (max_tokens, "length", p.first_delay_s)
    timeline = p.iter_timeline()
    first = next(timeline)
    assert isinstance(first, Step) and made.n == first.tokens <= 8
    second = next(timeline)
    assert made.n == first.tokens + second.tokens
    # Hidden reasoning goes by a chunk at a time too, as pauses.
    made.n = 0
    hidden = plan(calm("reasoning", hide_reasoning=True, reasoning_tokens=5000, reasoning_sigma=0),
                  max_tokens=max_tokens)
    assert made.n == 0 and hidden.known_ttft_s is None
    pause = next(hidden.iter_timeline())
    assert isinstance(pause, Pause) and made.n == pause.tokens == 1


@pytest.mark.parametrize("api", APIS)
def test_the_first_frames_cost_the_same_whatever_the_answer_length(monkeypatch, api):
    made = count_tokens(monkeypatch)
    profile = calm("fast", answer_tokens=20_000, answer_sigma=0)
    for max_tokens in (40, 8000):
        made.n = 0
        frames = encode_stream(api, plan(profile, max_tokens=max_tokens), model="demo")
        assert made.n == 0
        first = next(f for f in frames if f.kind)
        assert first.tokens == 1 and made.n <= 2  # its own token, and one looked ahead
        next(frames)
        assert made.n <= 3


# Wire bytes decode with infertui's own parsers ----------------------------------------

@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("name,max_tokens", [("fast", 4000), ("reasoning", 4000), ("multi-token", 4000),
                                             ("fast", 7), ("reasoning", 30), ("hidden", 4000),
                                             ("hidden", 30)])
def test_stream_decodes_to_the_plan(api, name, max_tokens):
    profile = calm("reasoning", hide_reasoning=True) if name == "hidden" else calm(name)
    p = plan(profile, max_tokens=max_tokens)
    frames = encode(api, p, include_usage=True)
    got = decode(api, [f.data for f in frames])
    assert got.text == p.text
    assert got.reasoning == p.reasoning_text
    assert got.finished and not got.failures
    assert got.finish == FINISH_NAMES[api][p.finish_reason]
    assert got.usage.output_tokens == p.output_tokens
    assert got.usage.input_tokens == p.input_tokens
    if api is Api.OPENAI:
        assert got.usage.reasoning_tokens == p.reasoning_tokens
    elif api is Api.GEMINI:  # thoughtsTokenCount is left out when there were none
        assert got.usage.reasoning_tokens == (p.reasoning_tokens or None)
    else:  # Anthropic does not report thinking tokens apart
        assert got.usage.reasoning_tokens is None
    # One step per frame: exactly the step frames carry text, each due when
    # the plan says (hidden reasoning passes as frames without bytes).
    steps = [f for f in frames if f.kind]
    assert [f.tokens for f in steps] == [s.tokens for s in p.steps]
    assert all(f.data for f in frames if f.kind)
    assert step_times(frames) == pytest.approx(list(itertools.accumulate(s.delay_s for s in p.steps)))
    assert sum(f.delay_s for f in frames) == pytest.approx(p.duration_s)


def test_openai_shape_role_chunk_first_usage_chunk_then_done():
    p = plan("fast", max_tokens=3)
    frames = encode(Api.OPENAI, p, include_usage=True)
    assert frames[0].kind is None and b'"delta":{"role":"assistant","content":""}' in frames[0].data
    assert b'"choices":[],"usage":{"prompt_tokens"' in frames[-2].data
    assert frames[-1].data == b"data: [DONE]\n\n"
    without = encode(Api.OPENAI, p, include_usage=False)
    assert not any(b'"usage"' in f.data for f in without)


def test_anthropic_shape_events_in_order():
    p = plan(calm("reasoning"), max_tokens=4000)
    data = b"".join(f.data for f in encode(Api.ANTHROPIC, p))
    names = re.findall(rb"^event: (\w+)$", data, re.M)
    compact = [n for i, n in enumerate(names) if i == 0 or n != names[i - 1]]
    assert compact == [b"message_start", b"ping", b"content_block_start", b"content_block_delta",
                       b"content_block_stop", b"content_block_start", b"content_block_delta",
                       b"content_block_stop", b"message_delta", b"message_stop"]
    assert b'"content_block":{"type":"thinking"' in data and b'"signature_delta"' in data


def test_gemini_shape_whole_responses_without_done():
    p = plan(calm("fast"), max_tokens=4000)
    frames = encode(Api.GEMINI, p)
    assert all(f.data.startswith(b"data: {\"candidates\"") and f.data.endswith(b"\r\n\r\n") for f in frames)
    assert b'"finishReason":"STOP"' in frames[-1].data and b"candidatesTokenCount" in frames[-1].data
    assert b"finishReason" not in frames[0].data and b"[DONE]" not in b"".join(f.data for f in frames)


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("name", ["fast", "multi-token"])
def test_broken_streams_decode_as_failures(api, name):
    for kind, field in (("error", "p_stream_error"), ("truncate", "p_truncate"), ("disconnect", "p_disconnect")):
        profile = dataclasses.replace(calm(name), **{field: 1.0})
        p = plan(profile, max_tokens=4000, n=2)
        assert p.failure.kind == kind and p.finish_reason is None
        frames = encode(api, p)
        got = decode(api, [f.data for f in frames])
        assert got.text == p.text and not got.finished and got.finish is None
        assert len(got.failures) == (1 if kind == "error" else 0)
        # No count arrives: Anthropic's message_start placeholder is not usage.
        assert got.usage.output_tokens is None
        # The break is the last frame, when the plan says.
        assert bool(frames[-1].data) is (kind == "error")
        assert sum(f.delay_s for f in frames) == pytest.approx(p.duration_s)


def test_a_break_is_decided_before_any_step_and_may_cut_a_chunk_short():
    profile = dataclasses.replace(calm("multi-token"), p_truncate=1.0)
    plans = [plan(profile, max_tokens=400, n=i) for i in range(60)]
    for p in plans:
        delivered = sum(s.tokens for s in p.steps)
        assert delivered == p.failure.after_tokens == p.output_tokens < p.visible_tokens
        assert p.reasoning_tokens == 0 and p.ttft_s == p.first_delay_s
    # A break inside a chunk delivers the tokens before it in a shorter chunk.
    assert any(p.steps and p.steps[-1].tokens < 3 for p in plans)
    # Hidden reasoning counts in full once anything was delivered.
    hidden = dataclasses.replace(calm("reasoning", hide_reasoning=True), p_disconnect=1.0)
    for i in range(30):
        p = plan(hidden, max_tokens=4000, n=i)
        delivered = sum(s.tokens for s in p.steps)
        assert {s.kind for s in p.steps} <= {CONTENT} and delivered == p.failure.after_tokens
        assert p.reasoning_tokens == (p.n_reasoning if delivered else 0)
        assert p.output_tokens == p.reasoning_tokens + delivered


# Built-in providers ------------------------------------------------------------------

def test_builtin_providers_and_models():
    providers = builtin_providers()
    assert [(p.name, p.api) for p in providers] == [
        ("sim-alpha", Api.OPENAI), ("sim-beta", Api.ANTHROPIC), ("sim-gamma", Api.GEMINI)]
    for p in providers:
        assert p.simulated and p.api_key_env is None and not p.needs_key()
        assert p.base_url == f"http://{p.name}.invalid/v1"
        assert sim_models(p.name) == [*DEMO_MODELS, *PROFILES]
        for model in sim_models(p.name):
            assert base_profile(p.name, model) is not None
    assert sim_models("mine") == list(PROFILES)
    assert base_profile("sim-alpha", "flaky") is PROFILES["flaky"]


def test_demo_models_behave_differently_per_provider():
    def median_ttft(provider, model):
        return statistics.median(
            plan(base_profile(provider, model), provider=provider, model=model, n=i).ttft_s or 0
            for i in range(101))
    assert median_ttft("sim-alpha", "demo-70b") < median_ttft("sim-alpha", "demo-8b") / 3
    assert median_ttft("sim-beta", "demo-8b") < median_ttft("sim-alpha", "demo-8b") / 3
    assert base_profile("sim-gamma", "demo-8b").error_rate > 0.1
    assert base_profile("sim-beta", "demo-70b").cold_start_ms > 1000
    assert base_profile("sim-gamma", "demo-70b").chunk_tokens_max > 1


def test_simulator_never_imports_textual_or_rich():
    done = import_without_ui("infertui.core.simulator")
    assert done.returncode == 0, done.stdout + done.stderr
