"""`infertui probe`: run a comparison headless.

In a terminal it shows a live table; with --json it prints one
`infertui.session/1` document on stdout and nothing else there. Probe errors
are results (exit 0); bad arguments or config exit 2 with one line.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path
from urllib.parse import urlsplit

from infertui.cli import interrupt
from infertui.cli.common import CliError, json_text, number_arg, whole_number_arg
from infertui.cli.probe_params import add_arguments as add_param_arguments
from infertui.cli.probe_params import reference_target, with_params
from infertui.core.session import RunSettings, Session
from infertui.core.targets import Api, ProbeParams, Provider, Target, Timeouts
from infertui.inputs import (
    DEFAULT_PROMPT,
    MAX_CONCURRENCY,
    MAX_REPEAT,
    MAX_TEMPERATURE,
    MAX_TOKENS,
    MAX_WARMUP,
)
from infertui.store.errors import ConfigError
from infertui.textsafe import one_line


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("probe", help="run streaming probes headless",
                       description="Fire concurrent streaming probes at one or more targets and report "
                                   "TTFT, decode speed, tail latency and errors.")
    p.add_argument("-t", "--target", action="append", default=[], metavar="PROVIDER/MODEL",
                   help="a target (repeatable); split at the first '/'. Also group:NAME for a model group. "
                        "Built-in simulator providers (sim-alpha, sim-beta, sim-gamma) need no config")
    adhoc = p.add_argument_group("ad hoc endpoint (no config needed)")
    adhoc.add_argument("--base-url", metavar="URL", help="base URL of an endpoint, e.g. http://127.0.0.1:8080/v1")
    adhoc.add_argument("--api", choices=[a.value for a in Api], default="openai", help="its wire format")
    adhoc.add_argument("--model", action="append", default=[], metavar="M", help="model id (repeatable)")
    adhoc.add_argument("--api-key-env", metavar="VAR", help="environment variable holding its key")
    adhoc.add_argument("--name", metavar="NAME",
                       help="its provider name in results (default: HOST:PORT of --base-url)")
    p.add_argument("--comparison", metavar="NAME",
                   help="run a saved comparison (targets, prompt, parameters); options given here override it")
    prompt = p.add_mutually_exclusive_group()
    prompt.add_argument("-p", "--prompt", help=f"the prompt; '-' reads stdin (default: {DEFAULT_PROMPT!r})")
    prompt.add_argument("--prompt-file", metavar="FILE",
                        help="read the prompt from FILE ('-' for stdin); one trailing newline is dropped")
    prompt.add_argument("--saved-prompt", metavar="NAME", help="a prompt saved in the config")
    p.add_argument("--system", help="a system prompt")
    p.add_argument("--max-tokens", type=whole_number_arg(1, MAX_TOKENS), default=None, metavar="N",
                   help=f"(config default: 256; at most {MAX_TOKENS:,})")
    p.add_argument("--temperature", type=number_arg(0, MAX_TEMPERATURE), default=None, metavar="T")
    p.add_argument("--reasoning", choices=["on", "off"], default=None,
                   help="ask for reasoning on or off where the API has a switch")
    p.add_argument("-n", "--repeat", type=whole_number_arg(1, MAX_REPEAT), default=None, metavar="N",
                   help=f"measured probes per target (1; at most {MAX_REPEAT:,})")
    p.add_argument("-c", "--concurrency", type=whole_number_arg(1, MAX_CONCURRENCY), default=None,
                   metavar="N", help=f"probes in flight per target (1; at most {MAX_CONCURRENCY:,}; "
                                     "a provider's max_concurrency caps it)")
    p.add_argument("--warmup", type=whole_number_arg(0, MAX_WARMUP), default=None, metavar="N",
                   help="warm-up probes per target, run first and excluded from statistics "
                        f"(at most {MAX_WARMUP:,})")
    p.add_argument("--nonce", action="store_true", default=None,
                   help="prefix each prompt with a unique nonce (defeats caches)")
    p.add_argument("--timeout", type=_seconds, metavar="S", help="total time limit per probe, seconds")
    p.add_argument("--seed", type=int, default=0, help="seed of the built-in simulator")
    add_param_arguments(p)
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    p.add_argument("--no-save", action="store_true", help="do not save the session in the results store")
    p.set_defaults(func=run)


def _seconds(text: str) -> float:
    value = number_arg(0, 86_400)(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0 and at most 86400 s, got {text!r}")
    return value


def _drop_one_newline(text: str) -> str:
    """A file or a pipe ends with a newline the user did not mean as part of
    the prompt (`echo hi |`): one is dropped, any others kept."""
    for end in ("\r\n", "\n"):
        if text.endswith(end):
            return text[: -len(end)]
    return text


def _read_stdin() -> str:
    try:
        return sys.stdin.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read the prompt from stdin: {exc}") from None


def read_prompt(args: argparse.Namespace, config) -> tuple[str | None, str | None]:
    """(prompt, system) from the options, or (None, None) when none was given.
    `-p -` and `--prompt-file -` read stdin."""
    if args.prompt_file:
        if args.prompt_file == "-":
            text = _read_stdin()
        else:
            try:
                text = Path(args.prompt_file).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                why = getattr(exc, "strerror", None) or exc
                raise CliError(f"cannot read prompt file {args.prompt_file}: {why}") from None
        text = _drop_one_newline(text)
        if not text.strip():
            raise CliError(f"prompt file {args.prompt_file} is empty")
        return text, None
    if args.prompt is not None:
        text = _drop_one_newline(_read_stdin()) if args.prompt == "-" else args.prompt
        if not text.strip():
            raise CliError("the prompt is empty" + (" (read from stdin)" if args.prompt == "-" else ""))
        return text, None
    if args.saved_prompt:
        try:
            saved = config.saved_prompt(args.saved_prompt)
        except ConfigError as exc:
            raise CliError(str(exc)) from None
        return saved.text, saved.system
    return None, None


def adhoc_name(base_url: str, name: str | None = None) -> str:
    """The provider name of an ad hoc endpoint: `--name`, else its host and
    port (`127.0.0.1:8080`), so runs against different servers stay apart in
    history. Never a '/': a target is split at its first one."""
    if name is not None:
        name = name.strip()
        if not name or "/" in name or any(ch.isspace() for ch in name):
            raise CliError(f"--name {name!r}: give a name without '/' or spaces")
        return name
    parts = urlsplit(base_url)
    host = parts.hostname or "adhoc"
    host = f"[{host}]" if ":" in host else host
    try:
        port = parts.port
    except ValueError:
        raise CliError(f"--base-url {base_url!r} has an invalid port") from None
    return f"{host}:{port}" if port else host


def resolve_targets(args: argparse.Namespace, config, base: list[Target],
                    concurrency: int = 1) -> list[Target]:
    targets: list[Target] = list(base)
    if args.base_url:
        if not args.model:
            raise CliError("--base-url needs at least one --model")
        if not args.base_url.startswith(("http://", "https://")):
            raise CliError(f"--base-url must start with http:// or https://, got {args.base_url!r}")
        # An ad hoc endpoint has no config to cap it: it runs what -c asks.
        provider = Provider(name=adhoc_name(args.base_url, args.name), api=Api(args.api),
                            base_url=args.base_url, api_key_env=args.api_key_env,
                            timeouts=config.defaults.timeouts, max_concurrency=concurrency)
        targets += [Target(provider, m) for m in args.model]
    elif args.model or args.name:
        raise CliError("--model and --name are for an ad hoc endpoint with --base-url; "
                       "use --target PROVIDER/MODEL")
    if args.target:
        try:
            targets += config.resolve_targets(args.target)
        except ConfigError as exc:  # a clear message
            raise CliError(str(exc)) from None
    if not targets:
        raise CliError("no target: give --target PROVIDER/MODEL (try sim-alpha/demo-70b) "
                       "or --base-url URL --model M")
    targets = list({t.label: t for t in targets}.values())
    if args.timeout is not None:
        targets = [_with_total_timeout(t, args.timeout) for t in targets]
    return targets


def capped_concurrency(targets: list[Target], settings: RunSettings) -> list[str]:
    """One line per provider whose max_concurrency is below the concurrency
    asked (and that the run would use): it runs fewer at a time than asked."""
    concurrency = settings.concurrency
    usable = min(concurrency, settings.repeat + settings.warmup)
    lines = []
    for provider in {t.provider.name: t.provider for t in targets}.values():
        cap = max(1, provider.max_concurrency)
        if usable > cap:
            lines.append(f"{one_line(provider.name)} runs at most {cap} at a time (its "
                         f"max_concurrency), not {concurrency}; raise it in the config "
                         f"([providers.{one_line(provider.name)}] max_concurrency = {concurrency})")
    return lines


def _with_total_timeout(target: Target, total: float) -> Target:
    from dataclasses import replace

    t = target.provider.timeouts
    timeouts = Timeouts(connect=min(t.connect, total), headers=min(t.headers, total),
                        stall=min(t.stall, total), total=total)
    return Target(replace(target.provider, timeouts=timeouts), target.model)


def run(args: argparse.Namespace) -> int:
    from infertui.cli.context import load_config_or_fail

    config = load_config_or_fail(args)
    prompt, system = read_prompt(args, config)
    base_targets: list[Target] = []
    if args.comparison:
        try:
            saved = config.resolve_comparison(args.comparison)
        except ConfigError as exc:
            raise CliError(str(exc)) from None
        base_targets, base_params, base_settings = saved.targets, saved.params, saved.settings
        prompt = prompt if prompt is not None else base_params.prompt
        system = args.system if args.system is not None else (system or base_params.system)
        params = ProbeParams(
            prompt=prompt, system=system,
            max_tokens=args.max_tokens if args.max_tokens is not None else base_params.max_tokens,
            temperature=args.temperature if args.temperature is not None else base_params.temperature,
            reasoning=base_params.reasoning if args.reasoning is None else args.reasoning == "on",
        )
        settings = RunSettings(
            repeat=args.repeat if args.repeat is not None else base_settings.repeat,
            concurrency=args.concurrency if args.concurrency is not None else base_settings.concurrency,
            warmup=args.warmup if args.warmup is not None else base_settings.warmup,
            nonce=args.nonce if args.nonce is not None else base_settings.nonce,
        )
    else:
        params = config.probe_params(
            prompt if prompt is not None else DEFAULT_PROMPT,
            system=args.system if args.system is not None else system,
            max_tokens=args.max_tokens, temperature=args.temperature,
            reasoning=None if args.reasoning is None else args.reasoning == "on")
        settings = config.run_settings(repeat=args.repeat, concurrency=args.concurrency,
                                       warmup=args.warmup, nonce=args.nonce)
    params = with_params(params, args)
    reference = reference_target(args, config)
    targets = resolve_targets(args, config, base_targets, settings.concurrency)
    for line in capped_concurrency(targets, settings):
        print(f"infertui: note: {line}", file=sys.stderr)
    recorder = None
    if not args.no_save:
        from infertui.cli.context import open_store_or_fail
        from infertui.store.background import BackgroundRecorder

        # Open (and migrate) the store up front, so a broken one is exit 2
        # before anything runs; the writer thread opens its own connection.
        try:
            open_store_or_fail(args).close()
        except CliError as exc:
            raise CliError(f"{exc} (or run with --no-save)") from None
        recorder = BackgroundRecorder(getattr(args, "db", None))
    session, cancelled, _problems = asyncio.run(_run(targets, params, settings, args, recorder,
                                                     reference))
    if args.json:
        from infertui.store.jsonsafe import session_document

        sys.stdout.write(json_text(session_document(session)) + "\n")
    else:
        from infertui.cli.render import print_summary

        print_summary(session)
        if session.check_spec:
            from infertui.cli.render import print_checks

            print_checks(session.to_json())
    if recorder is not None:
        report_saving(recorder, session.session_id)
    if cancelled:
        print("infertui: cancelled; finished probes kept", file=sys.stderr)
        return 130
    # 1 when probes were lost to the store (the rescue file has them).
    return 1 if recorder is not None and recorder.unsaved else 0


def report_saving(recorder, session_id: str) -> None:
    """Say on stderr that the session was saved, or exactly which probes were
    not, why, and the rescue file that `infertui import` saves them from."""
    if not recorder.problems:
        print(f"saved session {session_id}", file=sys.stderr)
        return
    told = set()
    for unsaved in recorder.unsaved:
        headline, *rest = unsaved.lines()
        told.add(headline)
        print(f"infertui: {headline}", file=sys.stderr)
        for line in rest:
            print(line if line.startswith(" ") else f"infertui: {line}", file=sys.stderr)
    for problem in recorder.problems:
        if problem not in told:
            print(f"infertui: {problem}", file=sys.stderr)


async def _run(targets, params, settings, args, recorder, reference=None
               ) -> tuple[Session, bool, list[str]]:
    from infertui.core.clients import ClientPool
    from infertui.core.runner import Runner

    pool = ClientPool(sim_seed=args.seed)
    runner = Runner(targets, params, settings, clients=pool)
    checks = list(args.check)
    if checks or reference is not None:
        from infertui.core.checks.session_run import check_spec

        runner.session.check_spec = check_spec(checks, reference)  # stored with the session
    problems: list[str] = recorder.problems if recorder is not None else []

    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGINT, runner.cancel)
    except (NotImplementedError, RuntimeError):
        pass
    if interrupt.pressed():  # Ctrl+C came while the run was being set up
        loop.call_soon(runner.cancel)  # once the run has begun, it ends as Ctrl+C ends it
    sinks = [recorder.sink(runner.session)] if recorder is not None else []
    live = None
    if not args.json and sys.stderr.isatty():
        from infertui.cli.render import LiveTable

        live = LiveTable(targets, settings)
        sinks.append(live.on_event)
        live.start()
    cancelled = False
    try:
        try:
            session = await runner.run(*sinks)
            cancelled = runner.cancelled
            if runner.session.check_spec and not cancelled:
                cancelled = await _checks(session, checks, reference, pool, sinks[:1], loop)
        finally:
            if live is not None:
                live.stop()
        if recorder is not None:
            if recorder.failing:
                print(f"infertui: saving is failing ({recorder.failing}); trying again for up "
                      f"to {recorder.retry_for:g} s (Ctrl+C: stop and write the rescue file "
                      "now)", file=sys.stderr)
            try:  # Ctrl+C now: stop retrying, give up what is unsaved (rescue file)
                loop.add_signal_handler(signal.SIGINT, recorder.close)
            except (NotImplementedError, RuntimeError):
                pass
            await recorder.drained()
            recorder.close()
    finally:
        try:
            loop.remove_signal_handler(signal.SIGINT)
        except (NotImplementedError, RuntimeError):
            pass
    await pool.aclose()
    return session, cancelled, problems


async def _checks(session, checks, reference, pool, sinks, loop) -> bool:
    """The check sets on every target, into the session (and the store);
    True when Ctrl+C stopped them."""
    from infertui.core.checks.session_run import run_session_checks
    from infertui.core.events import SessionFinished

    emit = sinks[0] if sinks else (lambda _event: None)
    task = asyncio.ensure_future(run_session_checks(session, checks, clients=pool,
                                                    reference=reference, emit=emit))
    try:
        loop.add_signal_handler(signal.SIGINT, task.cancel)
    except (NotImplementedError, RuntimeError):
        pass
    cancelled = False
    try:
        await task
    except asyncio.CancelledError:
        cancelled = True
    emit(SessionFinished(session.session_id, cancelled))  # index the new answers for search
    return cancelled
