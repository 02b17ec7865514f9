"""What commands share to reach the config and the results store: errors in
either become a CliError (one line or a `file:line:` list, exit 2)."""

from __future__ import annotations

import argparse

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


def open_store_or_fail(args: argparse.Namespace, *, create: bool = True) -> Store:
    """The results store named by --db (else the default one); a missing file
    is created, or with create=False an error (commands that only read)."""
    try:
        return Store.open(getattr(args, "db", None), create=create)
    except StoreError as exc:
        raise CliError(str(exc)) from None
