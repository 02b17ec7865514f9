"""`infertui probe` options for the parameters and checks added with the
fidelity work: --stop, --request-seed, --top-p, --json-output, and --check /
--reference (compliance and fidelity checks run into the same session, after
its probes). Kept apart so the probe command's own arguments stay as they
were."""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import Any

from infertui.cli.common import CliError, number_arg, whole_number_arg
from infertui.core.checks import CHECK_SETS
from infertui.core.targets import ProbeParams
from infertui.inputs import MAX_TOP_P
from infertui.store.errors import ConfigError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--stop", action="append", default=None, metavar="TEXT",
                   help="a stop sequence (repeatable): the answer ends where it would appear")
    p.add_argument("--request-seed", type=whole_number_arg(), default=None, metavar="N",
                   help="the sampling seed sent with each request (OpenAI seed, Gemini "
                        "generationConfig.seed; the Anthropic API has none)")
    p.add_argument("--top-p", type=number_arg(0, MAX_TOP_P), default=None, metavar="P",
                   help="nucleus sampling, 0 to 1")
    p.add_argument("--json-output", action="store_true", default=None,
                   help="ask for a JSON answer (OpenAI response_format, Gemini responseMimeType)")
    p.add_argument("--check", action="append", default=[], choices=CHECK_SETS,
                   help="after the probes, run a check set on every target (repeatable): "
                        "compliance (parameters honoured) or fidelity (the built-in suite)")
    p.add_argument("--reference", metavar="PROVIDER/MODEL",
                   help="compare every target's answers to the fidelity suite with this "
                        "target's (runs the suite)")


def with_params(params: ProbeParams, args: argparse.Namespace) -> ProbeParams:
    """`params` with whatever these options set."""
    changes: dict[str, Any] = {}
    if args.stop is not None:
        if any(s == "" for s in args.stop):
            raise CliError("--stop needs a non-empty sequence")
        changes["stop"] = tuple(args.stop)
    if args.request_seed is not None:
        changes["request_seed"] = args.request_seed
    if args.top_p is not None:
        changes["top_p"] = args.top_p
    if args.json_output:
        changes["json_output"] = True
    return replace(params, **changes) if changes else params


def reference_target(args: argparse.Namespace, config):
    if not args.reference:
        return None
    try:
        found = config.resolve_target(args.reference)
    except ConfigError as exc:
        raise CliError(f"--reference: {exc}") from None
    if len(found) != 1:
        raise CliError(f"--reference {args.reference!r} is a group; give one PROVIDER/MODEL")
    return found[0]
