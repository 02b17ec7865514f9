"""The `infertui` command: one argparse entry, a module per command group.

The TUI is imported lazily, so the headless commands start fast and never need
a terminal.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import NoReturn

from infertui import __version__
from infertui.cli import interrupt

interrupt.install()  # before anything heavy loads: a Ctrl+C during imports is never lost

from infertui.cli.common import CliError  # noqa: E402
from infertui.textsafe import display  # noqa: E402

# Each module has register(subparsers); the parser it adds sets `func`.
COMMAND_MODULES = (
    "infertui.cli.probe",
    "infertui.cli.store_cmds",
    "infertui.cli.sim",
    "infertui.cli.tui",
    "infertui.cli.campaign",
    "infertui.cli.report",
)


class _Parser(argparse.ArgumentParser):
    """Bad arguments: one line on stderr and exit 2, no usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"infertui: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="infertui",
        description="Measure how the same LLM behaves on different inference providers.",
    )
    parser.add_argument("--version", action="version", version=f"infertui {__version__}")
    parser.add_argument("--config", metavar="FILE", help="config file (default: the user config dir)")
    parser.add_argument("--db", metavar="FILE", help="results database (default: the user data dir)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    # Ctrl+C may come at any moment, also while the commands' modules are
    # still being imported: exit 130 with one line, never a traceback.
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("infertui: interrupted", file=sys.stderr)
        return 130


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        func = _default_command(parser)
    try:
        interrupt.raise_if_pressed()  # pressed while loading, and dropped there
        return int(func(args) or 0)
    except CliError as exc:
        # A message may quote a file, a server or the user: controls shown as
        # escapes (a multi-line `file:line:` report keeps its lines).
        print(f"infertui: {display(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("infertui: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`infertui history | head`): not an error worth
        # a traceback; stop writing quietly.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _default_command(parser: argparse.ArgumentParser):
    """`infertui` with no command opens the app."""
    try:
        from infertui.cli.tui import run_app
    except ImportError:
        def show_help(_args: argparse.Namespace) -> int:
            parser.print_help()
            return 0
        return show_help
    return run_app
