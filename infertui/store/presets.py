"""Built-in provider presets: a user switches one on by exporting its key.

Each preset names the wire format, the base URL and the environment variable
that holds the key (the key itself never appears in infertui's files). Local
servers need no key and listen on their usual loopback ports; the TUI probes
`LOCAL_PRESETS` to find the ones that are running.

Reasoning switches are set only where the provider documents one that works
for every model it serves; otherwise they stay None and the wire format's
default applies (Anthropic and Gemini have a format-level switch already).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Mapping

from infertui.core.targets import Api, Provider

_QWEN_STYLE_OFF: Mapping[str, Any] = {"chat_template_kwargs": {"enable_thinking": False}}
_QWEN_STYLE_ON: Mapping[str, Any] = {"chat_template_kwargs": {"enable_thinking": True}}


def _hosted(name: str, base_url: str, key_env: str, description: str,
            api: Api = Api.OPENAI, **extra: Any) -> Provider:
    return Provider(name=name, api=api, base_url=base_url, api_key_env=key_env,
                    description=description, **extra)


def _local(name: str, port: int, description: str, **extra: Any) -> Provider:
    # Local servers run one or a few requests at a time; a high client-side
    # concurrency would only measure their queue.
    return Provider(name=name, api=Api.OPENAI, base_url=f"http://127.0.0.1:{port}/v1",
                    api_key_env=None, description=description, max_concurrency=4, **extra)


HOSTED: tuple[Provider, ...] = (
    _hosted("openai", "https://api.openai.com/v1", "OPENAI_API_KEY", "OpenAI",
            max_tokens_field="max_completion_tokens"),
    _hosted("anthropic", "https://api.anthropic.com/v1", "ANTHROPIC_API_KEY", "Anthropic",
            api=Api.ANTHROPIC),
    _hosted("gemini", "https://generativelanguage.googleapis.com/v1beta", "GEMINI_API_KEY",
            "Google Gemini API", api=Api.GEMINI),
    # The Gradient SDK reads GRADIENT_MODEL_ACCESS_KEY; DigitalOcean's docs
    # call the same secret a "model access key".
    _hosted("digitalocean", "https://inference.do-ai.run/v1", "GRADIENT_MODEL_ACCESS_KEY",
            "DigitalOcean Serverless Inference"),
    _hosted("together", "https://api.together.xyz/v1", "TOGETHER_API_KEY", "Together AI"),
    _hosted("fireworks", "https://api.fireworks.ai/inference/v1", "FIREWORKS_API_KEY",
            "Fireworks AI"),
    _hosted("groq", "https://api.groq.com/openai/v1", "GROQ_API_KEY", "Groq"),
    _hosted("deepinfra", "https://api.deepinfra.com/v1/openai", "DEEPINFRA_API_KEY", "DeepInfra"),
    _hosted("openrouter", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY", "OpenRouter",
            reasoning_on={"reasoning": {"enabled": True}},
            reasoning_off={"reasoning": {"enabled": False}}),
    _hosted("cerebras", "https://api.cerebras.ai/v1", "CEREBRAS_API_KEY", "Cerebras"),
    _hosted("mistral", "https://api.mistral.ai/v1", "MISTRAL_API_KEY", "Mistral AI"),
    _hosted("deepseek", "https://api.deepseek.com/v1", "DEEPSEEK_API_KEY", "DeepSeek",
            reasoning_on={"thinking": {"type": "enabled"}},
            reasoning_off={"thinking": {"type": "disabled"}}),
)

LOCAL: tuple[Provider, ...] = (
    _local("ollama", 11434, "Ollama (local)"),
    _local("vllm", 8000, "vLLM server (local)",
           reasoning_on=_QWEN_STYLE_ON, reasoning_off=_QWEN_STYLE_OFF),
    _local("llamacpp", 8080, "llama.cpp server (local)",
           reasoning_on=_QWEN_STYLE_ON, reasoning_off=_QWEN_STYLE_OFF),
    _local("lmstudio", 1234, "LM Studio (local)"),
    _local("sglang", 30000, "SGLang server (local)",
           reasoning_on=_QWEN_STYLE_ON, reasoning_off=_QWEN_STYLE_OFF),
)

LOCAL_PRESETS: frozenset[str] = frozenset(p.name for p in LOCAL)

# Read-only: presets are shared values, a user's overrides make new Providers.
PRESETS: Mapping[str, Provider] = MappingProxyType({p.name: p for p in HOSTED + LOCAL})


def is_local(provider: Provider) -> bool:
    """A provider on this machine: a local preset, or any loopback base URL."""
    if provider.name in LOCAL_PRESETS:
        return True
    host = provider.base_url.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
    return host in {"127.0.0.1", "localhost", "[::1]", "::1"}
