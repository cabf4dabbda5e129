"""Restarting this machine's watchdog service, recorded: intent first, then what happened.

A crash after the old process was stopped and the new one started, but before the outcome was
saved, must not restart the service a second time: a service process started after the request
was recorded means the restart already happened, and sync only records it.

What the started service prints goes to `watchdog-service.log` in labledger's data folder, and a
service that exits at once is recorded with its last lines of output.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from uuid import UUID

from ...domain.ledger import Ledger
from ...domain.outcomes import SyncResult
from ...domain.pending import PendingIntent
from ...domain.watchdog import WatchdogService
from ..filesystem.user_dirs import default_data_dir
from .process import find_service, service_arguments, start, stop
from .service_config import service_paths
from .settings import WatchdogSettings

INTENT = "WatchdogService.RestartRequested"
START_TIME_SLACK_S = 2.0
"""psutil derives creation times on Linux from the boot time in whole seconds: a process
started just after the request may look up to a second older. The process the previous restart
recorded is never taken for the new one, however close in time."""
OUTPUT_FILE = "watchdog-service.log"


def service_output(environ: Mapping[str, str] | None = None) -> Path:
    """Where the output of a service labledger starts goes: its data folder (always writable by
    the user who runs it, unlike the service's own folder under ProgramData)."""
    return default_data_dir(environ) / OUTPUT_FILE


def this_machine() -> str:
    return socket.gethostname()


def request_restart(
    ledger: Ledger, settings: WatchdogSettings, environ: Mapping[str, str] | None = None
) -> tuple[UUID, str]:
    """Record the intent to restart the service (both paths must exist); its id and operation."""
    paths = service_paths(settings, environ)
    executable, config = paths.require_executable(), paths.require_config()
    machine = this_machine()
    operation_id = ledger.request_watchdog_restart(
        machine, str(executable), str(config), service_arguments(executable, config)
    )
    return WatchdogService.create_id(machine), operation_id


class RestartExecutor:
    """Performs the pending restarts of the service on this machine (never another's)."""

    def __init__(
        self,
        ledger: Ledger,
        settings: WatchdogSettings,
        machine: str | None = None,
        output: Path | None = None,
    ):
        """`output`: where the started service's output goes (default: `service_output()`)."""
        self.ledger = ledger
        self.settings = settings
        self.service_id = WatchdogService.create_id(machine or this_machine())
        self.output = output or service_output()

    def claims(self, intent: PendingIntent) -> bool:
        return intent.intent == INTENT and intent.aggregate_id == self.service_id

    def perform(self, intents: Sequence[PendingIntent]) -> list[SyncResult]:
        return [self._restart(intent) for intent in intents]

    def follow_up(self, session_ids: frozenset[UUID] | None) -> list[SyncResult]:
        return []

    def _last_pid(self) -> int | None:
        """The process the last recorded restart started (it predates any newer request)."""
        for entry in reversed(self.ledger.history(self.service_id)):
            if entry.event == "WatchdogService.Restarted":
                return int(entry.details["pid"])
        return None

    def _restart(self, intent: PendingIntent) -> SyncResult:
        executable = Path(intent.details["executable"])
        target = f"watchdog {executable.name}"
        requested = datetime.fromisoformat(intent.recorded_at).timestamp()
        running = find_service(executable)
        recorded = self._last_pid()
        since = [
            p for p in running if p.pid != recorded and p.started >= requested - START_TIME_SLACK_S
        ]
        if since:
            self.ledger.record_watchdog_restarted(
                self.service_id, intent.operation_id, since[-1].pid, 0
            )
            return SyncResult(
                target, "restart", "done", f"running as pid {since[-1].pid} since the request"
            )
        try:
            stopped = stop(running)
            arguments = list(intent.details["arguments"])
            pid = start(arguments, self.settings.restart_check_seconds, self.output)
        except OSError as error:
            reason = f"cannot start {executable}: {error}"
            self.ledger.record_failure(self.service_id, intent.operation_id, reason, False)
            return SyncResult(target, "restart", "failed", reason)
        self.ledger.record_watchdog_restarted(self.service_id, intent.operation_id, pid, stopped)
        return SyncResult(target, "restart", "done", f"pid {pid}; {stopped} process(es) stopped")
