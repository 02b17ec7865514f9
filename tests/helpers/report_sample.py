"""A stored campaign to report on: a real campaign of the core's executor
against the built-in simulator, on virtual time (so every run gives the
same numbers), with checks and a reference, saved in a results store. The
report tests, the browser test and scripts/screenshots.py use it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from infertui.core.campaign.spec import Schedule
from infertui.core.targets import Target
from infertui.store.campaigns import Campaigns
from infertui.store.repository import Store
from tests.campaign.helpers import PROVIDERS, resolved, run_campaign

SAMPLE_TARGETS = ["sim-alpha/demo-70b", "sim-gamma/demo-70b", "sim-beta/demo-8b",
                  "sim-gamma/demo-8b", "sim-gamma/quantized", "sim-alpha/json-in-prose"]


SAMPLE_ID = "c0197748c4a00sample"


def sample_campaign(db: Path, *, requests: int = 12) -> str:
    """Run the sample campaign into the store at `db`; its campaign id (a
    fixed one, so a report of it is the same on every run)."""
    campaign = resolved(SAMPLE_TARGETS, name="nightly", concurrency=(1, 4), requests=requests,
                        checks=("compliance",), reference="sim-beta/fast",
                        schedule=Schedule(every_s=600.0, for_s=1800.0), max_tokens=64)
    campaign = replace(campaign, reference=Target(PROVIDERS["sim-beta"], "fast"))
    record, _, _ = run_campaign(campaign)
    record.campaign_id = SAMPLE_ID
    for rnd in record.rounds:
        for session in rnd.sessions:
            session.campaign["campaign_id"] = SAMPLE_ID
    with Store.open(db) as store:
        for rnd in record.rounds:
            for session in rnd.sessions:
                store.create_session(session)
                for probe in session.probes:
                    store.save_probe(session.session_id, probe)
                store.finish_session(session.session_id, session.finished_at, False)
        Campaigns(store).set_status(record.campaign_id, record.status, record.finished_at)
    return record.campaign_id
