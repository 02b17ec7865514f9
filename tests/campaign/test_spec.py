"""Campaign TOML (a config section or a file), the example `campaign init`
writes, and the schedule's rounds."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from infertui.core.campaign.plan import CellJobs, round_starts
from infertui.core.campaign.spec import (
    CampaignSpec,
    Schedule,
    Window,
    parse_duration,
    probe_param_names,
)
from infertui.store.campaign_config import read_campaign_file, resolve_campaign
from infertui.store.campaign_starter import CAMPAIGN_STARTER
from infertui.store.config import load_config
from infertui.store.errors import ConfigError


def write(tmp_path, text, name="c.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_campaign_file_with_every_setting(tmp_path):
    path = write(tmp_path, """
name = "llama"
targets = ["sim-alpha/demo-70b", "sim-beta/demo-70b"]
prompt_set = "long-1k"
concurrency = [1, 5, 20]
requests = 50
warmup = 3
max_tokens = 64
temperature = 0
reasoning = false
chain = 10
cold_start = { idle = "10m", probes = 3 }
every = "30m"
for = "24h"
slo = { ttft_ms = 500, e2e_ms = 4000 }
stall_ms = 1500
timeout = 90
seed = 7
""")
    spec = read_campaign_file(path)
    assert spec.name == "llama" and spec.concurrency == (1, 5, 20) and spec.requests == 50
    assert spec.params == {"max_tokens": 64, "temperature": 0.0, "reasoning": False}
    assert spec.cold_start.idle_s == 600 and spec.cold_start.probes == 3
    assert spec.schedule == Schedule(1800, 86400, (), None)
    assert spec.slo.ttft_ms == 500 and spec.timeout_s == 90 and spec.seed == 7
    assert spec.uses_nonce  # the long sets always carry one
    assert CampaignSpec.from_json(spec.to_json()) == spec


def test_unknown_keys_and_bad_values_are_file_line_problems(tmp_path):
    path = write(tmp_path, """targets = ["sim-alpha/fast"]
prompt = "hi"
concurrancy = [1, 5]
requests = 0
cold_start = { idle = "soon" }
windows = ["9-17"]
""")
    with pytest.raises(ConfigError) as caught:
        read_campaign_file(path)
    report = caught.value.report()
    assert f"{path}:3: unknown key 'concurrancy' in the top level (did you mean 'concurrency'?)" \
        in report
    assert f"{path}:4: requests must be at least 1, not 0" in report
    assert re.search(rf"{re.escape(str(path))}:5: cold_start.idle: not a duration: 'soon'", report)
    assert f"{path}:6: window '9-17' is not HH:MM-HH:MM" in report


def test_exactly_one_prompt_source(tmp_path):
    path = write(tmp_path, 'targets = ["sim-alpha/fast"]\nprompt = "a"\nprompt_set = "short"\n')
    with pytest.raises(ConfigError, match="exactly one of 'prompt'"):
        read_campaign_file(path)


def test_every_probe_parameter_is_a_campaign_key():
    assert {"max_tokens", "temperature", "reasoning"} <= set(probe_param_names())
    assert "prompt" not in probe_param_names()


def test_campaigns_in_the_config_are_checked_with_the_rest(tmp_path):
    cfg = write(tmp_path, """
[prompts.haiku]
text = "Write a haiku."

[campaigns.nightly]
targets = ["sim-alpha/fast", "sim-beta/fast"]
prompts = ["haiku"]
requests = 10

[campaigns.broken]
targets = ["nosuch/model"]
prompt = "x"
""", "config.toml")
    with pytest.raises(ConfigError) as caught:
        load_config(cfg)
    assert re.search(r"config.toml:10: \[campaigns.broken\] unknown provider 'nosuch'",
                     caught.value.report())
    cfg.write_text(cfg.read_text().split("[campaigns.broken]")[0])
    config = load_config(cfg)
    campaign = resolve_campaign(config.campaigns["nightly"], config)
    assert campaign.prompt_texts == ("Write a haiku.",)
    assert [t.label for t in campaign.targets] == ["sim-alpha/fast", "sim-beta/fast"]
    assert campaign.params.max_tokens == 256  # the config's default


def test_a_group_target_names_its_model(tmp_path):
    cfg = write(tmp_path, """
[groups.llama]
sim-alpha = "demo-70b"
sim-gamma = "demo-70b"

[campaigns.g]
targets = ["group:llama", "sim-beta/demo-8b"]
prompt = "hi"
""", "config.toml")
    config = load_config(cfg)
    campaign = resolve_campaign(config.campaigns["g"], config)
    assert dict(campaign.models) == {"sim-alpha/demo-70b": "llama", "sim-gamma/demo-70b": "llama",
                                     "sim-beta/demo-8b": "demo-8b"}


def test_the_starter_parses_as_written_and_with_every_option_switched_on(tmp_path):
    spec = read_campaign_file(write(tmp_path, CAMPAIGN_STARTER))
    assert spec.requests == 75 and spec.concurrency == (1, 5, 20)
    on = "\n".join(line[2:] if line.startswith("# ") else line
                   for line in CAMPAIGN_STARTER.splitlines())
    full = read_campaign_file(write(tmp_path, on, "full.toml"))
    assert full.chain == 10 and full.cold_start is not None and full.slo is not None
    assert full.schedule.every_s == 1800 and len(full.schedule.windows) == 2


def test_durations():
    assert parse_duration("90s") == 90 and parse_duration("1h30m") == 5400
    assert parse_duration(45) == 45 and parse_duration("250ms") == 0.25
    for bad in ("", "10 parsecs", "-5", True):
        with pytest.raises(ValueError):
            parse_duration(bad)


def ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_rounds_every_and_for():
    start = ts("2025-06-01T10:00:00")
    got = list(round_starts(Schedule(every_s=1800, for_s=7200), start))
    assert got == [start + k * 1800 for k in range(4)]
    assert list(round_starts(None, start)) == [start]


def test_rounds_as_windows_open():
    windows = (Window.parse("09:00-17:00"), Window.parse("22:00-06:00"))
    sched = Schedule(for_s=2 * 86400, windows=windows, timezone="UTC")
    start = ts("2025-06-01T12:00:00")  # inside the day window: one round now
    got = [datetime.fromtimestamp(t, UTC).strftime("%d %H:%M")
           for t in round_starts(sched, start)]
    assert got == ["01 12:00", "01 22:00", "02 09:00", "02 22:00", "03 09:00"]
    # With `every`, only the slots inside a window.
    every = Schedule(every_s=3 * 3600, for_s=86400, windows=(windows[1],), timezone="UTC")
    got = [datetime.fromtimestamp(t, UTC).strftime("%H:%M")
           for t in round_starts(every, ts("2025-06-01T21:00:00"))]
    assert got == ["00:00", "03:00"]


def test_jobs_resume_after_what_finished():
    jobs = CellJobs(10, 2, 4, done=4, next_seq=9, next_chain=2)
    assert jobs.next_warmup().seq == 9 and jobs.next_warmup().seq == 10
    assert jobs.next_warmup() is None
    first = jobs.next_batch()
    assert [(j.seq, j.index, j.chain, j.chain_pos) for j in first] == [
        (11, 4, 2, 0), (12, 5, 2, 1), (13, 6, 2, 2), (14, 7, 2, 3)]
    assert [j.chain_pos for j in jobs.next_batch()] == [0, 1]  # the last chain is short
    assert jobs.next_batch() == []
    assert CellJobs(10, 2, None, done=10).next_warmup() is None  # a finished cell warms nothing
