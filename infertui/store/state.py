"""The app's own saved state: prompts and comparisons saved from the UI, and UI
preferences, in `state.toml` next to the user's config (never inside it).

Every save re-reads the file (another infertui may have saved since), changes
one entry, refuses to write anything that holds the value of a key variable,
and replaces the file atomically. A state file that no longer parses is moved
aside (`state.toml.broken-<time>`), never silently overwritten.
"""

from __future__ import annotations

import os
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any, Mapping

import tomli_w

from infertui.store import paths
from infertui.store.config import Config
from infertui.store.config_model import SavedComparison, SavedPrompt
from infertui.store.errors import ConfigError

HEADER = ("# Written by infertui: prompts and comparisons saved from the app, UI preferences.\n"
          "# Your own settings belong in config.toml, which infertui never rewrites.\n\n")
KINDS = ("prompts", "comparisons")


def _read(path: Path, config: Config) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        aside = path.with_name(f"{path.name}.broken-{time.strftime('%Y%m%d-%H%M%S')}")
        os.replace(path, aside)
        config.notices.append(f"{path}: unreadable ({exc}); moved aside to {aside.name}")
        return {}


def _refuse_keys(text: str, config: Config, path: Path) -> None:
    """The app never writes a key: refuse if any key variable's value is in the text."""
    for provider in config.providers.values():
        if not provider.api_key_env:
            continue
        value = config.environ.get(provider.api_key_env)
        if value and len(value) >= 8 and value in text:
            raise ConfigError(path, None, f"refusing to write: it would contain the value of "
                              f"${provider.api_key_env}")


def _write(path: Path, doc: Mapping[str, Any], config: Config) -> None:
    text = HEADER + tomli_w.dumps(dict(doc))
    _refuse_keys(text, config, path)
    paths.ensure_parent(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _check_name(config: Config, kind: str, name: str) -> None:
    existing = getattr(config, kind).get(name)
    if existing is not None and existing.source == "config":
        raise ConfigError(config.path, None, f"{kind[:-1]} {name!r} is defined in your config "
                          "file; infertui does not change it: save under another name")
    if not name.strip():
        raise ConfigError(None, None, f"a saved {kind[:-1]} needs a name")


def save_prompt(config: Config, prompt: SavedPrompt) -> SavedPrompt:
    _check_name(config, "prompts", prompt.name)
    saved = SavedPrompt(prompt.name, prompt.text, prompt.system, source="state")
    doc = _read(config.state_path, config)
    doc.setdefault("prompts", {})[saved.name] = saved.to_toml()
    _write(config.state_path, doc, config)
    config.prompts[saved.name] = saved
    return saved


def save_comparison(config: Config, comparison: SavedComparison) -> SavedComparison:
    """Save targets + prompt + parameters; targets and prompt name must resolve."""
    _check_name(config, "comparisons", comparison.name)
    config.resolve_targets(comparison.targets)
    if comparison.prompt_name is not None:
        config.saved_prompt(comparison.prompt_name)
    elif comparison.prompt_text is None:
        raise ConfigError(None, None, "a saved comparison needs a prompt")
    fields = {k: getattr(comparison, k) for k in comparison.__dataclass_fields__}
    saved = SavedComparison(**{**fields, "targets": tuple(comparison.targets), "source": "state"})
    doc = _read(config.state_path, config)
    doc.setdefault("comparisons", {})[saved.name] = saved.to_toml()
    _write(config.state_path, doc, config)
    config.comparisons[saved.name] = saved
    return saved


def forget(config: Config, kind: str, name: str) -> bool:
    """Remove a prompt or comparison the app saved; False when there was none."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    _check_name(config, kind, name)
    doc = _read(config.state_path, config)
    if name not in doc.get(kind, {}):
        return False
    del doc[kind][name]
    _write(config.state_path, doc, config)
    getattr(config, kind).pop(name, None)
    return True


def save_ui(config: Config, prefs: Mapping[str, Any]) -> dict[str, Any]:
    """Merge UI preferences (TOML-serialisable values) into the state file."""
    doc = _read(config.state_path, config)
    ui = {**doc.get("ui", {}), **prefs}
    doc["ui"] = ui
    _write(config.state_path, doc, config)
    config.ui = dict(ui)
    return config.ui
