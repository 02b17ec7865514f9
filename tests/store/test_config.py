"""The user's config: presets, overrides, groups, saved comparisons, and
errors as `file:line: message`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from infertui.core.targets import Api, Timeouts
from infertui.store import paths
from infertui.store.config import builtin_config, load_config
from infertui.store.config_model import SavedComparison, SavedPrompt
from infertui.store.errors import ConfigError
from infertui.store.presets import LOCAL_PRESETS, PRESETS
from infertui.store.starter import STARTER
from infertui.store.state import forget, save_comparison, save_prompt, save_ui


def write_config(text: str) -> Path:
    path = paths.config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(text: str) -> tuple[Path, list[str]]:
    path = write_config(text)
    with pytest.raises(ConfigError) as info:
        load_config()
    return path, [str(p) for p in info.value.problems]


def test_no_config_file_means_presets_and_simulator_only():
    config = load_config()
    assert not config.exists
    assert config.path == paths.config_dir() / "config.toml"
    for name in ("openai", "anthropic", "gemini", "digitalocean", "together", "fireworks", "groq",
                 "deepinfra", "openrouter", "cerebras", "mistral", "deepseek", "ollama", "vllm",
                 "llamacpp", "lmstudio", "sglang"):
        assert config.providers[name] == PRESETS[name]
    assert any(p.simulated for p in config.providers.values())
    assert config.model_groups == {} and config.prompts == {} and config.comparisons == {}
    assert config.notices == []
    assert not paths.config_dir().exists(), "loading must not create directories"


def test_presets_name_format_url_and_key_variable():
    assert PRESETS["openai"].max_tokens_field == "max_completion_tokens"
    assert PRESETS["anthropic"].api is Api.ANTHROPIC
    assert PRESETS["gemini"].api is Api.GEMINI
    assert PRESETS["gemini"].api_key_env == "GEMINI_API_KEY"
    assert PRESETS["digitalocean"].base_url == "https://inference.do-ai.run/v1"
    assert PRESETS["groq"].base_url == "https://api.groq.com/openai/v1"
    assert PRESETS["openrouter"].reasoning_off == {"reasoning": {"enabled": False}}
    assert PRESETS["ollama"].base_url == "http://127.0.0.1:11434/v1"
    assert LOCAL_PRESETS == {"ollama", "vllm", "llamacpp", "lmstudio", "sglang"}
    for name, preset in PRESETS.items():
        assert preset.base_url.startswith(("https://", "http://127.0.0.1:"))
        assert (preset.api_key_env is None) == (name in LOCAL_PRESETS)


def test_a_preset_is_ready_once_its_key_is_exported():
    config = load_config()
    assert "groq" not in {p.name for p in config.ready_providers()}
    assert "ollama" in {p.name for p in config.ready_providers()}
    ready = config.ready_providers({"GROQ_API_KEY": "gsk_test"})
    assert "groq" in {p.name for p in ready}


def test_override_changes_only_the_fields_given():
    write_config("""
[defaults]
timeouts = { stall = 30 }

[providers.together]
price_input_per_mtok = 0.88
price_output_per_mtok = 0.9
max_concurrency = 4
timeouts = { total = 120 }
""")
    config = load_config()
    together = config.providers["together"]
    assert together.base_url == PRESETS["together"].base_url
    assert together.api_key_env == "TOGETHER_API_KEY"
    assert (together.price_input_per_mtok, together.price_output_per_mtok) == (0.88, 0.9)
    assert together.max_concurrency == 4
    assert together.timeouts == Timeouts(connect=10.0, headers=120.0, stall=30.0, total=120.0)
    # [defaults] timeouts reach every provider, presets included
    assert config.providers["groq"].timeouts.stall == 30.0
    assert config.user_providers == {"together"}


def test_user_defined_provider_with_every_field():
    write_config("""
[providers.mybox]
api = "anthropic"
base_url = "http://10.0.0.5:8000/v1/"
api_key_env = "MYBOX_KEY"
headers = { "X-Team" = "bench" }
extra_body = { top_k = 40, metadata = { run = "a" } }
timeouts = { connect = 2, headers = 30, stall = 10, total = 90 }
max_concurrency = 2
price_input_per_mtok = 1.5
price_output_per_mtok = 6
max_tokens_field = "max_completion_tokens"
reasoning_on = { thinking = { type = "enabled", budget_tokens = 1024 } }
reasoning_off = { thinking = { type = "disabled" } }
description = "the lab box"
""")
    box = load_config().providers["mybox"]
    assert box.api is Api.ANTHROPIC
    assert box.base_url == "http://10.0.0.5:8000/v1"
    assert box.api_key_env == "MYBOX_KEY"
    assert box.headers == {"X-Team": "bench"}
    assert box.extra_body == {"top_k": 40, "metadata": {"run": "a"}}
    assert box.timeouts == Timeouts(2.0, 30.0, 10.0, 90.0)
    assert box.max_concurrency == 2
    assert (box.price_input_per_mtok, box.price_output_per_mtok) == (1.5, 6.0)
    assert box.max_tokens_field == "max_completion_tokens"
    assert box.reasoning_on == {"thinking": {"type": "enabled", "budget_tokens": 1024}}
    assert box.reasoning_off == {"thinking": {"type": "disabled"}}
    assert box.description == "the lab box"


def test_empty_api_key_env_means_no_key():
    write_config('[providers.openrouter]\napi_key_env = ""\n')
    assert load_config().providers["openrouter"].needs_key() is False


def test_syntax_error_gives_file_and_line():
    path, problems = problems_of('[defaults]\nrepeat = 3\nmax_tokens = = 5\n')
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}:3: invalid TOML: ")
    assert "column" in problems[0]


def test_unknown_keys_are_errors_at_their_line_with_a_suggestion():
    path, problems = problems_of("""# my config
[providers.mybox]
api = "openai"
base_ur = "http://10.0.0.5/v1"

[defualts]
""")
    assert problems == [
        f"{path}:2: [providers.mybox] needs 'base_url'",
        f"{path}:4: unknown key 'base_ur' in [providers.mybox] (did you mean 'base_url'?)",
        f"{path}:6: unknown key 'defualts' in the top level (did you mean 'defaults'?)",
    ]


def test_bad_type_and_bad_values():
    path, problems = problems_of("""[defaults]
repeat = "3"
warmup = -1

[providers.groq]
max_concurrency = 0
api = "opnai"
base_url = "api.groq.com"
""")
    assert problems == [
        f"{path}:2: defaults.repeat must be an integer, not a string ('3')",
        f"{path}:3: defaults.warmup must be at least 0, not -1",
        f"{path}:6: providers.groq.max_concurrency must be at least 1, not 0",
        f"{path}:7: api must be one of openai, anthropic, gemini, not 'opnai' "
        "(did you mean 'openai'?)",
        f"{path}:8: base_url must start with http:// or https://, not 'api.groq.com'",
    ]


def test_a_literal_key_is_refused_wherever_it_is_put():
    path, problems = problems_of("""[providers.groq]
api_key = "gsk_live_123"

[providers.mybox]
api = "openai"
base_url = "http://127.0.0.1:9000/v1"
headers = { Authorization = "Bearer sk-live" }
api_key_env = "sk-live-abcdef"
""")
    assert problems[0].startswith(f"{path}:2: 'api_key' in [providers.groq]: infertui never")
    assert "api_key_env" in problems[0]
    assert problems[1].startswith(f"{path}:7: header 'Authorization' would carry a key")
    assert problems[2].startswith(f"{path}:8: api_key_env names the environment variable")
    assert not any("gsk_live_123" in p or "sk-live" in p for p in problems)


def test_unknown_provider_in_a_group():
    path, problems = problems_of("""[groups."llama-3.3-70b"]
groq = "llama-3.3-70b-versatile"
togther = "meta-llama/Llama-3.3-70B-Instruct-Turbo"
""")
    assert problems == [f"{path}:3: unknown provider 'togther' in [groups.\"llama-3.3-70b\"] "
                        "(did you mean 'together'?)"]


def test_groups_and_targets_resolve():
    write_config("""[groups."llama-3.3-70b"]
groq = "llama-3.3-70b-versatile"
together = "meta-llama/Llama-3.3-70B-Instruct-Turbo"
""")
    config = load_config()
    by_prefix = config.resolve_targets(["group:llama-3.3-70b"])
    assert [t.label for t in by_prefix] == ["groq/llama-3.3-70b-versatile",
                                            "together/meta-llama/Llama-3.3-70B-Instruct-Turbo"]
    assert config.resolve_targets(["llama-3.3-70b"]) == by_prefix
    mixed = config.resolve_targets(["openrouter/meta-llama/llama-3.3-70b-instruct",
                                    "groq/llama-3.3-70b-versatile", "llama-3.3-70b"])
    assert [t.label for t in mixed] == ["openrouter/meta-llama/llama-3.3-70b-instruct",
                                        "groq/llama-3.3-70b-versatile",
                                        "together/meta-llama/Llama-3.3-70B-Instruct-Turbo"]
    assert mixed[0].model == "meta-llama/llama-3.3-70b-instruct"
    with pytest.raises(ConfigError, match=r"unknown provider 'grok' \(did you mean 'groq'\?\)"):
        config.resolve_targets(["grok/llama"])
    with pytest.raises(ConfigError, match="unknown model group 'qwen'"):
        config.resolve_targets(["group:qwen"])
    with pytest.raises(ConfigError, match="'groq' is a provider: add /MODEL"):
        config.resolve_targets(["groq"])
    assert config.missing_keys(by_prefix, {"GROQ_API_KEY": "x"})[0].provider.name == "together"


def test_saved_comparison_resolves_with_defaults_filled_in():
    write_config("""[defaults]
max_tokens = 64
concurrency = 2

[groups.small]
groq = "llama-3.1-8b-instant"

[prompts.haiku]
text = "Write a haiku about latency."
system = "Be terse."

[comparisons.quick]
targets = ["group:small", "sim-alpha/demo-70b"]
prompt = "haiku"
repeat = 5
temperature = 0
reasoning = false

[comparisons.inline]
targets = ["ollama/llama3.2"]
prompt_text = "Say hi."
""")
    config = load_config()
    quick = config.resolve_comparison("quick")
    assert [t.label for t in quick.targets] == ["groq/llama-3.1-8b-instant", "sim-alpha/demo-70b"]
    assert quick.params.prompt == "Write a haiku about latency."
    assert quick.params.system == "Be terse."
    assert (quick.params.max_tokens, quick.params.temperature, quick.params.reasoning) == \
        (64, 0.0, False)
    assert (quick.settings.repeat, quick.settings.concurrency) == (5, 2)
    inline = config.resolve_comparison("inline")
    assert inline.params.prompt == "Say hi." and inline.params.temperature is None
    with pytest.raises(ConfigError, match=r"no saved comparison 'quik' \(did you mean 'quick'"):
        config.resolve_comparison("quik")


def test_comparison_problems_point_at_their_lines():
    path, problems = problems_of("""[comparisons.a]
targets = ["nope/model"]
prompt = "missing"

[comparisons.b]
targets = ["groq/x"]
prompt = "p"
prompt_text = "q"
""")
    assert problems == [
        f"{path}:2: [comparisons.a] targets: unknown provider 'nope'; see `infertui config check`",
        f"{path}:3: [comparisons.a] prompt 'missing' is not a saved prompt",
        f"{path}:5: [comparisons.b] needs exactly one of 'prompt' (the name of a saved prompt) "
        "or 'prompt_text' (the prompt itself)",
    ]


def test_explicit_config_path_must_exist(tmp_path):
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as info:
        load_config(missing)
    assert str(info.value).startswith(f"{missing}: no such config file")


def test_app_state_goes_to_its_own_file_and_never_touches_the_users(tmp_path):
    user_text = ("# my precious comments\n[prompts.mine]\ntext = \"mine\"  # keep me\n\n"
                 "[groups.g]\ngroq = \"llama-3.1-8b-instant\"\n")
    path = write_config(user_text)
    before = path.read_bytes(), os.stat(path).st_mtime_ns
    config = load_config()
    save_prompt(config, SavedPrompt("haiku", "Write a haiku.", "Be terse."))
    save_comparison(config, SavedComparison("cmp", targets=("group:g",), prompt_name="haiku",
                                            repeat=3))
    save_ui(config, {"theme": "dark", "panes": 3})
    assert (path.read_bytes(), os.stat(path).st_mtime_ns) == before
    state_text = config.state_path.read_text()
    assert config.state_path.parent == path.parent and config.state_path.name == "state.toml"
    assert state_text.startswith("# Written by infertui")
    assert '[prompts.haiku]\ntext = "Write a haiku."' in state_text
    again = load_config()
    assert again.prompts["haiku"] == SavedPrompt("haiku", "Write a haiku.", "Be terse.", "state")
    assert again.prompts["mine"].source == "config"
    assert again.resolve_comparison("cmp").settings.repeat == 3
    assert again.ui == {"theme": "dark", "panes": 3}
    assert forget(again, "comparisons", "cmp") is True
    assert "cmp" not in load_config().comparisons
    with pytest.raises(ConfigError, match="defined in your config file"):
        save_prompt(again, SavedPrompt("mine", "other"))
    with pytest.raises(ConfigError, match="unknown provider"):
        save_comparison(again, SavedComparison("bad", targets=("nope/x",), prompt_text="x"))


def test_state_never_receives_a_key(monkeypatch):
    monkeypatch.setenv("GROQ_API_KEY", "gsk_secret_value_123")
    config = load_config()
    with pytest.raises(ConfigError, match=r"would contain the value of \$GROQ_API_KEY"):
        save_prompt(config, SavedPrompt("leak", "my key is gsk_secret_value_123"))
    assert not config.state_path.exists()


def test_broken_state_is_a_notice_and_moved_aside_before_a_save():
    state = paths.state_file()
    state.parent.mkdir(parents=True)
    state.write_text("[prompts.x\n")
    config = load_config()
    assert len(config.notices) == 1 and config.notices[0].startswith(f"{state}:1: invalid TOML")
    save_prompt(config, SavedPrompt("y", "why"))
    assert [p.name for p in state.parent.glob("state.toml.broken-*")]
    assert load_config().prompts["y"].text == "why"


def test_state_entries_that_no_longer_resolve_are_notices():
    state = paths.state_file()
    state.parent.mkdir(parents=True)
    state.write_text('[comparisons.old]\ntargets = ["gone/model"]\nprompt_text = "x"\n')
    config = load_config()
    assert "old" not in config.comparisons
    assert config.notices == [f"{state}:2: [comparisons.old] targets: unknown provider 'gone'; "
                              "see `infertui config check`"]


def test_starter_file_is_valid_and_so_are_its_examples():
    write_config(STARTER)
    assert load_config().defaults.max_tokens == 256
    uncommented = "\n".join(line[2:] if line.startswith("# ") else line
                            for line in STARTER.splitlines())
    write_config(uncommented)
    config = load_config()
    assert "mybox" in config.providers and "llama-3.3-70b" in config.model_groups
    assert config.resolve_comparison("llama").params.max_tokens == 64


def test_builtin_config_is_what_an_empty_config_gives():
    write_config("[defaults]\nrepeat = oops\n")
    fallback = builtin_config()
    assert fallback.providers == load_config(write_config("")).providers
    assert fallback.model_groups == {} and fallback.notices == []
