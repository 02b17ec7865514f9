"""The commented example `infertui campaign init` writes.

It runs as written, against the built-in simulator (no key, no network).
Prose lines start with `##`; optional settings are lines starting with `# `
that form a valid campaign when uncommented (a test checks both).
"""

CAMPAIGN_STARTER = """\
## An infertui campaign: one model on several providers, measured over
## concurrency levels and time. Run it with:
##
##   infertui campaign run campaign.toml
##
## The same keys work as a [campaigns.NAME] section of the config file
## (then: infertui campaign run NAME).

name = "demo-70b-consistency"

## PROVIDER/MODEL entries, or group:NAME for a model group of the config.
## These three are the built-in simulator: replace them with real providers
## (each needs only its key exported), e.g. "groq/llama-3.3-70b-versatile".
targets = ["sim-alpha/demo-70b", "sim-beta/demo-70b", "sim-gamma/demo-70b"]

## The prompt: exactly one of
##   prompt = "the text itself"
##   prompts = ["haiku", "summary"]   (saved prompts of the config, cycled)
##   prompt_set = "short"             (built-in: short, long-1k, long-10k;
##                                     the long ones carry a per-request nonce)
prompt_set = "short"

## Each concurrency level is a cell per target: `requests` measured requests
## with that many in flight, after `warmup` requests that are discarded.
concurrency = [1, 5, 20]
requests = 75
warmup = 2

## Probe parameters (any of: max_tokens, temperature, reasoning).
max_tokens = 64
temperature = 0.0

## Optional settings: delete the "# " to switch one on.

## A per-request nonce at the start of every prompt (defeats caches).
# nonce = true

## Chains of K calls in a row on one lane (each starts when the previous one
## ends); a chain's total is an agent's task time.
# chain = 10

## After this much silence towards a target, probe it again; those probes
## are kept apart as cold-start probes.
# cold_start = { idle = "10m", probes = 3 }

## A schedule: one round every `every` for `for`, or one round as each of the
## `windows` opens (local time, or `timezone`).
# every = "30m"
# for = "24h"
# windows = ["09:00-17:00", "22:00-06:00"]
# timezone = "UTC"

## What counts as a good request (SLO attainment and goodput).
# slo = { ttft_ms = 500, e2e_ms = 4000 }

## A gap between two reads longer than this is a stall (counted).
# stall_ms = 2000

## Total time limit per request, seconds.
# timeout = 120

## Seed of the bootstrap intervals (and of the built-in simulator).
# seed = 0

## Checks of what each target serves: parameters honoured ("compliance"),
## the built-in suite of checkable prompts ("fidelity"), and agreement of
## every target's answers with a reference's.
# checks = ["compliance", "fidelity"]
# reference = "sim-beta/demo-70b"
"""
