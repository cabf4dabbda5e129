"""Alyx commands: new-session, register, check-protected, weigh, water (their arguments are in
`alyx_arguments`).

Each records its intents first, then performs them if an Alyx server is configured and
reachable; otherwise it says the work is queued (exit 0) and `labledger sync` does it later.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..adapters.filesystem.user_dirs import expand_user
from ..domain.errors import LabledgerError
from .options import say, stderr_console, warner
from .output_flags import apply_wide
from .sync_command import report

if TYPE_CHECKING:
    from rich.console import Console

    from ..adapters.registration import FileChoice, Registrar
    from ..adapters.settings import Settings


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


def _choice(args: argparse.Namespace, settings: Settings, user: str) -> FileChoice:
    from ..adapters.registration import FileChoice
    from ..domain.file_registration import FileOptions

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


def _registrar(settings: Settings) -> Registrar:
    from ..adapters.database.event_store import open_ledger
    from ..adapters.registration import Registrar

    return Registrar(settings, open_ledger(settings), warner())


def new_session(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    fields = None if args.no_register else _fields(args)
    root = expand_user(args.root)
    if not root.is_dir():  # a rig's data root exists: a missing one is a typo, not to be made
        what = "is not a folder" if root.exists() else "does not exist"
        raise LabledgerError(f"--root {args.root} {what}; create it first or correct the path")
    registrar = _registrar(settings)
    apply_wide(console, args)
    folder, session_id = registrar.new_session(args.subject, args.root, args.date, fields)
    say(console, str(folder))
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
        say(console, f"no flag files matching {args.glob}")
        return 0
    fields = _fields(args)
    choice = None if args.no_files else _choice(args, settings, registrar.user)
    if args.dry_run:
        from ..projections.render import to_json

        requests = registrar.dry_run(paths, fields, choice)
        if requests or args.json:
            console.print_json(to_json(requests))
        else:  # a bare `[]` told the operator nothing
            say(console, "nothing to send: no session to create or update, no file to register")
        return 0
    from ..projections.left_out import already_registered, left_out_lines, rejected_files
    from ..projections.render import print_lines

    requested = registrar.request(paths, fields, choice)
    results = requested.done_elsewhere + registrar.perform(frozenset(requested.session_ids))
    apply_wide(console, args)
    try:
        if results or args.json:
            status = report(console, "register", results, args.json)
        else:  # every session given is on Alyx as it is: say so, by name
            print_lines(console, already_registered(registrar.ledger, requested.session_ids))
            status = 0
    finally:  # under the results, also when they end in an error
        if not (args.json or args.quiet):
            # sessions given as folders: the files named one by one were checked one by one
            folders = sorted({given[0] for given in requested.inputs if given and not given[1]})
            print_lines(console, left_out_lines(rejected_files(registrar.ledger, folders)))
    for flag in flags:
        registrar.remove_flag_if_registered(flag)
    return status


def check_protected(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from ..adapters import protection
    from ..adapters.alyx.errors import AlyxError
    from ..adapters.executors import refresh_reference, scan_options
    from ..domain.revisions import Situation, decide, protected_details, relocated
    from ..projections.render import table, to_json

    warn = warner()
    apply_wide(console, args)
    held: list[str] = []  # said only if the check itself gets an answer (else one error says it)
    refresh_reference(settings, held.append)
    groups, left_out = protection.group_files(args.paths, scan_options(settings), folders=True)
    for why in left_out:
        warn(f"left out: {why}")
    try:
        replies = protection.check_protected(settings, groups)
    except AlyxError as error:
        raise LabledgerError(f"cannot check which files are protected: {error}") from None
    for line in held:
        warn(line)
    rows: list[dict[str, Any]] = []
    today = dt.date.today().isoformat()
    for group, reply in replies:
        details = reply.get("details")
        verdicts = protected_details(details) if isinstance(details, list) else {}
        for file in group.files:
            info = verdicts.get(file.as_posix(), [])
            listed = isinstance(details, list)  # else "None of the datasets are protected"
            decision = decide(Situation.of(file.revision, info, today, listed))
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
        from ..projections.table_layout import PROTECTION

        table(
            console,
            "check-protected (* = protected revision)",
            rows,
            ["session", "file", "protected", "revisions", "row", "would_go"],
            layout=PROTECTION,
        )
    return 0


def weigh_command(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from ..adapters.registration import repeat_notice

    registrar = _registrar(settings)
    apply_wide(console, args)
    asked = registrar.request_weighing(
        args.subject, args.grams, args.date_time, args.user, args.again
    )
    _notice(console, args, repeat_notice(args.subject, f"weighing ({args.grams:g} g)", asked))
    mine = frozenset({asked.operation_id})
    return report(console, "weigh", registrar.perform_records(mine), args.json)


def water_command(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from ..adapters.registration import repeat_notice

    registrar = _registrar(settings)
    apply_wide(console, args)
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
    mine = frozenset({asked.operation_id})
    return report(console, "water", registrar.perform_records(mine), args.json)


def _notice(console: Console, args: argparse.Namespace, line: str | None) -> None:
    """Say that nothing new was recorded: on stdout, or on stderr when stdout carries JSON."""
    if line is None:
        return
    if args.json:
        say(stderr_console(), line)
    else:
        say(console, line)
