"""Who may use `infertui serve`, and what a served app is given.

Every browser session that opens the websocket runs an `infertui tui` with
the user's keys, so the server refuses:

- a page or websocket request without the random token printed at start
  (compared in constant time, so its length and content cannot be probed);
- a request whose Host header is not a name this server answers to (a page
  that reaches it through DNS rebinding sends its own host name);
- a websocket whose Origin is not the served origin (a web page on another
  site may open a websocket to 127.0.0.1; the browser always says from where).

The spawned app gets only the environment it needs: paths, locale, the
terminal, infertui's own variables, the network settings httpx reads to reach
a provider (proxies, CA bundle) and the key variables the config's providers
name; not every secret of the shell that started the server.

Pure functions and a small value object; aiohttp lives in `serve.py`.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Iterable, Mapping
from urllib.parse import urlsplit

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
WILDCARD_HOSTS = ("0.0.0.0", "::", "")
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}

# Variables a served app keeps. LC_* and INFERTUI_* by prefix; the key
# variables come from the config. Proxies and the CA bundle are what httpx
# reads from the environment to reach a provider, as the CLI does;
# PYTHONPATH is how the server itself may have found infertui.
KEPT_VARIABLES = frozenset({
    "PATH", "HOME", "LANG", "LANGUAGE", "TERM", "TZ", "PYTHONPATH",
    "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY",
    "http_proxy", "https_proxy", "all_proxy", "no_proxy",
    "SSL_CERT_FILE", "SSL_CERT_DIR",
})
KEPT_PREFIXES = ("LC_", "INFERTUI_")


def is_loopback(host: str) -> bool:
    return host.strip("[]").lower() in LOOPBACK_NAMES or host.startswith("127.")


def new_token() -> str:
    """32 random bytes, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


def _host_port(netloc: str, scheme: str = "http") -> tuple[str, int] | None:
    """('host', port) of a Host header or URL netloc, the scheme's port when
    none is written; None when it cannot be read."""
    if not netloc or "@" in netloc or "/" in netloc:
        return None
    try:
        parts = urlsplit(f"{scheme}://{netloc}")
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if not host:
        return None
    return host, port if port is not None else _DEFAULT_PORTS[scheme]


def _origin(value: str) -> tuple[str, str, int] | None:
    """('scheme', 'host', port) of an Origin header value."""
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or parts.path not in ("", "/") or parts.query:
        return None
    found = _host_port(parts.netloc, parts.scheme)
    return None if found is None else (parts.scheme, *found)


@dataclass(frozen=True)
class Access:
    """The token and the names this server answers to.

    `hosts` None means any Host (listening on every address with no public
    URL given: the machine's names are not known); the token still guards it,
    and a websocket's Origin must then equal the Host it was sent to."""

    token: str
    hosts: frozenset[tuple[str, int]] | None
    origins: frozenset[tuple[str, str, int]]

    @classmethod
    def build(cls, bind_host: str, port: int, public_url: str | None = None,
              token: str | None = None) -> Access:
        hosts: set[tuple[str, int]] = set()
        origins: set[tuple[str, str, int]] = set()
        if public_url:
            parts = urlsplit(public_url)
            found = _host_port(parts.netloc, parts.scheme or "http")
            if found is None:
                raise ValueError(f"cannot read a host in {public_url!r}")
            hosts.add(found)
            origins.add((parts.scheme or "http", *found))
        bind = bind_host.strip("[]").lower()
        any_host = bind in WILDCARD_HOSTS and not public_url
        if not any_host:
            # Loopback names are always this machine (a same-machine proxy
            # connects through them); a rebinding page sends its own name.
            names = {*LOOPBACK_NAMES} | ({bind} if bind not in WILDCARD_HOSTS else set())
            hosts |= {(name, port) for name in names}
            origins |= {("http", name, port) for name in names}
        return cls(token=token or new_token(),
                   hosts=None if any_host else frozenset(hosts),
                   origins=frozenset(origins))

    def token_ok(self, candidate: str | None) -> bool:
        if not candidate:
            return False
        return hmac.compare_digest(candidate.encode("utf-8", "replace"), self.token.encode())

    def host_ok(self, host_header: str | None) -> bool:
        # A Host header without a port means the scheme's own (80, or 443
        # behind a TLS proxy).
        found = {_host_port(host_header or "", scheme) for scheme in ("http", "https")} - {None}
        if not found:
            return False
        return self.hosts is None or bool(found & self.hosts)

    def origin_ok(self, origin_header: str | None, host_header: str | None) -> bool:
        origin = _origin(origin_header or "")
        if origin is None:
            return False
        if origin in self.origins:
            return True
        if self.hosts is None:
            # Same origin as the request: http://<the Host it was sent to>.
            return origin[0] == "http" and origin[1:] == _host_port(host_header or "")
        return False

    def refuse_page(self, token: str | None, host_header: str | None) -> str | None:
        """Why a page request is refused, or None."""
        if not self.host_ok(host_header):
            return "unknown host: open the URL `infertui serve` printed"
        if not self.token_ok(token):
            return "this page needs the URL `infertui serve` printed, with its token"
        return None

    def refuse_websocket(self, token: str | None, origin_header: str | None,
                         host_header: str | None) -> str | None:
        """Why a websocket is refused, or None."""
        refusal = self.refuse_page(token, host_header)
        if refusal is not None:
            return refusal
        if not self.origin_ok(origin_header, host_header):
            return "websocket from another origin"
        return None


def child_environment(environ: Mapping[str, str], key_variables: Iterable[str],
                      overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """What a served app runs with: the kept variables of `environ`, the key
    variables named, then `overrides` (the resolved config and data dirs)."""
    keys = set(key_variables)
    env = {name: value for name, value in environ.items()
           if name in KEPT_VARIABLES or name.startswith(KEPT_PREFIXES) or name in keys}
    env.update(overrides or {})
    return env
