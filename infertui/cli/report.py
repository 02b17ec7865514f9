"""`infertui report SESSION|CAMPAIGN --format html|md|json [-o FILE]`: one
self-contained file a person can attach to a decision.

The numbers are the document's: a campaign's is built by the same function
as `campaign show --json` from the same stored campaign, a session's is what
`show --json` prints. The HTML has inline SVG charts and no script, font or
style from anywhere else; every string from a server, a file or a user is
escaped.
"""

from __future__ import annotations

import argparse
import json

from infertui.cli.common import CliError, json_text, write_output

FORMATS = ("html", "md", "json")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="a session or a campaign as one HTML, Markdown or JSON file",
                       description="Write a self-contained report of a stored session or "
                                   "campaign: charts (HTML) and verdict tables.")
    p.add_argument("key", metavar="SESSION|CAMPAIGN",
                   help="a session id or prefix, 'last' (the newest session), or a campaign id, "
                        "prefix or name")
    p.add_argument("--campaign", action="store_true",
                   help="KEY is a campaign ('--campaign last': the newest campaign)")
    p.add_argument("--format", choices=FORMATS, default="html", help="(default: html)")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default: stdout)")
    p.set_defaults(func=run)


def _is_campaign(args: argparse.Namespace) -> bool:
    """A session unless --campaign says otherwise or no session matches."""
    from infertui.cli.context import open_store_or_fail
    from infertui.store.campaigns import Campaigns
    from infertui.store.errors import StoreError

    if args.campaign:
        return True
    with open_store_or_fail(args, create=False) as store:
        try:
            store.resolve_id(args.key)
            return False
        except StoreError as session_error:
            try:
                Campaigns(store).resolve(args.key)
            except StoreError:
                raise CliError(f"{session_error}; no campaign {args.key!r} either") from None
            return True


def build_report(args: argparse.Namespace):
    from infertui.report.build import campaign_report, session_report

    if _is_campaign(args):
        from infertui.cli.campaign import load_record
        from infertui.core.campaign.document import build
        from infertui.report.charts import campaign_samples

        record, peers = load_record(args, args.key)
        return campaign_report(build(record, peers), campaign_samples(record))
    from infertui.cli.context import open_store_or_fail
    from infertui.store.errors import StoreError

    with open_store_or_fail(args, create=False) as store:
        try:
            session = store.load_session(args.key)
        except StoreError as exc:
            raise CliError(str(exc)) from None
    return session_report(session.to_json())


def render(report, fmt: str) -> str:
    if fmt == "json":
        return json_text(report.to_json()) + "\n"
    if fmt == "md":
        from infertui.report.markdown import render as markdown

        return markdown(report)
    from infertui.report.html import render as html

    return html(report)


def run(args: argparse.Namespace) -> int:
    report = build_report(args)
    text = render(report, args.format)
    write_output(args.output, text, f"the {report.kind} report")
    return 0


__all__ = ["register", "run", "build_report", "render", "json"]
