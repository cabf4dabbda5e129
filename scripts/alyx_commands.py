"""Alyx commands: new-session, register, check-protected, weigh, water.

Each records its intents first, then performs them if an Alyx server is configured and
reachable; otherwise it says the work is queued (exit 0) and `labledger sync` does it later.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import Any

from rich.console import Console

from ..adapters import protection
from ..adapters.database.event_store import open_ledger
from ..adapters.executors import refresh_reference, scan_options
from ..adapters.protection import group_files
from ..adapters.registration import FileChoice, Registrar, repeat_notice
from ..adapters.settings import Settings
from ..domain.errors import LabledgerError
from ..domain.file_registration import FileOptions
from ..domain.revisions import Situation, decide, protected_details, relocated
from ..projections.render import table, to_json
from .options import add_global_options, warner
from .sync_command import report

FLAG_GLOB = "**/create_me.flag"
AGAIN_HELP = (
    "record another one even if the same value was recorded moments ago (without --date-time, "
    "the same measurement within 10 minutes is taken to be a re-run and not recorded twice)"
)


def _session_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("session fields (only those given are sent or changed)")
    group.add_argument("--users", nargs="+", metavar="USER", help="default: the Alyx user")
    group.add_argument("--start-time", metavar="ISO", help="local time, no offset")
    group.add_argument("--end-time", metavar="ISO", help="local time, no offset")
    group.add_argument("--procedures", nargs="+", metavar="NAME")
    group.add_argument("--projects", nargs="+", metavar="NAME")
    group.add_argument("--location", metavar="NAME")
    group.add_argument("--task-protocol", metavar="TEXT")
    group.add_argument("--type", dest="session_type", metavar="TYPE", help="default Experiment")
    group.add_argument("--n-trials", type=int, metavar="N")
    group.add_argument("--n-correct-trials", type=int, metavar="N")
    group.add_argument("--narrative", metavar="TEXT")
    group.add_argument("--session-json", metavar="JSON", help="the session's json field")


def _fields(args: argparse.Namespace) -> dict[str, Any]:
    session_json = None
    if args.session_json is not None:
        try:
            session_json = json.loads(args.session_json)
        except json.JSONDecodeError as error:
            raise LabledgerError(f"--session-json is not JSON ({error.msg}); quote it") from None
    fields = {
        "users": args.users,
        "start_time": args.start_time,
        "end_time": args.end_time,
        "procedures": args.procedures,
        "projects": args.projects,
        "location": args.location,
        "task_protocol": args.task_protocol,
        "type": args.session_type,
        "n_trials": args.n_trials,
        "n_correct_trials": args.n_correct_trials,
        "narrative": args.narrative,
        "json": session_json,
    }
    return {name: value for name, value in fields.items() if value is not None}


def _file_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("file registration (ONE's register_files keywords)")
    group.add_argument(
        "--versions", nargs="+", metavar="V", help="one version for all files, or one per file"
    )
    group.add_argument("--no-default", action="store_true", help="do not make them the default")
    group.add_argument("--server-only", action="store_true", help="records on server repos only")
    group.add_argument("--repository", metavar="NAME", help="data repository holding the files")
    group.add_argument(
        "--not-exists", action="store_true", help="the files are not yet in the repository"
    )
    group.add_argument(
        "--max-md5-size", type=int, metavar="BYTES", help="send no md5 for files this big or more"
    )
    group.add_argument(
        "--field",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a further register-file field (labs, qc, hostname...), sent as given",
    )
    group.add_argument(
        "--refuse-protected",
        action="store_true",
        help="fail instead of moving a protected file into a new revision folder",
    )


def _choice(args: argparse.Namespace, settings: Settings, user: str) -> FileChoice:
    extra: dict[str, Any] = {}
    for item in args.field:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise LabledgerError(f"--field {item!r} is not KEY=VALUE; write e.g. --field qc=PASS")
        extra[key] = value
    versions = args.versions[0] if args.versions and len(args.versions) == 1 else args.versions
    options = FileOptions(
        created_by=user,
        repository=args.repository or settings.alyx.repository,
        exists=not args.not_exists,
        server_only=args.server_only,
        default=not args.no_default,
        refuse_protected=args.refuse_protected,
        extra=extra,
    )
    return FileChoice(options, versions, args.max_md5_size)


def add_commands(commands: Any) -> None:
    new = commands.add_parser(
        "new-session",
        help="make the next numbered session folder of a subject, and register it",
        description="Takes the next number after those on this disk, in the ledger and on Alyx "
        "(when reachable), makes the folder and (unless --no-register) registers the session.",
    )
    new.add_argument("subject", help="the subject's nickname")
    new.add_argument("--root", type=Path, required=True, metavar="FOLDER", help="data root")
    new.add_argument("--date", type=dt.date.fromisoformat, metavar="YYYY-MM-DD")
    new.add_argument("--no-register", action="store_true", help="only make the folder")
    _session_options(new)
    add_global_options(new)
    new.set_defaults(handler=new_session)

    register = commands.add_parser(
        "register",
        help="register sessions and their files on Alyx (queued when offline)",
        description="Session folders (the session and all its files not yet registered as "
        "they are), files inside session folders (those files), or with --flags the roots to "
        "search for flag files (each flag's folder; the flag is removed once registered).",
    )
    register.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    register.add_argument("--flags", action="store_true", help="PATHs are roots with flag files")
    register.add_argument("--glob", default=FLAG_GLOB, help=f"flag pattern (default {FLAG_GLOB})")
    register.add_argument("--no-files", action="store_true", help="the session only, not its files")
    register.add_argument(
        "--dry-run", action="store_true", help="print the requests; record and send nothing"
    )
    register.add_argument("--json", action="store_true", help="print results as JSON")
    _session_options(register)
    _file_options(register)
    add_global_options(register)
    register.set_defaults(handler=register_command)

    check = commands.add_parser(
        "check-protected",
        help="ask Alyx which files are protected and where each would go",
        description="Sends ONE's GET /check-protected per session and shows, per file, the "
        "existing revisions and the revision-table row that registering would apply.",
    )
    check.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or sessions")
    check.add_argument("--json", action="store_true")
    add_global_options(check)
    check.set_defaults(handler=check_protected)

    weigh = commands.add_parser("weigh", help="record a weighing (grams) on Alyx, once")
    weigh.add_argument("subject")
    weigh.add_argument("grams", type=float)
    weigh.add_argument("--date-time", metavar="ISO", help="local time (default: now)")
    weigh.add_argument("--user", help="who weighed (default: the Alyx user)")
    weigh.add_argument("--again", action="store_true", help=AGAIN_HELP)
    weigh.add_argument("--json", action="store_true")
    add_global_options(weigh)
    weigh.set_defaults(handler=weigh_command)

    water = commands.add_parser("water", help="record a water administration (mL) on Alyx, once")
    water.add_argument("subject")
    water.add_argument("millilitres", type=float)
    water.add_argument("--water-type", default="Water")
    water.add_argument("--adlib", action="store_true")
    water.add_argument("--session", metavar="EID_OR_FOLDER", help="the session it belongs to")
    water.add_argument("--date-time", metavar="ISO", help="local time (default: now)")
    water.add_argument("--user", help="who gave it (default: the Alyx user)")
    water.add_argument("--again", action="store_true", help=AGAIN_HELP)
    water.add_argument("--json", action="store_true")
    add_global_options(water)
    water.set_defaults(handler=water_command)


def _registrar(settings: Settings) -> Registrar:
    return Registrar(settings, open_ledger(settings), warner())


def new_session(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    fields = None if args.no_register else _fields(args)
    registrar = _registrar(settings)
    folder, session_id = registrar.new_session(args.subject, args.root, args.date, fields)
    console.print(str(folder), markup=False)
    if args.no_register:
        return 0
    return report(console, "new-session", registrar.perform(frozenset({session_id})))


def _flag_folders(roots: list[Path], pattern: str) -> list[Path]:
    flags: list[Path] = []
    for root in roots:
        if not root.is_dir():
            raise LabledgerError(f"{root} is not a folder; give the root to search for flags")
        flags.extend(sorted(root.glob(pattern)))
    return flags


def register_command(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    registrar = _registrar(settings)
    flags = _flag_folders(args.paths, args.glob) if args.flags else []
    paths = [flag.parent for flag in flags] if args.flags else list(args.paths)
    if args.flags and not flags:
        console.print(f"no flag files matching {args.glob}", markup=False)
        return 0
    fields = _fields(args)
    choice = None if args.no_files else _choice(args, settings, registrar.user)
    if args.dry_run:
        console.print_json(to_json(registrar.dry_run(paths, fields, choice)))
        return 0
    requested = registrar.request(paths, fields, choice)
    results = requested.done_elsewhere + registrar.perform(frozenset(requested.session_ids))
    status = report(console, "register", results, args.json)
    for flag in flags:
        registrar.remove_flag_if_registered(flag)
    return status


def check_protected(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    warn = warner()
    refresh_reference(settings, warn)
    groups, left_out = group_files(args.paths, scan_options(settings), folders=True)
    for why in left_out:
        warn(f"left out: {why}")
    rows: list[dict[str, Any]] = []
    today = dt.date.today().isoformat()
    for group, reply in protection.check_protected(settings, groups):
        details = reply.get("details")
        verdicts = protected_details(details) if isinstance(details, list) else {}
        for file in group.files:
            info = verdicts.get(file.as_posix(), [])
            decision = decide(Situation.of(file.revision, info, today))
            where = (
                relocated(file.collection, file.name, decision.revision)
                if decision.revision
                else "stays"
            )
            rows.append(
                {
                    "session": group.ref.key,
                    "file": file.as_posix(),
                    "protected": any(flag for e in info for flag in e.values()),
                    "revisions": ", ".join(
                        f"{name or '(none)'}{'*' if flag else ''}"
                        for e in info
                        for name, flag in e.items()
                    ),
                    "row": decision.row,
                    "would_go": where,
                }
            )
    if args.json:
        console.print_json(to_json(rows))
    else:
        table(
            console,
            "protection (* = protected)",
            rows,
            ["session", "file", "protected", "revisions", "row", "would_go"],
        )
    return 0


def weigh_command(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    registrar = _registrar(settings)
    asked = registrar.request_weighing(
        args.subject, args.grams, args.date_time, args.user, args.again
    )
    _notice(console, args, repeat_notice(args.subject, f"weighing ({args.grams:g} g)", asked))
    return report(console, "weigh", registrar.perform_records(), args.json)


def water_command(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    registrar = _registrar(settings)
    asked = registrar.request_water(
        args.subject,
        args.millilitres,
        args.water_type,
        args.adlib,
        args.date_time,
        args.session,
        args.user,
        args.again,
    )
    what = f"water administration ({args.millilitres:g} mL)"
    _notice(console, args, repeat_notice(args.subject, what, asked))
    return report(console, "water", registrar.perform_records(), args.json)


def _notice(console: Console, args: argparse.Namespace, line: str | None) -> None:
    """Say that nothing new was recorded: on stdout, or on stderr when stdout carries JSON."""
    if line is None:
        return
    if args.json:
        Console(stderr=True, highlight=False, soft_wrap=True).print(line, markup=False)
    else:
        console.print(line, markup=False)
