"""The watchdog use cases: hand a session over, start or restart the service, report on it.

One implementation serves `labledger transfer` and `labledger watchdog ...` and the Python API
for rig launchers (`labledger.WatchdogService`): both record the same events in the ledger.

`transfer` plans the manifest (every check made first), starts the service when it is not running
(as clabe's `transfer()` does; `watchdog.start_service: false` turns that off), records the
intent with the manifest as planned, and writes it. A service that cannot be started stops the
hand-over before anything is recorded of it, with the service's last lines of output.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..domain.errors import LabledgerError
from ..domain.ledger import Ledger
from ..domain.outcomes import SyncResult
from ..domain.session import Session
from .database.views import Views
from .executors import scan_options
from .filesystem.scan import session_at
from .settings import Settings
from .settings_sources import clabe_file_warnings, clabe_files
from .watchdog.checks import service_status
from .watchdog.emission import TransferExecutor
from .watchdog.overrides import SessionSettings, TransferOverrides
from .watchdog.planned import planned_fields
from .watchdog.process import find_service
from .watchdog.restart import RestartExecutor, request_restart, service_output
from .watchdog.service_config import service_paths
from .watchdog.settings import WatchdogSettings
from .watchdog.transfer import TransferPlan, plan_transfer

Warn = Callable[[str], None]

RESTART_NOTE = (
    "aind-watchdog-service 0.1.9 ignores -c and reads the Allen Institute's central (mpetk) "
    "configuration: the flag_dir set there must be the one in the config labledger reads, or "
    "manifests wait unseen"
)
"""Said at every restart: the service may not read the configuration labledger wrote."""


class ServiceNotStarted(LabledgerError):
    """The watchdog service is not running and could not be started for a transfer."""


def start_service(settings: WatchdogSettings) -> bool:
    """`watchdog.start_service`: whether `transfer` starts a service that is not running."""
    return settings.start_service


def settings_warnings(settings: Settings, environ: Mapping[str, str] | None = None) -> list[str]:
    """What the operator should know about the `watchdog:` settings before anything is done:
    keys the service ignores, and watchdog keys a clabe file holds outside its section."""
    files = clabe_files(os.environ if environ is None else environ)
    return [
        *settings.watchdog.ignored_key_warnings(),
        *clabe_file_warnings(files, WatchdogSettings.model_fields),
    ]


def find_session(ledger: Ledger, path: Path, settings: Settings) -> Session:
    """The scanned session of a session folder (or of a file inside one)."""
    ref, folder_path, _ = session_at(path, scan_options(settings))
    session = ledger.find_session(ref)
    if session is None:
        raise LabledgerError(
            f"session {ref.key} is not in the ledger; record it first with "
            f"`labledger scan {folder_path}`"
        )
    return session


@dataclass(frozen=True)
class TransferRun:
    """What one `transfer` planned and did."""

    session: Session
    plan: TransferPlan
    settings: SessionSettings
    """The settings the manifest was made from (the rig's, with the session's overrides)."""
    results: list[SyncResult]
    """The service's start when it was needed, then the manifest's emission; [] in a dry run."""


def transfer(
    views: Views,
    settings: Settings,
    path: Path,
    warn: Warn,
    acquired: str | None = None,
    overrides: TransferOverrides | None = None,
    force: bool = False,
    dry_run: bool = False,
    environ: Mapping[str, str] | None = None,
) -> TransferRun:
    """Hand the session at `path` to the watchdog (see the module's text); raises one-line
    errors for what must be fixed first."""
    ledger = views.ledger
    given = overrides or TransferOverrides()
    session = find_session(ledger, path, settings)
    applied = SessionSettings.applying(settings.watchdog, given)
    plan = plan_transfer(views, session, applied, acquired, environ, dry_run)
    manifest = plan.manifest
    notes = given.notes(manifest, session.key)
    if dry_run:
        for message in (*plan.warnings, *notes):
            warn(message)
        if session.manifest_path is not None and not force:  # what the real run would refuse
            warn(
                f"{session.key} was already handed to the watchdog ({session.manifest_path}); "
                "`transfer` emits it again only with --force"
            )
        return TransferRun(session, plan, applied, [])
    assert plan.watch is not None  # plan_transfer requires the service's config unless dry
    started = ensure_running(views, settings, environ)
    operation = ledger.request_manifest(
        session.id,
        manifest.name,
        str(plan.watch.flag_path.absolute()),
        force,
        overrides=given.recorded(),
        **planned_fields(manifest),
    )
    for message in (*plan.warnings, *notes):  # after a refused second emission, before writing
        warn(message)
    if force and session.manifest_path is not None:
        warn(
            f"{session.key} was already emitted ({session.manifest_path}); the service will "
            "copy and upload it again"
        )
    intents = [i for i in views.pending_intents(session.id) if i.operation_id == operation]
    emitted = TransferExecutor(views, applied, environ).perform(intents)
    return TransferRun(session, plan, applied, [*started, *emitted])


def ensure_running(
    views: Views, settings: Settings, environ: Mapping[str, str] | None = None
) -> list[SyncResult]:
    """Start the service when `watchdog.start_service` asks for it, the settings say where its
    executable is, and it is not running (recorded as a restart); [] when nothing was started.
    Raises ServiceNotStarted."""
    watchdog = settings.watchdog
    if not start_service(watchdog):
        return []
    paths = service_paths(watchdog, environ)
    if paths.executable.path is None:  # not said where it is: run by someone else (a task)
        return []
    if find_service(paths.require_executable()):
        return []
    results = restart(views, settings, environ)
    failed = [result for result in results if result.outcome != "done"]
    if failed:
        raise ServiceNotStarted(
            f"the watchdog service is not running and did not start ({failed[0].detail}); fix "
            "that and run `labledger watchdog restart`, or set watchdog.start_service: false "
            "to hand sessions over without it"
        )
    return results


def restart(
    views: Views, settings: Settings, environ: Mapping[str, str] | None = None
) -> list[SyncResult]:
    """Record a restart of this machine's service and perform it: stop it, start it again."""
    ledger = views.ledger
    service_id, operation = request_restart(ledger, settings.watchdog, environ)
    intents = [
        intent
        for intent in views.pending_intents()
        if intent.aggregate_id == service_id and intent.operation_id == operation
    ]
    return RestartExecutor(ledger, settings.watchdog, output=service_output(environ)).perform(
        intents
    )


def transfer_status(views: Views, settings: Settings, path: Path) -> dict[str, Any]:
    """Where the session's hand-over stands, after checking the service's folders once."""
    ledger = views.ledger
    session = find_session(ledger, path, settings)
    checked = TransferExecutor(views, settings.watchdog).follow_up(frozenset({session.id}))
    session = ledger.session(session.id)
    return {
        "session": session.key,
        "transfer": session.transfer,
        "manifest": session.manifest_path,
        "check": "; ".join(result.detail for result in checked) or None,
        "last_error": session.last_error,
    }


def status_rows(
    views: Views, settings: Settings, environ: Mapping[str, str] | None = None
) -> list[dict[str, str]]:
    """`watchdog status`: where the service is and what waits, where its output goes, and which
    clabe files gave settings."""
    rows = service_status(settings.watchdog, views, environ)
    files = clabe_files(os.environ if environ is None else environ)
    rows.append({"item": "service output", "value": str(service_output(environ))})
    rows.append(
        {"item": "clabe files", "value": ", ".join(map(str, files)) or "none in this folder"}
    )
    return rows
