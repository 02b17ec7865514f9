"""The commented starter file `infertui config init` writes.

Prose lines start with `##`; example lines start with `# ` and form a valid
config when uncommented (a test checks that), so a user can switch on a block
by deleting the `# `.
"""

from __future__ import annotations

from infertui.store.presets import HOSTED, LOCAL


def _preset_lines() -> str:
    hosted = "\n".join(f"##   {p.name:<13} {p.api.value:<10} ${p.api_key_env}" for p in HOSTED)
    local = "\n".join(f"##   {p.name:<13} {p.base_url}" for p in LOCAL)
    return hosted + "\n##\n## Local servers, no key needed:\n##\n" + local


STARTER = f"""\
## infertui configuration. infertui reads this file and never writes it.
## Check it with: infertui config check
##
## Keys never go in this file. Every provider names the environment variable
## that holds its key; a built-in preset is switched on by exporting it:
##
##   export GROQ_API_KEY=...
##
## Built-in presets (name, wire format, key variable):
##
{_preset_lines()}
##
## Prose lines start with '##'. Lines that start with '# ' are examples:
## delete the '# ' to use them.

## What a probe uses when the command line does not say.
[defaults]
max_tokens = 256
repeat = 1
concurrency = 1
warmup = 0
# temperature = 0.0
# reasoning = false
# nonce = false
# timeouts = {{ connect = 10, headers = 120, stall = 60, total = 600 }}

## Override fields of a preset: same name, only the fields to change.
# [providers.together]
# price_input_per_mtok = 0.88
# price_output_per_mtok = 0.88
# max_concurrency = 8

## A provider of your own: api is openai, anthropic or gemini.
# [providers.mybox]
# api = "openai"
# base_url = "http://10.0.0.5:8000/v1"
# api_key_env = "MYBOX_API_KEY"
# headers = {{ "X-Team" = "bench" }}
# extra_body = {{ top_k = 40 }}
# timeouts = {{ total = 300 }}
# max_tokens_field = "max_tokens"
# reasoning_off = {{ chat_template_kwargs = {{ enable_thinking = false }} }}

## Same model, different names: start a comparison with `group:llama-3.3-70b`.
# [groups."llama-3.3-70b"]
# groq = "llama-3.3-70b-versatile"
# together = "meta-llama/Llama-3.3-70B-Instruct-Turbo"
# deepinfra = "meta-llama/Llama-3.3-70B-Instruct"
# cerebras = "llama-3.3-70b"

## Saved prompts.
# [prompts.haiku]
# text = "Write a haiku about tail latency."
# system = "You are terse."

## Saved comparisons (targets + prompt + parameters), repeated by name.
# [comparisons.llama]
# targets = ["group:llama-3.3-70b"]
# prompt = "haiku"
# max_tokens = 64
# temperature = 0.0
# repeat = 5
# warmup = 1
"""
