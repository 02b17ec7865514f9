"""Consistency campaigns: one model on several providers, measured over
concurrency levels and time.

    spec      CampaignSpec (what a campaign TOML names) and ResolvedCampaign
    prompts   the built-in prompt sets (short, long-1k, long-10k)
    plan      rounds from the schedule, cells, lazily numbered jobs
    events    what the executor tells its consumers
    executor  runs the cells on run_probe and one client per lane
    analysis  per-cell and per-target statistics over stored probes
    verdicts  pairwise comparisons and rankings per model
    document  the `infertui.campaign/1` JSON document

Plain asyncio, like the rest of the core: never imports textual, rich or
infertui.store.
"""
