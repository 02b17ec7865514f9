"""Where files live, and that nothing is created before it is written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from infertui.store import paths


def test_environment_variables_move_the_directories(tmp_path):
    env = {"INFERTUI_CONFIG_DIR": str(tmp_path / "c"), "INFERTUI_DATA_DIR": str(tmp_path / "d")}
    assert paths.config_dir(env) == tmp_path / "c"
    assert paths.data_dir(env) == tmp_path / "d"
    assert paths.config_file(environ=env) == tmp_path / "c" / "config.toml"
    assert paths.state_file(env) == tmp_path / "c" / "state.toml"
    assert paths.db_file(environ=env) == tmp_path / "d" / "infertui.db"
    assert not (tmp_path / "c").exists() and not (tmp_path / "d").exists()


def test_explicit_files_win_and_expand_the_home_directory(tmp_path):
    env = {"INFERTUI_DATA_DIR": str(tmp_path)}
    assert paths.db_file("~/x.db", env) == Path.home() / "x.db"
    assert paths.config_file(tmp_path / "my.toml", env) == tmp_path / "my.toml"


def test_without_overrides_the_platform_directories_are_used():
    config, data = paths.config_dir({}), paths.data_dir({})
    assert config.name == "infertui" and data.name == "infertui"


def test_the_store_never_imports_a_ui_library():
    code = ("import sys, infertui.store, infertui.store.state, infertui.store.export; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
