"""The scheduled-run recipes of docs/campaigns.md, run as written: each one's
command, against a small campaign on the built-in simulator, must exit 0 and
leave a campaign in the store."""

from __future__ import annotations

import json
import os
import re
import shlex
import sqlite3
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "campaigns.md"
CAMPAIGN = """
name = "scheduled"
targets = ["sim-alpha/fast"]
prompt = "hi"
requests = 2
max_tokens = 4
"""


def block(after_heading: str) -> str:
    text = DOC.read_text()
    section = text.split(f"### {after_heading}\n", 1)[1]
    return re.search(r"```\w*\n(.*?)```", section, re.S)[1]


def environment(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    (home / "bench").mkdir(parents=True)
    (home / "bench" / "campaign.toml").write_text(CAMPAIGN)
    bin_dir = str(Path(sys.executable).parent)
    return {**os.environ, "HOME": str(home), "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}"}


def campaigns_in(db: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT vantage, status FROM campaigns").fetchall()
    finally:
        conn.close()


def default_db() -> Path:
    return Path(os.environ["INFERTUI_DATA_DIR"]) / "infertui.db"


def test_the_cron_line_runs(tmp_path):
    line = block("cron").strip()
    fields = line.split(None, 5)
    assert len(fields) == 6 and fields[0] == "*/30"
    env = environment(tmp_path)
    done = subprocess.run(["sh", "-c", fields[5]], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert campaigns_in(default_db()) == [("laptop", "finished")]
    out = Path(env["HOME"]) / "bench" / "last-campaign.json"
    assert json.loads(out.read_text())["schema"] == "infertui.campaign/1"


def test_the_systemd_service_command_runs(tmp_path):
    service = block("systemd timer")
    start = re.search(r"^ExecStart=(.*)$", service, re.M)[1]
    workdir = re.search(r"^WorkingDirectory=(.*)$", service, re.M)[1]
    env = environment(tmp_path)
    cwd = workdir.replace("%h", env["HOME"])
    done = subprocess.run(shlex.split(start), cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    (row,) = campaigns_in(default_db())
    assert row[1] == "finished"
    assert (Path(cwd) / "last-campaign.json").exists()


def test_the_ci_steps_run(tmp_path):
    workflow = block("CI schedule (GitHub Actions)")
    commands = [m.strip() for m in re.findall(r"- run: (infertui .*)$", workflow, re.M)]
    assert len(commands) == 2
    env = environment(tmp_path)
    cwd = Path(env["HOME"]) / "bench"
    for command in commands:
        done = subprocess.run(["sh", "-c", command], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=120, check=False)
        assert done.returncode == 0, (command, done.stderr)
    assert campaigns_in(cwd / "results.db") == [("gha-ubuntu", "finished")]
    assert json.loads((cwd / "campaign-export.json").read_text())["schema"] == \
        "infertui.session/1"


def test_the_kubernetes_command_runs_with_its_volumes_in_place(tmp_path):
    manifest = block("Kubernetes CronJob")
    assert "kind: CronJob" in manifest and 'schedule: "*/30 * * * *"' in manifest
    command = re.search(r"pip install --quiet infertui &&\s*\n\s*(infertui .*)$", manifest, re.M)[1]
    env = environment(tmp_path)
    data, config = tmp_path / "data", tmp_path / "config"
    data.mkdir()
    config.mkdir()
    (config / "campaign.toml").write_text(CAMPAIGN)
    command = command.replace("/data/", f"{data}/").replace("/config/", f"{config}/")
    done = subprocess.run(["sh", "-c", command], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert campaigns_in(data / "results.db") == [("k8s-eu-west", "finished")]
