"""The local store: config (TOML) and results (SQLite).

Plain stdlib plus platformdirs and tomli-w; never imports textual or rich, so
the headless commands and the TUI share it.
"""

from infertui.store.config import Config, load_config
from infertui.store.config_model import Defaults, ResolvedComparison, SavedComparison, SavedPrompt
from infertui.store.errors import ConfigError, ConfigProblem, StoreError
from infertui.store.recorder import SessionRecorder
from infertui.store.repository import ImportOutcome, Store
from infertui.store.rows import HistoryPoint, SessionRow, TargetLine

__all__ = [
    "Config", "ConfigError", "ConfigProblem", "Defaults", "HistoryPoint", "ImportOutcome",
    "ResolvedComparison", "SavedComparison", "SavedPrompt", "SessionRecorder", "SessionRow",
    "Store", "StoreError", "TargetLine", "load_config",
]
