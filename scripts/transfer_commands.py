"""`labledger transfer` and `labledger watchdog validate|status|restart`: parse, call, print."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any
from uuid import UUID

from rich.console import Console

from ..adapters.database.event_store import open_ledger
from ..adapters.database.views import open_views
from ..adapters.executors import scan_options
from ..adapters.filesystem.scan import session_at
from ..adapters.settings import Settings
from ..adapters.watchdog.checks import service_checks, service_status
from ..adapters.watchdog.emission import TransferExecutor
from ..adapters.watchdog.planned import planned_fields
from ..adapters.watchdog.restart import RestartExecutor, request_restart
from ..adapters.watchdog.transfer import plan_transfer
from ..domain.errors import LabledgerError
from ..domain.ledger import Ledger
from ..domain.outcomes import SyncResult
from ..domain.session import Session
from ..projections.render import table, to_json
from .options import add_global_options, warner
from .sync_command import report


def add_commands(commands: Any) -> None:
    """Add `transfer` and `watchdog` to the `labledger` parser."""
    transfer = commands.add_parser(
        "transfer",
        help="hand a scanned session to the AIND watchdog service (write its manifest)",
        description="Builds the session's manifest from the ledger and the watchdog: settings, "
        "records the intent, writes the manifest into the service's watched folder (atomically, "
        "once), and records its sha256. `labledger sync` later records whether the service "
        "completed it.",
    )
    transfer.add_argument("session", type=Path, metavar="SESSION_PATH", help="a scanned session")
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
    mode = transfer.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="print the manifest, record nothing")
    mode.add_argument(
        "--status", action="store_true", help="check and print the transfer state, emit nothing"
    )
    transfer.add_argument("--json", action="store_true", help="print the results as JSON")
    add_global_options(transfer)
    transfer.set_defaults(handler=run_transfer)

    watchdog = commands.add_parser(
        "watchdog",
        help="check, show or restart the AIND watchdog service",
        description="The aind-watchdog-service that copies and uploads the emitted manifests.",
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
        action = actions.add_parser(name, help=text, description=text)
        action.add_argument("--json", action="store_true", help="print the rows as JSON")
        add_global_options(action)
        action.set_defaults(handler=handler)


def _warn(messages: list[str] | tuple[str, ...]) -> None:
    warn = warner()
    for message in messages:
        warn(message)


def _session(ledger: Ledger, path: Path, settings: Settings) -> Session:
    ref, folder_path, _ = session_at(path, scan_options(settings))
    session = ledger.find_session(ref)
    if session is None:
        raise LabledgerError(
            f"session {ref.key} is not in the ledger; record it first with "
            f"`labledger scan {folder_path}`"
        )
    return session


def run_transfer(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    watchdog = settings.watchdog
    _warn(watchdog.ignored_key_warnings())
    ledger = open_ledger(settings)
    views = open_views(settings, ledger)
    session = _session(ledger, args.session, settings)
    executor = TransferExecutor(views, watchdog)
    if args.status:
        return _print_status(console, ledger, session.id, executor, args.json)
    plan = plan_transfer(views, session, watchdog, args.acquired, dry_run=args.dry_run)
    manifest = plan.manifest
    if args.dry_run:
        _warn(plan.warnings)
        where = plan.watch.flag_path / manifest.file_name if plan.watch else "flag_dir unknown"
        console.out(f"# {where} (sha256 {manifest.sha256}); dry run, nothing recorded")
        console.out(manifest.render().decode("utf-8"), end="", highlight=False)
        return 0
    assert plan.watch is not None  # plan_transfer requires the service's config unless dry
    operation = ledger.request_manifest(
        session.id,
        manifest.name,
        str(plan.watch.flag_path.absolute()),
        args.force,
        **planned_fields(manifest),
    )
    _warn(plan.warnings)  # after the refusal of a second emission, before the manifest is written
    if args.force and session.manifest_path is not None:
        _warn(
            [
                f"{session.key} was already emitted ({session.manifest_path}); the service will "
                "copy and upload it again (W-6)"
            ]
        )
    pending = views.pending_intents(session.id)
    intents = [i for i in pending if i.operation_id == operation]
    return report(console, executor.perform(intents), args.json)


def _print_status(
    console: Console, ledger: Ledger, session_id: UUID, executor: TransferExecutor, as_json: bool
) -> int:
    checked = executor.follow_up(frozenset({session_id}))
    session = ledger.session(session_id)
    row = {
        "session": session.key,
        "transfer": session.transfer,
        "manifest": session.manifest_path,
        "check": "; ".join(result.detail for result in checked) or None,
        "last_error": session.last_error,
    }
    if as_json:
        console.print_json(to_json([row]))
    else:
        table(console, "transfer", [row], list(row))
    return 0


def run_validate(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    _warn(settings.watchdog.ignored_key_warnings())
    rows = service_checks(settings.watchdog)
    _print_rows(console, "watchdog checks", rows, ["check", "result", "detail"], args.json)
    failed = [row for row in rows if row["result"] == "failed"]
    if failed:
        raise LabledgerError(
            f"{len(failed)} watchdog check(s) failed, first {failed[0]['check']}: "
            f"{failed[0]['detail']}"
        )
    return 0


def run_status(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    _warn(settings.watchdog.ignored_key_warnings())
    ledger = open_ledger(settings)
    rows = service_status(settings.watchdog, open_views(settings, ledger))
    _print_rows(console, "watchdog", rows, ["item", "value"], args.json)
    return 0


def run_restart(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    _warn(settings.watchdog.ignored_key_warnings())
    ledger = open_ledger(settings)
    service_id, operation = request_restart(ledger, settings.watchdog)
    _warn(
        [
            "aind-watchdog-service 0.1.9 ignores -c and reads its central configuration: its "
            "flag_dir must be the one in the config labledger reads, or manifests wait unseen"
        ]
    )
    intents = [
        intent
        for intent in open_views(settings, ledger).pending_intents()
        if intent.aggregate_id == service_id and intent.operation_id == operation
    ]
    results: list[SyncResult] = RestartExecutor(ledger, settings.watchdog).perform(intents)
    return report(console, results, args.json)


def _print_rows(
    console: Console, title: str, rows: list[dict[str, Any]], columns: list[str], as_json: bool
) -> None:
    if as_json:
        console.print_json(to_json(rows))
    else:
        table(console, title, rows, columns)
