"""Where infertui keeps its files.

The config directory holds the user's `config.toml` (theirs: never rewritten)
and `state.toml` (the app's own saved prompts, comparisons and UI preferences).
The data directory holds the results database. Both come from platformdirs and
can be moved with INFERTUI_CONFIG_DIR / INFERTUI_DATA_DIR (what the tests do)
or, per file, with `--config` / `--db`.

Nothing here creates a directory: callers that write call `ensure_parent`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

import platformdirs

APP_NAME = "infertui"
ENV_CONFIG_DIR = "INFERTUI_CONFIG_DIR"
ENV_DATA_DIR = "INFERTUI_DATA_DIR"
CONFIG_FILENAME = "config.toml"
STATE_FILENAME = "state.toml"
DB_FILENAME = "infertui.db"


def _env(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def _expand(value: str | os.PathLike[str]) -> Path:
    return Path(os.path.expandvars(os.fspath(value))).expanduser()


def config_dir(environ: Mapping[str, str] | None = None) -> Path:
    override = _env(environ).get(ENV_CONFIG_DIR)
    if override:
        return _expand(override)
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def data_dir(environ: Mapping[str, str] | None = None) -> Path:
    override = _env(environ).get(ENV_DATA_DIR)
    if override:
        return _expand(override)
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_file(override: str | os.PathLike[str] | None = None,
                environ: Mapping[str, str] | None = None) -> Path:
    """The user's config: `--config FILE` when given, else config.toml in the config dir."""
    if override:
        return _expand(override)
    return config_dir(environ) / CONFIG_FILENAME


def state_file(environ: Mapping[str, str] | None = None) -> Path:
    """The app's own saved state, next to (never inside) the user's config."""
    return config_dir(environ) / STATE_FILENAME


def db_file(override: str | os.PathLike[str] | None = None,
            environ: Mapping[str, str] | None = None) -> Path:
    """The results database: `--db FILE` when given, else infertui.db in the data dir."""
    if override:
        return _expand(override)
    return data_dir(environ) / DB_FILENAME


DIR_MODE = 0o700  # a directory infertui creates: prompts and outputs are private


def ensure_parent(path: Path) -> Path:
    """Create the directory a file is about to be written into, owner-only
    (directories above it that are missing get the usual mode)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    return path
