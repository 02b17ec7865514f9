"""Commands over the config and the results store: config, history, show,
export, import, delete, search."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from infertui import inputs
from infertui.cli.common import CliError, json_text, whole_number_arg, write_output
from infertui.cli.context import load_config_or_fail, open_store_or_fail, store_errors_as_one_line
from infertui.store import jsonsafe, paths
from infertui.store.config import load_config
from infertui.store.errors import ConfigError, StoreError
from infertui.store.export import FORMATS, read_documents, render
from infertui.store.rows import SessionRow
from infertui.store.starter import STARTER
from infertui.tables.fit import plural
from infertui.textsafe import clean_str, display, one_line


def register(sub: argparse._SubParsersAction) -> None:
    config = sub.add_parser("config", help="where the config lives, a starter file, a check",
                            description="The config file is yours: infertui reads it and never "
                                        "writes it (except `config init`, which makes a new one).")
    config_sub = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    config_sub.add_parser("path", help="print the config, state and database paths"
                          ).set_defaults(func=config_path)
    config_sub.add_parser("init", help="write a commented starter config (never overwrites)"
                          ).set_defaults(func=config_init)
    config_sub.add_parser("check", help="validate the config: file:line: problem, exit 2"
                          ).set_defaults(func=config_check)

    history = sub.add_parser("history", help="past sessions, newest first")
    history.add_argument("--target", metavar="T", help="only sessions with this PROVIDER/MODEL "
                                                       "or provider")
    history.add_argument("--model", metavar="M", help="only sessions with a model id containing "
                                                      "M (or a model group's ids)")
    history.add_argument("--since", metavar="WHEN", type=_since,
                         help="ISO date/time (local time unless it says), or an age: 30m, 12h, 7d, 2w")
    history.add_argument("--limit", type=whole_number_arg(1), default=20, metavar="N")
    history.add_argument("--json", action="store_true", help="print a JSON array")
    history.set_defaults(func=history_cmd)

    show = sub.add_parser("show", help="one session: per-target summary and probes")
    show.add_argument("session", metavar="SESSION", help="an id, a unique prefix of one, or 'last'")
    show.add_argument("--json", action="store_true", help="the infertui.session/1 document")
    show.add_argument("--outputs", action="store_true", help="also print every probe's output")
    show.set_defaults(func=show_cmd)

    export = sub.add_parser("export", help="write sessions as JSON, CSV or Markdown")
    export.add_argument("sessions", nargs="+", metavar="SESSION")
    export.add_argument("--format", choices=FORMATS, default="json")
    export.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default: stdout)")
    export.set_defaults(func=export_cmd)

    imp = sub.add_parser("import", help="merge JSON exports into the store (twice adds nothing)")
    imp.add_argument("files", nargs="+", metavar="FILE", help="export files ('-' for stdin)")
    imp.set_defaults(func=import_cmd)

    delete = sub.add_parser("delete", help="delete sessions and their probes")
    delete.add_argument("sessions", nargs="+", metavar="SESSION")
    delete.add_argument("-y", "--yes", action="store_true", help="do not ask")
    delete.set_defaults(func=delete_cmd)

    search = sub.add_parser("search", help="sessions whose prompt or outputs contain TEXT")
    search.add_argument("text", metavar="TEXT")
    search.add_argument("--limit", type=whole_number_arg(1), default=20, metavar="N")
    search.add_argument("--json", action="store_true", help="print a JSON array")
    search.set_defaults(func=search_cmd)


def _since(text: str) -> str | None:
    try:
        return inputs.parse_since(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


# --- config -------------------------------------------------------------------------

def _describe(path: Path) -> str:
    if path.is_file():
        size = path.stat().st_size
        return f"{path}  (exists, {size / 1e6:.1f} MB)" if size > 1e6 else f"{path}  (exists)"
    return f"{path}  (not created yet)"


def config_path(args: argparse.Namespace) -> int:
    cfg = paths.config_file(args.config)
    rows = [
        ("config file", _describe(cfg), "--config" if args.config else paths.ENV_CONFIG_DIR),
        ("state file", _describe(paths.state_file()), paths.ENV_CONFIG_DIR),
        ("database", _describe(paths.db_file(args.db)),
         "--db" if args.db else paths.ENV_DATA_DIR),
    ]
    for name, where, moved_by in rows:
        print(f"{name:<12} {where}   [moved by {moved_by}]")
    return 0


def config_init(args: argparse.Namespace) -> int:
    target = paths.config_file(args.config)
    if target.exists():
        raise CliError(f"{target} already exists; infertui never overwrites your config "
                       "(check it with `infertui config check`)")
    try:
        paths.ensure_parent(target)
        with target.open("x", encoding="utf-8") as out:
            out.write(STARTER)
    except OSError as exc:
        raise CliError(f"cannot write {target}: {exc.strerror or exc}") from None
    print(f"wrote {target}")
    return 0


def config_check(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(display(exc.report()), file=sys.stderr)
        print(f"infertui: {plural(len(exc.problems), 'problem')} in the config", file=sys.stderr)
        return 2
    where = config.path if config.exists else f"{config.path} (not created: presets only)"
    print(f"{one_line(where)}: ok")
    print(f"  {plural(len(config.providers), 'provider')}, "
          f"{plural(len(config.model_groups), 'model group')}, "
          f"{plural(len(config.prompts), 'saved prompt')}, "
          f"{plural(len(config.comparisons), 'saved comparison')}")
    for line in provider_lines(config):
        print(line)
    for notice in config.notices:
        print(f"notice: {display(notice)}", file=sys.stderr)
    return 0


def provider_lines(config, timeout_s: float = 1.0) -> list[str]:
    """Which providers can be used now, and why the others cannot. A keyless
    server on this machine is called running only when its port answers."""
    import asyncio

    from infertui.core.models import detect_local, loopback_port

    providers = list(config.providers.values())
    local = [p for p in providers if not p.simulated and not p.needs_key()
             and loopback_port(p) is not None]
    answering = {p.name for p in asyncio.run(detect_local(local, timeout_s=timeout_s))}
    groups: dict[str, list[str]] = {}

    def add(group: str, text: str) -> None:
        groups.setdefault(group, []).append(one_line(text))
    for p in providers:
        if p.simulated:
            add("simulated (built in)", p.name)
        elif p in local:
            where = f"{p.name} (127.0.0.1:{loopback_port(p)})"
            add("local, answering" if p.name in answering else "local, not answering now", where)
        elif not p.needs_key():
            add("no key needed (not checked)", p.name)
        elif p.api_key(config.environ):
            add("key set", p.name)
        else:
            problem = p.key_problem(config.environ)
            add("waiting for a key", f"{p.name} (${p.api_key_env})" if problem is None or
                problem.startswith("no API key") else f"{p.name} (${p.api_key_env} unusable)")
    order = ("simulated (built in)", "key set", "local, answering", "no key needed (not checked)",
             "local, not answering now", "waiting for a key")
    return [f"  {group}: {', '.join(groups[group])}" for group in order if group in groups]


# --- history, show, search ---------------------------------------------------------------

def _print_rows(rows: list[SessionRow], as_json: bool, empty: str) -> None:
    if as_json:
        print(json_text([r.to_json() for r in rows], indent=2))
    elif not rows:
        print(one_line(empty), file=sys.stderr)
    else:
        for row in rows:
            print(one_line(row.summary_line()))


@store_errors_as_one_line
def history_cmd(args: argparse.Namespace) -> int:
    models: list[str] | None = None
    if args.model:
        groups = load_config_or_fail(args).model_groups
        models = [args.model, *groups.get(args.model, {}).values()]
    since = args.since
    if not paths.db_file(args.db).exists():  # nothing recorded yet: do not create it
        _print_rows([], args.json, "no sessions yet: run `infertui probe`")
        return 0
    with open_store_or_fail(args, read_only=True) as store:
        rows = store.list_sessions(target=args.target, model=models, since=since,
                                   limit=args.limit)
    _print_rows(rows, args.json, "no sessions match" if (args.target or args.model or args.since)
                else "no sessions yet: run `infertui probe`")
    return 0


@store_errors_as_one_line
def search_cmd(args: argparse.Namespace) -> int:
    if not paths.db_file(args.db).exists():
        _print_rows([], args.json, "no sessions yet: run `infertui probe`")
        return 0
    with open_store_or_fail(args, read_only=True) as store:
        rows = store.search(args.text, limit=args.limit)
    _print_rows(rows, args.json, f"no session contains {args.text!r}")
    return 0


def _load(store, ids: list[str]):
    try:
        return [store.load_session(i) for i in ids]
    except StoreError as exc:
        raise CliError(str(exc)) from None


@store_errors_as_one_line
def show_cmd(args: argparse.Namespace) -> int:
    with open_store_or_fail(args, read_only=True) as store:
        session = _load(store, [args.session])[0]
    if args.json:
        sys.stdout.write(json_text(jsonsafe.session_document(session)) + "\n")
        return 0
    from infertui.cli.show import print_session

    print_session(session, outputs=args.outputs)
    return 0


# --- export, import, delete ---------------------------------------------------------------

@store_errors_as_one_line
def export_cmd(args: argparse.Namespace) -> int:
    with open_store_or_fail(args, read_only=True) as store:
        sessions = _load(store, args.sessions)
    # JSON keeps every value (unsafe characters as JSON escapes); CSV and
    # Markdown show controls as visible escapes already. No lone surrogate
    # survives: it could not be written as UTF-8.
    text = json_text(json.loads(render(sessions, "json")), indent=2) + "\n" \
        if args.format == "json" else clean_str(render(sessions, args.format))
    write_output(args.output, text, plural(len(sessions), "session"))
    return 0


# An export this big would take several times its size in memory to read.
MAX_IMPORT_BYTES = 512 << 20


def _read_import(name: str) -> str:
    """The text of an export file ('-': stdin), or a one-line CliError."""
    limit = f"{MAX_IMPORT_BYTES >> 20} MiB"
    try:
        if name == "-":
            data = sys.stdin.buffer.read(MAX_IMPORT_BYTES + 1)
            size = len(data)
        else:
            path = Path(name)
            size = path.stat().st_size
            data = b"" if size > MAX_IMPORT_BYTES else path.read_bytes()
        if size > MAX_IMPORT_BYTES:
            raise CliError(f"{name}: over {limit}; infertui imports files up to {limit} (export "
                           "fewer sessions per file)")
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CliError(f"{name}: not UTF-8 text (byte {exc.start}): not an infertui export"
                       ) from None
    except (OSError, MemoryError) as exc:
        why = getattr(exc, "strerror", None) or type(exc).__name__
        raise CliError(f"cannot read {name}: {why}") from None


@store_errors_as_one_line
def import_cmd(args: argparse.Namespace) -> int:
    conflicts = 0
    with open_store_or_fail(args) as store:
        for name in args.files:
            text = _read_import(name)
            try:
                docs = read_documents(text, name)
                del text
                outcomes = store.import_documents(docs, name)
            except MemoryError:
                raise CliError(f"{one_line(name)}: too large to import in the memory available") from None
            for outcome in outcomes:
                if outcome.conflict:
                    conflicts += 1
                    print(f"infertui: {one_line(name)}: session {one_line(outcome.session_id)} is "
                          f"already stored with different content ({one_line(outcome.conflict)}); "
                          "not imported", file=sys.stderr)
            done = [o for o in outcomes if not o.conflict]
            new = sum(o.created for o in done)
            probes = sum(o.probes_added for o in done)
            present = sum(not o for o in done)
            print(f"{one_line(name)}: {plural(len(done), 'session')}: {new} new, "
                  f"{plural(probes, 'probe')} added, {present} already present"
                  + (f", {len(outcomes) - len(done)} in conflict" if len(done) < len(outcomes)
                     else ""))
    return 1 if conflicts else 0


@store_errors_as_one_line
def delete_cmd(args: argparse.Namespace) -> int:
    with open_store_or_fail(args, create=False) as store:
        try:
            ids = list(dict.fromkeys(store.resolve_id(s) for s in args.sessions))
        except StoreError as exc:
            raise CliError(str(exc)) from None
        if not args.yes:
            if not sys.stdin.isatty():
                raise CliError("not a terminal, so not asking: pass --yes to delete")
            for row in store.session_rows(ids):
                print(one_line(row.summary_line()))
            answer = input(f"Delete {len(ids)} session{'s' if len(ids) != 1 else ''}? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                print("nothing deleted", file=sys.stderr)
                return 1
        deleted = store.delete_sessions(ids)
    print(f"deleted {deleted} session{'s' if deleted != 1 else ''}")
    return 0
