"""`labledger transfer` and `labledger watchdog validate|status|restart`: parse, call, print."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..domain.errors import LabledgerError
from .command_parser import SESSION, examples
from .options import add_global_options, warner
from .output_flags import add_wide, apply_wide
from .sync_command import report

if TYPE_CHECKING:
    from rich.console import Console

    from ..adapters.settings import Settings


def add_commands(commands: Any) -> None:
    """Add `transfer` and `watchdog` to the `labledger` parser."""
    transfer = commands.add_parser(
        "transfer",
        help="hand a scanned session to the AIND watchdog service (write its manifest)",
        description="Builds the session's manifest from the ledger and the watchdog: settings, "
        "starts the service when it is not running (watchdog.start_service), records the intent, "
        "writes the manifest into the service's watched folder (atomically, once), and records "
        "its sha256. `labledger sync` later records whether the service completed it.",
        epilog=examples(
            f"labledger transfer {SESSION}",
            f"labledger transfer --dry-run {SESSION}   # show the manifest",
            f"labledger transfer --status {SESSION}",
            f"labledger transfer --platform ecephys --tag pilot {SESSION}",
        ),
    )
    transfer.add_argument(
        "session",
        type=Path,
        metavar="SESSION_PATH",
        help=f"a session folder scanned before, e.g. {SESSION}",
    )
    transfer.add_argument(
        "--acquired",
        metavar="TIME",
        help="acquisition time: HH:MM:SS on the session's date, or an ISO date-time "
        "(default: the Alyx start_time the ledger recorded, else midnight)",
    )
    transfer.add_argument(
        "--force",
        action="store_true",
        help="emit again although the session was emitted (the service copies and uploads again)",
    )
    session_settings = transfer.add_argument_group(
        "this session's transfer settings (instead of the rig's watchdog: settings)"
    )
    session_settings.add_argument(
        "--platform", help="the AIND platform abbreviation, e.g. behavior or ecephys"
    )
    session_settings.add_argument(
        "--tag",
        action="append",
        metavar="TAG",
        help="a data description tag (repeat for several; replaces data_description_tags)",
    )
    session_settings.add_argument(
        "--user-email", metavar="EMAIL", help="who the transfer service notifies"
    )
    session_settings.add_argument(
        "--name",
        help="the manifest's name, e.g. clabe's <subject>_<YYYY-MM-DDTHHMMSS> (a warning when it "
        "is not the AIND data name the cloud asset gets)",
    )
    session_settings.add_argument(
        "--destination",
        metavar="PATH",
        help="the manifest's destination, used as given (no <subject> folder is added)",
    )
    mode = transfer.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="print the manifest, record nothing")
    mode.add_argument(
        "--status", action="store_true", help="check and print the transfer state, emit nothing"
    )
    transfer.add_argument("--json", action="store_true", help="print the results as JSON")
    add_wide(transfer)
    add_global_options(transfer)
    transfer.set_defaults(handler=run_transfer)

    watchdog = commands.add_parser(
        "watchdog",
        help="check, show or restart the AIND watchdog service",
        description="The aind-watchdog-service that copies and uploads the emitted manifests.",
        epilog=examples(
            "labledger watchdog validate",
            "labledger watchdog status --json",
            "labledger watchdog restart",
        ),
    )
    add_global_options(watchdog)
    actions = watchdog.add_subparsers(
        title="actions", dest="action", required=True, metavar="ACTION"
    )
    for name, handler, text in (
        ("validate", run_validate, "check executable, config, process and project name"),
        ("status", run_status, "show where the service is, whether it runs, what waits"),
        ("restart", run_restart, "stop the service and start it again (recorded)"),
    ):
        action = actions.add_parser(
            name,
            help=text,
            description=text,
            epilog=examples(f"labledger watchdog {name}", f"labledger watchdog {name} --json"),
        )
        action.add_argument("--json", action="store_true", help="print the rows as JSON")
        add_wide(action)
        add_global_options(action)
        action.set_defaults(handler=handler)


def _warn(messages: list[str] | tuple[str, ...]) -> None:
    warn = warner()
    for message in messages:
        warn(message)


def _warn_about_settings(settings: Settings) -> None:
    from ..adapters.watchdog_handover import settings_warnings

    _warn(settings_warnings(settings))


def run_transfer(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from ..adapters.database.event_store import open_ledger, settings_to_read
    from ..adapters.database.views import open_views
    from ..adapters.watchdog.overrides import TransferOverrides
    from ..adapters.watchdog_handover import transfer, transfer_status
    from ..projections.render import table, to_json

    _warn_about_settings(settings)
    apply_wide(console, args)
    # --status and --dry-run only read: like a report, they never create a ledger
    stored = settings_to_read(settings) if args.status or args.dry_run else settings
    views = open_views(stored, open_ledger(stored))
    if args.status:
        row = transfer_status(views, settings, args.session)
        if args.json:
            console.print_json(to_json([row]))
        else:
            table(console, "transfer --status", [row], list(row))
        return 0
    overrides = TransferOverrides.checked(
        lambda key: f"--{key.replace('_', '-')}",
        platform=args.platform,
        data_description_tags=args.tag,
        user_email=args.user_email,
        name=args.name,
        destination=args.destination,
    )
    run = transfer(
        views,
        settings,
        args.session,
        warner(),
        acquired=args.acquired,
        overrides=overrides,
        force=args.force,
        dry_run=args.dry_run,
    )
    if args.dry_run:
        manifest, watch = run.plan.manifest, run.plan.watch
        where = watch.flag_path / manifest.file_name if watch else "flag_dir unknown"
        console.out(f"# {where} (sha256 {manifest.sha256}); dry run, nothing recorded")
        console.out(manifest.render().decode("utf-8"), end="", highlight=False)
        return 0
    return report(console, "transfer", run.results, args.json)


def run_validate(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from ..adapters.watchdog.checks import service_checks

    _warn_about_settings(settings)
    rows = service_checks(settings.watchdog)
    _print_rows(console, "watchdog validate", rows, ["check", "result", "detail"], args)
    failed = [row for row in rows if row["result"] == "failed"]
    if failed:
        checks = "watchdog check" if len(failed) == 1 else "watchdog checks"
        raise LabledgerError(
            f"{len(failed)} {checks} failed, first {failed[0]['check']}: {failed[0]['detail']}"
        )
    return 0


def run_status(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from ..adapters.database.event_store import open_ledger, settings_to_read
    from ..adapters.database.views import open_views
    from ..adapters.watchdog_handover import status_rows

    _warn_about_settings(settings)
    stored = settings_to_read(settings)  # a report: it never creates a ledger
    rows = status_rows(open_views(stored, open_ledger(stored)), settings)
    _print_rows(console, "watchdog status", rows, ["item", "value"], args)
    return 0


def run_restart(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from ..adapters.database.event_store import open_ledger
    from ..adapters.database.views import open_views
    from ..adapters.watchdog_handover import RESTART_NOTE, restart

    _warn_about_settings(settings)
    views = open_views(settings, open_ledger(settings))
    _warn([RESTART_NOTE])
    apply_wide(console, args)
    return report(console, "watchdog restart", restart(views, settings), args.json)


def _print_rows(
    console: Console,
    title: str,
    rows: list[dict[str, Any]],
    columns: list[str],
    args: argparse.Namespace,
) -> None:
    from ..projections.render import table, to_json
    from ..projections.table_layout import WATCHDOG_CHECKS

    if args.json:
        console.print_json(to_json(rows))
    else:
        apply_wide(console, args)
        table(console, title, rows, columns, layout=WATCHDOG_CHECKS)
