"""Keys never live in the config: not in a base_url, a header or a request
body, by name or by look. api_key_header sends the key from api_key_env in
the header a provider wants instead."""

from __future__ import annotations

from pathlib import Path

import pytest

from infertui.core.targets import Api, ProbeParams, Provider, Target
from infertui.core.wire import anthropic, gemini, openai
from infertui.store import paths
from infertui.store.config import load_config
from infertui.store.errors import ConfigError
from infertui.store.keylike import looks_like_key, secret_name

SECRET = "sk-proj-Zx81QpLr0aT3BlbkFJ9kq2WmN7vY"
NO_KEY = ("infertui never reads or writes keys in files: put the key in an environment variable "
          "and name it with api_key_env = \"NAME\"")
HEADER_HINT = ("; to send it in another header: api_key_header = \"NAME\" (with api_key_prefix "
               "= \"Bearer \" if it needs one)")


def problems_of(text: str) -> tuple[Path, list[str]]:
    path = paths.config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config()
    problems = [str(p) for p in info.value.problems]
    assert not any(SECRET in p for p in problems)
    return path, problems


BOX = '[providers.box]\napi = "openai"\n'


@pytest.mark.parametrize("url, what", [
    (f"https://bob:{SECRET}@llm.example/v1", "a user name or password (user:pass@)"),
    (f"https://{SECRET}@llm.example/v1", "a user name or password (user:pass@)"),
    (f"https://llm.example/v1?key={SECRET}", "a query string"),
    ("https://llm.example/v1?api-version=2024-10-21", "a query string"),
])
def test_a_base_url_that_could_carry_a_key_is_refused(url, what):
    path, problems = problems_of(f'{BOX}base_url = "{url}"\n')
    assert problems == [f"{path}:3: base_url has {what}, where a key could hide: {NO_KEY}"
                        f"{HEADER_HINT}"]


@pytest.mark.parametrize("header, value, why", [
    ("X-Api-Key", "anything", "its name says so"),
    ("x-goog-api-key", "anything", "its name says so"),
    ("X-Auth-Token", "t", "its name says so"),
    ("Cookie", "session=1", "its name says so"),
    ("X-Amz-Signature", "s", "its name says so"),
    ("X-Client-Secret", "s", "its name says so"),
    ("apiKey", "k", "its name says so"),
    ("X-Team", SECRET, "it starts like a provider's key"),
    ("X-Team", "Bearer abcdefgh12345678", "it is an HTTP credential (an auth scheme and a token)"),
    ("X-Routing", "gsk_AbCdEf0123456789AbCdEfGh", "it starts like a provider's key"),
    ("X-Routing", "AIzaSyA1234567890abcdefghijklmnop", "it starts like a provider's key"),
    ("X-Routing", "Zx81QpLr0aT3BlbkFJ9kq2WmN7vYb", "it is a long random token"),
    ("X-Routing", "0123456789abcdef0123456789abcdef", "it is a long random token"),
])
def test_a_header_that_holds_a_secret_is_refused(header, value, why):
    path, problems = problems_of(f'{BOX}base_url = "http://127.0.0.1:9/v1"\n'
                                 f'headers = {{ "{header}" = "{value}" }}\n')
    assert problems == [f"{path}:4: header {header!r} would carry a key ({why}): {NO_KEY}"
                        f"{HEADER_HINT}"]


@pytest.mark.parametrize("body, field, why", [
    ('{ api_key = "x" }', "extra_body.api_key", "its name says so"),
    ('{ auth = { token = "x" } }', "extra_body.auth", "its name says so"),
    ('{ metadata = { password = "x" } }', "extra_body.metadata.password", "its name says so"),
    (f'{{ user = "{SECRET}" }}', "extra_body.user", "it starts like a provider's key"),
    (f'{{ tags = ["a", "{SECRET}"] }}', "extra_body.tags", "it starts like a provider's key"),
])
def test_a_body_field_that_holds_a_secret_is_refused(body, field, why):
    path, problems = problems_of(f'{BOX}base_url = "http://127.0.0.1:9/v1"\n'
                                 f'extra_body = {body}\n')
    assert problems == [f"{path}:4: providers.box.{field} would carry a key ({why}): {NO_KEY}"]


def test_ordinary_headers_and_bodies_still_load():
    path = paths.config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(BOX + '''base_url = "http://127.0.0.1:9/v1"
headers = { "X-Team" = "bench", "OpenAI-Organization" = "org-AbCdEfGh12345678IjKlMnOp", "OpenAI-Project" = "proj_AbCdEf1234567890GhIjKlMn", "anthropic-beta" = "interleaved-thinking-2025-05-14", "X-Request-Id" = "123e4567-e89b-12d3-a456-426614174000" }
extra_body = { top_k = 40, max_tokens = 9, stop_token_ids = [1, 2], prompt_cache_key = "bench-1", chat_template_kwargs = { enable_thinking = false }, model = "meta-llama/Llama-3.3-70B-Instruct-Turbo" }
''')
    box = load_config().providers["box"]
    assert box.headers["X-Team"] == "bench" and box.extra_body["top_k"] == 40


def test_api_key_header_sends_the_key_where_the_provider_wants_it():
    path = paths.config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('''[providers.gateway]
api = "openai"
base_url = "https://gateway.example/v1"
api_key_env = "GATEWAY_KEY"
api_key_header = "X-Gateway-Key"

[providers.azure]
api = "openai"
base_url = "https://azure.example/openai/deployments/x"
api_key_env = "AZURE_KEY"
api_key_header = "Authorization"
api_key_prefix = "Token "

[providers.anthropic]
api_key_header = "Authorization"
api_key_prefix = "Bearer "
''')
    config = load_config()
    params = ProbeParams("hi")
    gateway, azure = config.providers["gateway"], config.providers["azure"]
    assert (gateway.api_key_header, gateway.api_key_prefix) == ("X-Gateway-Key", "")
    request = openai.FORMAT.build_request(Target(gateway, "m"), params, "k-123", "hi")
    assert request.headers["X-Gateway-Key"] == "k-123" and "authorization" not in request.headers
    request = openai.FORMAT.models_request(azure, "k-123")
    assert request.headers["Authorization"] == "Token k-123"
    claude = config.providers["anthropic"]
    request = anthropic.FORMAT.build_request(Target(claude, "c"), params, "k-9", "hi")
    assert request.headers["Authorization"] == "Bearer k-9" and "x-api-key" not in request.headers
    # Without it, each format's own header, as before.
    plain = Provider("g", Api.GEMINI, "https://g.example/v1beta", api_key_env="G")
    assert gemini.FORMAT.build_request(Target(plain, "m"), params, "k-1", "hi").headers[
        "x-goog-api-key"] == "k-1"
    keyed = Provider("g", Api.GEMINI, "https://g.example/v1beta", api_key_env="G",
                     api_key_header="X-Key")
    assert gemini.FORMAT.models_request(keyed, "k-1").headers["X-Key"] == "k-1"


@pytest.mark.parametrize("fields, problem", [
    ('api_key_header = "X-Key"\n', "3: api_key_header needs api_key_env = \"NAME\", the "
                                   "variable holding the key"),
    ('api_key_env = "K"\napi_key_header = "X Key"\n', "4: api_key_header 'X Key' is not an "
                                                      "HTTP header name"),
    ('api_key_env = "K"\napi_key_prefix = "Bearer "\n', "4: api_key_prefix goes with "
                                                        "api_key_header"),
    (f'api_key_env = "K"\napi_key_header = "A"\napi_key_prefix = "{SECRET} "\n',
     f"5: api_key_prefix would carry a key: {NO_KEY}"),
])
def test_api_key_header_mistakes_are_file_and_line(fields, problem):
    path, problems = problems_of(f'[providers.box]\napi = "openai"\n{fields}'
                                 'base_url = "http://127.0.0.1:9/v1"\n')
    assert len(problems) == 1 and problems[0].startswith(f"{path}:{problem}")


def test_name_rules_do_not_refuse_token_counts():
    for name in ("max_tokens", "max_completion_tokens", "budget_tokens", "stop_token_ids",
                 "prompt_cache_key", "Idempotency-Key", "X-Author", "monkey"):
        assert not secret_name(name), name
    for value in ("meta-llama/Llama-3.3-70B-Instruct-Turbo", "application/json",
                  "my-team-name-for-benchmarks-2025", "2023-06-01", "sk-team"):
        assert looks_like_key(value) is None, value
