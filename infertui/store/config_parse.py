"""Turn the tables of a parsed config (or state) file into checked values.

Each parser takes a `Checker`, reads one section, records every problem with
its line, and returns only the items that passed. `load_config` decides
whether problems are fatal (the user's file) or notices (the app's state).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, Mapping

from infertui.core.targets import Api, Provider, Timeouts
from infertui.store.checker import Checker, dotted, suggest
from infertui.store.config_model import Defaults, SavedComparison, SavedPrompt
from infertui.store.keylike import looks_like_key, secret_name, url_secret

TOP_LEVEL_KEYS = ("defaults", "providers", "groups", "prompts", "comparisons", "campaigns")
STATE_KEYS = ("prompts", "comparisons", "ui")

PROVIDER_KEYS = (
    "api", "base_url", "api_key_env", "api_key_header", "api_key_prefix", "headers",
    "extra_body", "timeouts", "max_concurrency",
    "price_input_per_mtok", "price_output_per_mtok", "max_tokens_field", "reasoning_on",
    "reasoning_off", "description",
)
TIMEOUT_KEYS = ("connect", "headers", "stall", "total")
DEFAULT_KEYS = ("max_tokens", "temperature", "reasoning", "repeat", "concurrency", "warmup",
                "nonce", "timeouts")
PROMPT_KEYS = ("text", "system")
COMPARISON_KEYS = ("targets", "prompt", "prompt_text", "system", "max_tokens", "temperature",
                   "reasoning", "repeat", "concurrency", "warmup", "nonce")

# Keys people reach for when they paste a key into a file; infertui refuses them.
SECRET_KEYS = frozenset({"api_key", "apikey", "key", "api_token", "token", "secret",
                         "password", "access_key", "model_access_key"})
NO_KEY_IN_FILES = ("infertui never reads or writes keys in files: put the key in an environment "
                   "variable and name it with api_key_env = \"NAME\"")
KEY_HEADER_HINT = ("; to send it in another header: api_key_header = \"NAME\" (with "
                   "api_key_prefix = \"Bearer \" if it needs one)")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PROVIDER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def _timeouts(ck: Checker, value: Any, keypath: tuple[str, ...]) -> dict[str, float]:
    table = ck.table(value, keypath)
    if table is None:
        return {}
    ck.only(table, keypath, TIMEOUT_KEYS)
    out: dict[str, float] = {}
    for key in TIMEOUT_KEYS:
        seconds = ck.get(table, key, keypath, "number")
        if seconds is None:
            continue
        if seconds <= 0:
            ck.error(keypath + (key,), f"{dotted(keypath + (key,))} must be more than 0 seconds")
            continue
        out[key] = seconds
    return out


def parse_defaults(ck: Checker, value: Any) -> tuple[Defaults, dict[str, float]]:
    """The defaults, and the timeout fields the user set (applied to every provider)."""
    keypath = ("defaults",)
    table = ck.table(value, keypath) if value is not None else {}
    if table is None:
        return Defaults(), {}
    ck.only(table, keypath, DEFAULT_KEYS)
    fields: dict[str, Any] = {}
    for key, kind, minimum in (("max_tokens", "int", 1), ("temperature", "number", 0),
                               ("reasoning", "bool", None), ("repeat", "int", 1),
                               ("concurrency", "int", 1), ("warmup", "int", 0),
                               ("nonce", "bool", None)):
        got = ck.get(table, key, keypath, kind, minimum=minimum)
        if got is not None:
            fields[key] = got
    timeout_fields = _timeouts(ck, table["timeouts"], keypath + ("timeouts",)) \
        if "timeouts" in table else {}
    fields["timeouts"] = Timeouts(**timeout_fields)
    return Defaults(**fields), timeout_fields


def _string_table(ck: Checker, value: Any, keypath: tuple[str, ...]) -> dict[str, str] | None:
    table = ck.table(value, keypath)
    if table is None:
        return None
    good = True
    for key, item in table.items():
        if not isinstance(item, str):
            ck.error(keypath + (key,), f"{dotted(keypath + (key,))} must be a string")
            good = False
    return dict(table) if good else None


def _key_header(ck: Checker, table: Mapping[str, Any], keypath: tuple[str, ...],
                fields: dict[str, Any], base: Provider | None) -> None:
    """api_key_header / api_key_prefix: the key from api_key_env, sent in a
    header the provider wants instead of the format's own."""
    header = ck.get(table, "api_key_header", keypath, "str")
    if header is not None:
        if not _HEADER_NAME.fullmatch(header):
            ck.error(keypath + ("api_key_header",), f"api_key_header {header!r} is not an HTTP "
                                                    "header name")
        else:
            fields["api_key_header"] = header
            env = fields.get("api_key_env", base.api_key_env if base else None)
            if not env:
                ck.error(keypath + ("api_key_header",), "api_key_header needs api_key_env = "
                                                        "\"NAME\", the variable holding the key")
    prefix = ck.get(table, "api_key_prefix", keypath, "str")
    if prefix is not None:
        if len(prefix) > 64 or not all(" " <= c <= "~" for c in prefix):
            ck.error(keypath + ("api_key_prefix",), "api_key_prefix must be at most 64 "
                                                    "printable ASCII characters")
        elif looks_like_key(prefix):
            ck.error(keypath + ("api_key_prefix",), f"api_key_prefix would carry a key: "
                                                    f"{NO_KEY_IN_FILES}")
        elif "api_key_header" not in table:
            ck.error(keypath + ("api_key_prefix",), "api_key_prefix goes with api_key_header "
                                                    "(the format's own header has its own)")
        else:
            fields["api_key_prefix"] = prefix


def _refuse_secrets_in_body(ck: Checker, value: Any, keypath: tuple[str, ...]) -> None:
    """Every field of a body fragment whose name or value looks like a key."""
    if isinstance(value, dict):
        for key, item in value.items():
            if secret_name(key):
                ck.error(keypath + (key,), f"{dotted(keypath + (key,))} would carry a key (its "
                                           f"name says so): {NO_KEY_IN_FILES}")
            else:
                _refuse_secrets_in_body(ck, item, keypath + (key,))
    elif isinstance(value, list):
        for item in value:
            _refuse_secrets_in_body(ck, item, keypath)
    elif isinstance(value, str):
        why = looks_like_key(value)
        if why is not None:
            ck.error(keypath, f"{dotted(keypath)} would carry a key ({why}): {NO_KEY_IN_FILES}")


def parse_provider(ck: Checker, name: str, value: Any, base: Provider | None,
                   default_timeouts: Mapping[str, float]) -> Provider | None:
    """A user's `[providers.NAME]`: overrides of a built-in of that name, or a new provider."""
    keypath = ("providers", name)
    before = len(ck.problems)
    if not _PROVIDER_NAME.fullmatch(name):
        ck.error(keypath, f"provider name {name!r} may only use letters, digits, '_', '-' and '.'"
                          " (a '/' would split PROVIDER/MODEL in the wrong place)")
    table = ck.table(value, keypath)
    if table is None:
        return None
    for key in table:
        if key.lower() in SECRET_KEYS:
            ck.error(keypath + (key,), f"{key!r} in [{dotted(keypath)}]: {NO_KEY_IN_FILES}")
    ck.only({k: v for k, v in table.items() if k.lower() not in SECRET_KEYS}, keypath,
            PROVIDER_KEYS)
    fields: dict[str, Any] = {}
    api = ck.get(table, "api", keypath, "str", required=base is None)
    if api is not None:
        if api in {a.value for a in Api}:
            fields["api"] = Api(api)
        else:
            ck.error(keypath + ("api",), f"api must be one of {', '.join(a.value for a in Api)}"
                                         f", not {api!r}{suggest(api, [a.value for a in Api])}")
    url = ck.get(table, "base_url", keypath, "str", required=base is None)
    if url is not None:
        hidden = url_secret(url)
        if hidden is not None:
            ck.error(keypath + ("base_url",), f"base_url has {hidden}, where a key could hide: "
                                              f"{NO_KEY_IN_FILES}{KEY_HEADER_HINT}")
        elif re.match(r"https?://[^/\s]+", url):
            fields["base_url"] = url.rstrip("/")
        else:
            ck.error(keypath + ("base_url",), f"base_url must start with http:// or https://, "
                                              f"not {url!r}")
    env = ck.get(table, "api_key_env", keypath, "str")
    if env is not None:
        if env == "":
            fields["api_key_env"] = None
        elif _ENV_NAME.fullmatch(env):
            fields["api_key_env"] = env
        else:
            ck.error(keypath + ("api_key_env",),
                     "api_key_env names the environment variable that holds the key (like "
                     "\"OPENAI_API_KEY\"); it must not hold the key itself")
    _key_header(ck, table, keypath, fields, base)
    if "headers" in table:
        headers = _string_table(ck, table["headers"], keypath + ("headers",))
        if headers is not None:
            for header, value in headers.items():
                why = "its name says so" if secret_name(header) else looks_like_key(value)
                if why is not None:
                    ck.error(keypath + ("headers", header), f"header {header!r} would carry a "
                             f"key ({why}): {NO_KEY_IN_FILES}{KEY_HEADER_HINT}")
            fields["headers"] = headers
    for key in ("extra_body", "reasoning_on", "reasoning_off"):
        got = ck.get(table, key, keypath, "table")
        if got is not None:
            _refuse_secrets_in_body(ck, got, keypath + (key,))
            fields[key] = got
    for key, kind, minimum in (("max_concurrency", "int", 1),
                               ("price_input_per_mtok", "number", 0),
                               ("price_output_per_mtok", "number", 0),
                               ("max_tokens_field", "str", None), ("description", "str", None)):
        got = ck.get(table, key, keypath, kind, minimum=minimum)
        if got is not None:
            fields[key] = got
    own_timeouts = _timeouts(ck, table["timeouts"], keypath + ("timeouts",)) \
        if "timeouts" in table else {}
    if len(ck.problems) > before:
        return None
    start = base if base is not None else Provider(name=name, api=fields.pop("api"),
                                                   base_url=fields.pop("base_url"))
    provider = replace(start, **fields)
    return replace(provider, timeouts=replace(provider.timeouts,
                                              **{**default_timeouts, **own_timeouts}))


def parse_groups(ck: Checker, value: Any, providers: Mapping[str, Provider]
                 ) -> dict[str, dict[str, str]]:
    """`[groups.CANONICAL]` tables: provider name = that provider's model id."""
    groups: dict[str, dict[str, str]] = {}
    table = ck.table(value, ("groups",))
    for name, entry in (table or {}).items():
        keypath = ("groups", name)
        before = len(ck.problems)
        mapping = _string_table(ck, entry, keypath)
        if mapping is None:
            continue
        if not mapping:
            ck.error(keypath, f"[{dotted(keypath)}] maps no provider to a model id")
        for provider, model in mapping.items():
            if provider not in providers:
                ck.error(keypath + (provider,), f"unknown provider {provider!r} in "
                         f"[{dotted(keypath)}]{suggest(provider, providers)}")
            elif not model:
                ck.error(keypath + (provider,), f"{dotted(keypath + (provider,))} is empty")
        if len(ck.problems) == before:
            groups[name] = mapping
    return groups


def parse_prompts(ck: Checker, value: Any, source: str) -> dict[str, SavedPrompt]:
    prompts: dict[str, SavedPrompt] = {}
    table = ck.table(value, ("prompts",))
    for name, entry in (table or {}).items():
        keypath = ("prompts", name)
        before = len(ck.problems)
        item = ck.table(entry, keypath)
        if item is None:
            continue
        ck.only(item, keypath, PROMPT_KEYS)
        text = ck.get(item, "text", keypath, "str", required=True)
        system = ck.get(item, "system", keypath, "str")
        if len(ck.problems) == before and text is not None:
            prompts[name] = SavedPrompt(name, text, system, source)
    return prompts


def parse_comparisons(ck: Checker, value: Any, source: str) -> dict[str, SavedComparison]:
    """Shapes only; `load_config` checks targets and prompt names once all are known."""
    comparisons: dict[str, SavedComparison] = {}
    table = ck.table(value, ("comparisons",))
    for name, entry in (table or {}).items():
        keypath = ("comparisons", name)
        before = len(ck.problems)
        item = ck.table(entry, keypath)
        if item is None:
            continue
        ck.only(item, keypath, COMPARISON_KEYS)
        targets = ck.get(item, "targets", keypath, "str_list", required=True)
        if targets is not None and not targets:
            ck.error(keypath + ("targets",), f"{dotted(keypath + ('targets',))} is empty")
        fields: dict[str, Any] = {}
        for key, kind, minimum in (("prompt", "str", None), ("prompt_text", "str", None),
                                   ("system", "str", None), ("max_tokens", "int", 1),
                                   ("temperature", "number", 0), ("reasoning", "bool", None),
                                   ("repeat", "int", 1), ("concurrency", "int", 1),
                                   ("warmup", "int", 0), ("nonce", "bool", None)):
            got = ck.get(item, key, keypath, kind, minimum=minimum)
            if got is not None:
                fields["prompt_name" if key == "prompt" else key] = got
        if ("prompt_name" in fields) == ("prompt_text" in fields):
            ck.error(keypath, f"[{dotted(keypath)}] needs exactly one of 'prompt' (the name of "
                              "a saved prompt) or 'prompt_text' (the prompt itself)")
        if len(ck.problems) == before and targets:
            comparisons[name] = SavedComparison(name=name, targets=tuple(targets),
                                                source=source, **fields)
    return comparisons
