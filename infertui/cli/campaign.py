"""`infertui campaign`: consistency campaigns, headless.

    campaign init [FILE]                 write a commented example (never overwrites)
    campaign run FILE|NAME [--json] [--no-save] [--vantage NAME] [--resume ID]
    campaign list [--name NAME] [--json]
    campaign show ID|last|NAME [--json]
    campaign export ID [-o FILE]         its sessions, for `infertui import` elsewhere

Exit status of `run`: 0 when it ran (probe errors are results), 2 for bad
arguments or config, 130 after Ctrl+C (everything finished is kept; resume
with --resume), 1 when results could not all be saved.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from pathlib import Path

from infertui.cli import interrupt
from infertui.cli.common import CliError, write_output

DEFAULT_FILE = "campaign.toml"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("campaign", help="consistency campaigns: many requests, levels, rounds",
                       description="One model on several providers, measured over concurrency "
                                   "levels and time: percentiles with bootstrap intervals, "
                                   "verdicts, rankings, availability.")
    actions = p.add_subparsers(dest="campaign_command", metavar="ACTION", required=True)

    init = actions.add_parser("init", help="write a commented example campaign file")
    init.add_argument("file", nargs="?", default=DEFAULT_FILE, metavar="FILE",
                      help=f"where to write it (default: {DEFAULT_FILE}; never overwritten)")
    init.set_defaults(func=init_cmd)

    run = actions.add_parser("run", help="run a campaign (a file, or a [campaigns.NAME] of the config)")
    run.add_argument("campaign", nargs="?", metavar="FILE|NAME")
    run.add_argument("--resume", metavar="ID", help="continue a stopped campaign (an id, a "
                                                   "unique prefix, 'last' or its name)")
    run.add_argument("--vantage", metavar="NAME", help="where this machine measures from "
                                                       "(default: the host name)")
    run.add_argument("--json", action="store_true", help="print the infertui.campaign/1 document")
    run.add_argument("--no-save", action="store_true", help="keep nothing in the results store")
    run.set_defaults(func=run_cmd)

    listing = actions.add_parser("list", help="stored campaigns, newest first")
    listing.add_argument("--name", metavar="NAME", help="only campaigns of this name")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.set_defaults(func=list_cmd)

    show = actions.add_parser("show", help="one campaign: cells, targets, verdicts, rankings")
    show.add_argument("campaign", metavar="ID", help="an id, a unique prefix, 'last' or a name")
    show.add_argument("--json", action="store_true", help="the infertui.campaign/1 document")
    show.set_defaults(func=show_cmd)

    export = actions.add_parser("export", help="a campaign's sessions as one JSON file, "
                                               "for `infertui import` on another machine")
    export.add_argument("campaign", metavar="ID")
    export.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default: stdout)")
    export.set_defaults(func=export_cmd)


# --- init ------------------------------------------------------------------------------

def init_cmd(args: argparse.Namespace) -> int:
    from infertui.store.campaign_starter import CAMPAIGN_STARTER

    target = Path(args.file)
    try:
        with target.open("x", encoding="utf-8") as out:
            out.write(CAMPAIGN_STARTER)
    except FileExistsError:
        raise CliError(f"{target} already exists; infertui never overwrites it") from None
    except OSError as exc:
        raise CliError(f"cannot write {target}: {exc.strerror or exc}") from None
    print(f"wrote {target}; run it with: infertui campaign run {target}")
    return 0


# --- run -------------------------------------------------------------------------------

def _spec_from(args: argparse.Namespace, config):
    from infertui.store.campaign_config import read_campaign_file
    from infertui.store.errors import ConfigError

    given = args.campaign
    path = Path(given)
    try:
        if path.is_file():
            return read_campaign_file(path)
    except ConfigError as exc:
        raise CliError(exc.report()) from None
    if given in config.campaigns:
        return config.campaigns[given]
    from infertui.store.checker import suggest

    known = ", ".join(sorted(config.campaigns)) or "none in the config"
    raise CliError(f"{given!r} is neither a campaign file nor a [campaigns.NAME] of the config"
                   f"{suggest(given, config.campaigns)} (campaigns: {known})")


def _resolved(args: argparse.Namespace, config):
    from infertui.store.campaign_config import resolve_campaign
    from infertui.store.errors import ConfigError

    try:
        return resolve_campaign(_spec_from(args, config), config)
    except ConfigError as exc:
        raise CliError(exc.report()) from None


def _stored_record(args: argparse.Namespace, key: str):
    """(record, resolved campaign) of a stored campaign, to resume."""
    from infertui.cli.context import open_store_or_fail
    from infertui.core.campaign.record import from_sessions
    from infertui.store.campaigns import Campaigns
    from infertui.store.errors import StoreError

    with open_store_or_fail(args, create=False) as store:
        campaigns = Campaigns(store)
        try:
            campaign_id = campaigns.resolve(key)
            row = campaigns.row(campaign_id)
            sessions = campaigns.load_sessions(campaign_id)
        except StoreError as exc:
            raise CliError(str(exc)) from None
    if row.status == "finished":
        raise CliError(f"campaign {campaign_id} already finished; nothing to resume")
    return from_sessions(sessions, status=row.status)


def run_cmd(args: argparse.Namespace) -> int:
    from infertui.cli.context import load_config_or_fail, open_store_or_fail
    from infertui.core.campaign.record import spec_of

    if bool(args.campaign) == bool(args.resume):
        raise CliError("give a campaign (FILE or NAME) or --resume ID, not both")
    config = load_config_or_fail(args)
    record = None
    if args.resume:
        if args.no_save:
            raise CliError("--resume continues a stored campaign; it cannot run with --no-save")
        record = _stored_record(args, args.resume)
        if args.vantage and args.vantage != record.vantage:
            raise CliError(f"campaign {record.campaign_id} was measured from "
                           f"{record.vantage!r}; a resume keeps its vantage point")
        campaign = spec_of(record, config.providers)
    else:
        campaign = _resolved(args, config)
    recorder = None
    if not args.no_save:
        from infertui.store.background import BackgroundRecorder

        open_store_or_fail(args).close()  # a broken store is exit 2 before anything runs
        recorder = BackgroundRecorder(getattr(args, "db", None))
    record, stopped, problems = asyncio.run(_run(campaign, record, args, recorder))
    if recorder is not None:
        problems += _save_status(args, record)
    from infertui.core.campaign.document import build

    doc = build(record)
    if args.json:
        sys.stdout.write(json.dumps(doc, ensure_ascii=False) + "\n")
    else:
        from infertui.cli.campaign_output import print_document

        print_document(doc)
    if recorder is not None and not problems:
        print(f"saved campaign {record.campaign_id}", file=sys.stderr)
    for problem in problems:
        print(f"infertui: {problem} (not everything was saved)", file=sys.stderr)
    if stopped:
        print(f"infertui: stopped; finished probes kept (continue with `infertui campaign run "
              f"--resume {record.campaign_id}`)", file=sys.stderr)
        return 130
    return 1 if problems else 0


def _save_status(args: argparse.Namespace, record) -> list[str]:
    from infertui.store.campaigns import Campaigns
    from infertui.store.errors import StoreError
    from infertui.store.repository import Store

    if not record.rounds:
        return []  # nothing ran, nothing stored
    try:
        with Store.open(getattr(args, "db", None)) as store:
            Campaigns(store).set_status(record.campaign_id, record.status, record.finished_at)
    except StoreError as exc:
        return [str(exc)]
    return []


async def _run(campaign, record, args, recorder):
    from infertui.core.campaign.executor import CampaignExecutor

    executor = CampaignExecutor(campaign, record=record, vantage=args.vantage)
    problems: list[str] = recorder.problems if recorder is not None else []
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGINT, executor.stop)
    except (NotImplementedError, RuntimeError):
        pass
    if interrupt.pressed():  # Ctrl+C came while the campaign was being set up
        loop.call_soon(executor.stop)  # once it has begun, it stops as Ctrl+C stops it
    view = None
    if not args.json and sys.stderr.isatty():
        from infertui.cli.campaign_output import ProgressView

        view = ProgressView(executor.progress, executor.clock)
        view.start()
    try:
        result = await executor.run(session_sink=recorder.sink if recorder is not None else None)
        if recorder is not None:
            await recorder.drained()
            recorder.close()
    finally:
        if view is not None:
            view.stop()
        try:
            loop.remove_signal_handler(signal.SIGINT)
        except (NotImplementedError, RuntimeError):
            pass
    return result, executor.stopped, list(problems)


# --- list, show, export ---------------------------------------------------------------

def list_cmd(args: argparse.Namespace) -> int:
    from infertui.cli.context import open_store_or_fail
    from infertui.store import paths
    from infertui.store.campaigns import Campaigns
    from infertui.textsafe import one_line

    rows = []
    if paths.db_file(args.db).exists():
        with open_store_or_fail(args) as store:
            rows = Campaigns(store).list(name=args.name, limit=None)
    if args.json:
        print(json.dumps([r.to_json() for r in rows], ensure_ascii=False, indent=2))
    elif not rows:
        print("no campaigns yet: run `infertui campaign init` then `infertui campaign run "
              f"{DEFAULT_FILE}`", file=sys.stderr)
    for r in rows if not args.json else ():
        print(f"{r.campaign_id}  {r.started_at}  {r.status:<8}  {one_line(r.name, 40)}  "
              f"vantage {one_line(r.vantage, 30)}  {r.rounds} round{'s' if r.rounds != 1 else ''}, "
              f"{r.probes} probes" + ("  (imported)" if r.imported else ""))
    return 0


def load_document(args: argparse.Namespace, key: str) -> dict:
    """The document of a stored campaign, compared with the newest run of the
    same campaign from every other vantage point in the store."""
    from infertui.core.campaign.document import build

    return build(*load_record(args, key))


def load_record(args: argparse.Namespace, key: str):
    """(the stored campaign, its peers from other vantage points): what
    `load_document` builds the document from (`infertui report` too)."""
    from infertui.cli.context import open_store_or_fail
    from infertui.core.campaign.record import from_sessions
    from infertui.store.campaigns import Campaigns
    from infertui.store.errors import StoreError

    with open_store_or_fail(args, create=False) as store:
        campaigns = Campaigns(store)
        try:
            campaign_id = campaigns.resolve(key)
            row = campaigns.row(campaign_id)
            record = from_sessions(campaigns.load_sessions(campaign_id), status=row.status,
                                   finished_at=row.finished_at)
            peers = [from_sessions(campaigns.load_sessions(p.campaign_id), status=p.status,
                                   finished_at=p.finished_at)
                     for p in campaigns.vantage_peers(row.name)
                     if p.vantage != row.vantage and p.sessions]
        except (StoreError, ValueError) as exc:
            raise CliError(str(exc)) from None
    return record, peers


def show_cmd(args: argparse.Namespace) -> int:
    doc = load_document(args, args.campaign)
    if args.json:
        sys.stdout.write(json.dumps(doc, ensure_ascii=False) + "\n")
        return 0
    from infertui.cli.campaign_output import print_document

    print_document(doc)
    return 0


def export_cmd(args: argparse.Namespace) -> int:
    from infertui.cli.context import open_store_or_fail
    from infertui.store.campaigns import Campaigns
    from infertui.store.errors import StoreError
    from infertui.store.export import to_json

    with open_store_or_fail(args, create=False) as store:
        campaigns = Campaigns(store)
        try:
            sessions = campaigns.load_sessions(campaigns.resolve(args.campaign))
        except StoreError as exc:
            raise CliError(str(exc)) from None
    text = to_json(sessions)
    write_output(args.output, text, f"{len(sessions)} sessions")
    return 0
