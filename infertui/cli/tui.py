"""`infertui` (no command) and `infertui tui` open the app; `infertui serve`
offers the same app in a browser through textual-serve."""

from __future__ import annotations

import argparse
import os
import shlex
import sys

from infertui.cli.common import CliError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tui", help="open the app (the default with no command)",
                       description="Open the interactive app: pick targets, race streams, "
                                   "browse history.")
    p.add_argument("--seed", type=int, default=0, help="seed of the built-in simulator")
    p.set_defaults(func=run_app)
    s = sub.add_parser("serve", help="offer the app in a web browser (needs infertui[serve])",
                       description="Serve the app over HTTP with textual-serve: every browser "
                                   "tab runs its own `infertui tui`. Open the URL it prints: "
                                   "its token is required.")
    s.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1, this machine only)")
    s.add_argument("--port", type=_port, default=8000, help="port (default 8000; 0 for any free one)")
    s.add_argument("--public-url", metavar="URL", help="the URL browsers reach it at, "
                   "when behind a proxy")
    s.set_defaults(func=serve)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value < 65536:
        raise argparse.ArgumentTypeError(f"must be between 0 and 65535, got {value}")
    return value


def _served_by_web_driver() -> bool:
    """Run by `infertui serve`: textual-serve talks to the app through pipes
    and Textual's web driver, so there is no terminal and none is needed."""
    return os.environ.get("TEXTUAL_DRIVER", "").startswith("textual.drivers.web_driver:")


def run_app(args: argparse.Namespace) -> int:
    if not _served_by_web_driver() and (not sys.stdin.isatty() or not sys.stdout.isatty()):
        raise CliError("the app needs a terminal; for scripts use `infertui probe --json`")
    from infertui.tui.app import create_app

    app = create_app(getattr(args, "config", None), getattr(args, "db", None),
                     sim_seed=getattr(args, "seed", 0))
    app.run()
    return int(app.return_code or 0)


def serve_command(args: argparse.Namespace) -> str:
    """The command every browser session runs: this Python, the same config
    and database as the server (absolute, since the app may start elsewhere;
    the default ones reach it through INFERTUI_CONFIG_DIR / INFERTUI_DATA_DIR)."""
    from pathlib import Path

    parts = [sys.executable, "-m", "infertui"]
    for option, value in (("--config", getattr(args, "config", None)),
                          ("--db", getattr(args, "db", None))):
        if value:
            parts += [option, str(Path(value).expanduser().absolute())]
    parts.append("tui")
    return shlex.join(parts)


def _key_variables(config_file: str | None):
    """The key variables the config's providers name (the built-in ones when
    the config cannot be read: the app then starts with those)."""
    from infertui.store.config import builtin_config, load_config
    from infertui.store.errors import ConfigError

    def read() -> set[str]:
        try:
            config = load_config(config_file)
        except ConfigError:
            config = builtin_config()
        return {p.api_key_env for p in config.providers.values() if p.api_key_env}
    return read


def serve(args: argparse.Namespace) -> int:
    try:
        from infertui.cli.serve import GuardedServer, served_environment
    except ImportError:
        raise CliError("`infertui serve` needs textual-serve: pip install 'infertui[serve]'") from None
    from infertui.cli.serve_access import Access, is_loopback
    from infertui.store import paths

    if args.public_url and not args.public_url.startswith(("http://", "https://")):
        raise CliError(f"--public-url must start with http:// or https://, got {args.public_url!r}")
    try:
        access = Access.build(args.host, args.port, args.public_url)
    except ValueError as exc:
        raise CliError(f"--public-url: {exc}") from None
    overrides = {paths.ENV_CONFIG_DIR: str(paths.config_dir().absolute()),
                 paths.ENV_DATA_DIR: str(paths.data_dir().absolute())}
    server = GuardedServer(serve_command(args), host=args.host, port=args.port, access=access,
                           environment=served_environment(_key_variables(args.config), overrides),
                           public_url=args.public_url, on_ready=_announce)
    if not is_loopback(args.host):
        print(f"infertui serve: warning: listening on {args.host}, not only on this machine. "
              "Anyone who can reach this port and learns the URL (its token) runs infertui "
              "with your API keys, and plain HTTP is readable on the way: prefer the default "
              "127.0.0.1 (an SSH tunnel reaches it), or put TLS in front (--public-url "
              "https://…).", file=sys.stderr, flush=True)
    server.serve()
    return 0


def _announce(server) -> None:
    from infertui.cli.serve_access import is_loopback

    print(f"infertui serve: open {server.url()}", flush=True)
    if not is_loopback(server.host) and not server.explicit_public_url:
        print("  (from another machine, use this machine's address in place of 127.0.0.1)",
              flush=True)
    print("  the token in the URL is required; Ctrl+C stops the server", flush=True)

