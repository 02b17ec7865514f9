"""The built-in simulated providers: the zero-setup demo.

Three providers, one per wire format, serve the same three demo models, each
in its own way, so a first comparison already shows why measuring matters:

    model           sim-alpha (openai)          sim-beta (anthropic)          sim-gamma (gemini)
    demo-70b        fast: ~140 ms TTFT,         cold starts: +2.5 s after     3-10 tokens per chunk at
                    ~95 tok/s, steady           20 s idle, ~260 ms warm       ~160 tok/s, ~420 ms TTFT,
                                                                              rare 1.5 s stalls
    demo-8b         slow and jittery: ~650 ms,  fast: ~90 ms TTFT,            flaky: 10% HTTP 429, 5% 500,
                    ~45 tok/s, stalls           ~220 tok/s                    3% stream errors, 2% cut
    demo-reasoner   ~110 reasoning tokens       thinking block then text,     hidden thoughts: visible
                    (reasoning_content) first   2% overloaded mid-stream      text only after ~120 unseen
                                                                              reasoning tokens (shown with
                                                                              includeThoughts)

Every provider also serves each named profile as a model of that name
(`sim-alpha/fast`, `sim-beta/flaky`, `sim-gamma/multi-token`, ...), behaving
exactly as the profile says. A simulated provider with any other name (a
user's own, or `sim`, the simulator server's bare `/v1`) serves the profile
models only.

The base URLs end in `.invalid`, a name that can never resolve: these
providers are served in-process by `SimTransport` and never touch a network.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from infertui.core.simulator.profiles import PROFILES, SimProfile
from infertui.core.targets import Api, Provider

GENERIC_PROVIDER = "sim"
DEMO_MODELS = ("demo-70b", "demo-8b", "demo-reasoner")


def _like(base: str, **changes: Any) -> SimProfile:
    return dataclasses.replace(PROFILES[base], **changes)


_DEMO: dict[str, dict[str, SimProfile]] = {
    "sim-alpha": {
        "demo-70b": _like("fast", ttft_ms=140, ttft_sigma=0.15, tokens_per_s=95),
        "demo-8b": _like("jittery", ttft_ms=650, ttft_sigma=0.45, tokens_per_s=45, gap_sigma=0.5,
                         stall_prob=0.01, stall_ms=600),
        "demo-reasoner": _like("reasoning", ttft_ms=350, tokens_per_s=75, reasoning_tokens=110),
    },
    "sim-beta": {
        "demo-70b": _like("cold-start", ttft_ms=260, cold_start_ms=2500, cold_idle_s=20,
                          tokens_per_s=70),
        "demo-8b": _like("fast", ttft_ms=90, tokens_per_s=220),
        "demo-reasoner": _like("reasoning", ttft_ms=400, tokens_per_s=60, reasoning_tokens=130,
                               p_stream_error=0.02),
    },
    "sim-gamma": {
        "demo-70b": _like("multi-token", ttft_ms=420, ttft_sigma=0.35, tokens_per_s=160,
                          chunk_tokens_min=3, chunk_tokens_max=10, stall_prob=0.01, stall_ms=1500),
        "demo-8b": _like("flaky", ttft_ms=180, tokens_per_s=130, p_429=0.10, p_500=0.05,
                         p_stream_error=0.03, p_truncate=0.02, p_disconnect=0.0),
        "demo-reasoner": _like("reasoning", ttft_ms=300, tokens_per_s=140, reasoning_tokens=120,
                               hide_reasoning=True, chunk_tokens_min=2, chunk_tokens_max=6),
    },
}

_APIS = {"sim-alpha": Api.OPENAI, "sim-beta": Api.ANTHROPIC, "sim-gamma": Api.GEMINI}
_DESCRIPTIONS = {
    "sim-alpha": "simulated, OpenAI wire: quick on demo-70b, slow and jittery on demo-8b",
    "sim-beta": "simulated, Anthropic wire: cold starts on demo-70b, fastest on demo-8b",
    "sim-gamma": "simulated, Gemini wire: multi-token chunks, flaky demo-8b, hidden thoughts",
}


def demo_provider_names() -> list[str]:
    return list(_DEMO)


# The reasoning switches each format's servers understand (the simulator reads
# them all): vLLM/SGLang chat-template kwargs, Anthropic's thinking type;
# Gemini's defaults (includeThoughts, thinkingBudget 0) need nothing extra.
_REASONING_SWITCHES: dict[str, tuple[dict | None, dict | None]] = {
    "sim-alpha": ({"chat_template_kwargs": {"enable_thinking": True}},
                  {"chat_template_kwargs": {"enable_thinking": False}}),
    "sim-beta": (None, {"thinking": {"type": "disabled"}}),
    "sim-gamma": (None, None),
}


def builtin_providers() -> list[Provider]:
    return [
        Provider(name=name, api=_APIS[name], base_url=f"http://{name}.invalid/v1",
                 api_key_env=None, simulated=True, description=_DESCRIPTIONS[name],
                 reasoning_on=_REASONING_SWITCHES[name][0],
                 reasoning_off=_REASONING_SWITCHES[name][1])
        for name in _DEMO
    ]


def provider_api(provider_name: str) -> Api | None:
    """The wire format a built-in provider is meant to be spoken to in (every
    simulated provider answers all three)."""
    return _APIS.get(provider_name)


def sim_models(provider_name: str) -> list[str]:
    """The models a simulated provider serves: its demo models, then one per
    profile."""
    return [*_DEMO.get(provider_name, {}), *PROFILES]


def base_profile(provider_name: str, model: str) -> SimProfile | None:
    """The profile behind PROVIDER/MODEL before any user override; None for a
    model the provider does not serve."""
    demo = _DEMO.get(provider_name, {})
    if model in demo:
        return demo[model]
    return PROFILES.get(model)
