"""`infertui` (no command) and `infertui tui` open the app; `infertui serve`
offers the same app in a browser through textual-serve."""

from __future__ import annotations

import argparse
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
                                   "tab runs its own `infertui tui`.")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    s.add_argument("--public-url", metavar="URL", help="the URL browsers reach it at, "
                   "when behind a proxy")
    s.set_defaults(func=serve)


def run_app(args: argparse.Namespace) -> int:
    if not sys.stdin.isatty() or not sys.stdout.isatty():
        raise CliError("the app needs a terminal; for scripts use `infertui probe --json`")
    from infertui.tui.app import create_app  # noqa: PLC0415

    app = create_app(getattr(args, "config", None), getattr(args, "db", None),
                     sim_seed=getattr(args, "seed", 0))
    app.run()
    return int(app.return_code or 0)


def serve_command(args: argparse.Namespace) -> str:
    """The command every browser session runs: this Python, same config and db."""
    parts = [sys.executable, "-m", "infertui"]
    if getattr(args, "config", None):
        parts += ["--config", args.config]
    if getattr(args, "db", None):
        parts += ["--db", args.db]
    parts.append("tui")
    return shlex.join(parts)


def serve(args: argparse.Namespace) -> int:
    try:
        from textual_serve.server import Server  # noqa: PLC0415
    except ImportError:
        raise CliError("`infertui serve` needs textual-serve: pip install 'infertui[serve]'") from None
    if not 0 < args.port < 65536:
        raise CliError(f"--port must be between 1 and 65535, got {args.port}")
    server = Server(serve_command(args), host=args.host, port=args.port,
                    title="infertui", public_url=args.public_url)
    server.serve()
    return 0
