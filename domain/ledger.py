"""The ledger: labledger's eventsourcing Application, with its commands and queries.

Commands decide through the aggregates and save every aggregate a command touched in ONE
transaction, so a crash or an error never leaves part of a command recorded. Queries return plain
values. Where the store is shared (PostgreSQL), a conflicting save raises; the command reloads the
aggregates and decides again.

The class is assembled from one module per kind of work: the queries (`ledger_queries`), what
every command shares (`ledger_commands`: load, decide, save, decide again on a conflict), and the
commands on sessions, datasets and subjects (`session_commands`, `dataset_commands`,
`subject_commands`). Each value is imported from the module that defines it.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from .dataset_commands import DatasetCommands
from .ledger_queries import LOG_PAGE
from .session_commands import SessionCommands
from .subject_commands import SubjectCommands


class Ledger(DatasetCommands, SessionCommands, SubjectCommands):
    """The event-sourced ledger of a lab's sessions, files and subjects."""

    name = "labledger"
    log_section_size = LOG_PAGE

    # -- the watchdog service (restarts): kept here as one block, a command and its outcome --

    def request_watchdog_restart(
        self, machine: str, executable: str, config: str, arguments: list[str]
    ) -> str:
        """Record the intent to restart the watchdog service of `machine`; returns its operation."""
        from .watchdog import WatchdogService  # imported here: block kept whole

        def decide() -> str:
            try:
                service: WatchdogService = self.repository.get(WatchdogService.create_id(machine))
            except AggregateNotFoundError:
                service = WatchdogService(machine=machine)
            operation_id = service.request_restart(executable, config, arguments)
            if service.pending_events:
                self.save(service)
            return operation_id

        return self._retrying(decide)

    def record_watchdog_restarted(
        self, service_id: UUID, operation_id: str, pid: int, stopped: int
    ) -> None:
        """The restart of `operation_id` left the service running as process `pid`."""
        from .watchdog import WatchdogService  # imported here: block kept whole

        def decide() -> None:
            service: WatchdogService = self.repository.get(service_id)
            service.record_restarted(operation_id, pid, stopped)
            self.save(service)

        self._retrying(decide)

    # -- end watchdog --
