"""Checks of what a provider serves, beside how fast it serves it.

- `compliance`: does the provider honour the parameters it was sent
  (max_tokens, stop, reasoning off, seed, JSON output)? A verdict per check,
  `pass`, `fail` or `n/a`, with the evidence (requests, texts, counts).
- `fidelity`: a built-in suite of prompts whose answers a program can check
  (arithmetic, number words, counting, exact formatting, JSON with given
  keys, copying a long string), scored per target with each failure kept.
- agreement with a reference target on the suite's prompts.

Check probes are ordinary probes tagged with their step (`ProbeResult.check`)
and the request they sent (`ProbeResult.request`, never with a key), so every
verdict is computed from stored probes alone: a live run, `show` from the
store and an import elsewhere give the same verdicts.
"""

COMPLIANCE = "compliance"
FIDELITY = "fidelity"
CHECK_SETS = (COMPLIANCE, FIDELITY)
PHASE = "check"  # ProbeResult.phase of a check probe: never in latency statistics
