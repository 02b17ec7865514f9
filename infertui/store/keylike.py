"""What in a config file looks like a key, so it can be refused.

infertui reads keys only from environment variables (`api_key_env`): a key in
a file ends up in backups, dotfile repositories and screenshots of an
editor. The config refuses a field whose *name* says it holds a secret, and a
value that *looks* like one: a provider's key prefix, an HTTP auth scheme, or
a long random token. What is refused is never printed.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from urllib.parse import urlsplit

# Words that say a field holds a secret, anywhere in its name.
_SECRET_WORDS = frozenset({
    "secret", "secrets", "password", "passwd", "passphrase", "pwd", "credential",
    "credentials", "signature", "sig", "cookie", "bearer", "apikey", "privatekey",
})
# Names people give harmless fields that end like a secret's.
_HARMLESS_NAMES = frozenset({"prompt_cache_key", "idempotency_key", "cache_key", "author"})
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z]|\b|[^A-Za-z])|[A-Z]?[a-z]+|[0-9]+|[A-Z]+")

# Prefixes of provider and platform keys; a value is refused when one is
# followed by at least 16 more token characters.
KEY_PREFIXES = (
    "sk-", "sk_", "gsk_", "xai-", "AIza", "hf_", "r8_", "pplx-", "fw_", "nvapi-", "csk-",
    "dop_v1_", "doo_v1_", "tgp_v1_", "ghp_", "gho_", "github_pat_", "glpat-", "AKIA",
    "ASIA", "xoxb-", "xoxp-", "ya29.", "rk_live_",
)
# Identifiers that look random but are not secret (OpenAI-Organization and
# OpenAI-Project headers, request and message ids).
ID_PREFIXES = ("org-", "proj_", "user-", "asst_", "file-", "req_", "msg_", "chatcmpl-")
_PREFIXED = re.compile("(?:" + "|".join(re.escape(p) for p in KEY_PREFIXES)
                       + r")[A-Za-z0-9_\-.]{16,}")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
_AUTH_SCHEME = re.compile(r"(?i)(bearer|basic|token|digest|apikey|key)\s+\S{8,}")
_RUN = re.compile(r"[A-Za-z0-9]{24,}")


def name_words(name: str) -> list[str]:
    """`X-Api-Key`, `api_key`, `apiKey`, `APIKey` -> ['x', 'api', 'key'] etc."""
    return [w.lower() for w in _WORD.findall(name)]


def secret_name(name: str) -> bool:
    """True when a header or body field called `name` would hold a secret:
    a word like password or signature anywhere, a word starting with auth,
    or a last word that is (or ends in) key or token (`x-api-key`,
    `access_token`, `authtoken`; not `max_tokens` or `stop_token_ids`)."""
    if re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") in _HARMLESS_NAMES:
        return False
    words = name_words(name)
    if not words:
        return False
    if any(w in _SECRET_WORDS or (w.startswith("auth") and w != "author") for w in words):
        return True
    last = words[-1]
    return (last == "key" or last.endswith("token")
            or last.endswith(("apikey", "accesskey", "secretkey", "authkey")))


def _entropy(text: str) -> float:
    counts = Counter(text)
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def looks_like_key(value: str) -> str | None:
    """Why `value` looks like a key (never the value itself), or None."""
    if _AUTH_SCHEME.fullmatch(value.strip()):
        return "it is an HTTP credential (an auth scheme and a token)"
    for word in value.split():
        if _PREFIXED.search(word):
            return "it starts like a provider's key"
        if _JWT.search(word):
            return "it is a signed token (JWT)"
        if word.startswith(ID_PREFIXES):
            continue
        for run in _RUN.findall(word):
            mixed = any(c.isdigit() for c in run) and any(c.isalpha() for c in run)
            if mixed and _entropy(run) >= 3.5:
                return "it is a long random token"
    return None


def url_secret(url: str) -> str | None:
    """What part of a URL could carry a key: userinfo or a query string."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return "a user name or password (user:pass@)"
    if parts.query:
        return "a query string"
    return None
