"""What commands share to reach the config and the results store: errors in
either become a CliError (one line or a `file:line:` list, exit 2)."""

from __future__ import annotations

import argparse
import functools
import sqlite3
from typing import Callable

from infertui.cli.common import CliError
from infertui.store.config import Config, load_config
from infertui.store.errors import ConfigError, StoreError
from infertui.store.repository import Store


def load_config_or_fail(args: argparse.Namespace) -> Config:
    """The config named by --config (else the default file; missing is fine)."""
    try:
        return load_config(getattr(args, "config", None))
    except ConfigError as exc:
        raise CliError(exc.report()) from None


def open_store_or_fail(args: argparse.Namespace, *, create: bool = True,
                       read_only: bool = False) -> Store:
    """The results store named by --db (else the default one); a missing file
    is created, or with create=False an error (commands that only read).
    `read_only`: the command never writes, so a store on a read-only disk
    can still be read."""
    try:
        return Store.open(getattr(args, "db", None), create=create, read_only=read_only)
    except StoreError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"cannot open the results store: {exc.strerror or exc}") from None


def store_errors_as_one_line(command: Callable[[argparse.Namespace], int]
                             ) -> Callable[[argparse.Namespace], int]:
    """A store that fails mid-command (a damaged page, a full disk) ends the
    command with one line naming the file, never a traceback."""

    @functools.wraps(command)
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except StoreError as exc:
            raise CliError(str(exc)) from None
        except sqlite3.Error as exc:  # a path the store did not wrap: still one line
            raise CliError(f"results store: {exc}") from None

    return run
