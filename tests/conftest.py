"""Shared fixtures. Every test runs with its own config and data directories
and without provider keys, so no test reads or writes a developer's real
config, results database or credentials."""

from __future__ import annotations

import pytest

from infertui.store.presets import PRESETS

KEY_VARIABLES = sorted({p.api_key_env for p in PRESETS.values() if p.api_key_env}
                       | {"MODEL_ACCESS_KEY", "GOOGLE_API_KEY"})


@pytest.fixture(autouse=True)
def isolated_infertui_dirs(tmp_path_factory: pytest.TempPathFactory,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("infertui-home")
    monkeypatch.setenv("INFERTUI_CONFIG_DIR", str(home / "config"))
    monkeypatch.setenv("INFERTUI_DATA_DIR", str(home / "data"))
    for name in KEY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
