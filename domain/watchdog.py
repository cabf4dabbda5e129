"""The WatchdogService aggregate: the aind-watchdog-service instance of one machine.

Restarting the service is a side effect like any other (clabe restarts it through a shell and
keeps no record), so it follows the ledger's rule: the restart is asked for (intent) before
any process is stopped, and what happened (the new process, or why it failed) is recorded after.
"""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from .recorded import (
    Failure,
    Intent,
    Outcome,
    RecordedAggregate,
    RetryRecorded,
    natural_id,
)


class WatchdogService(RecordedAggregate):
    """The service on one machine; commands check invariants, then record past-tense events."""

    TOPIC = "labledger:WatchdogService"
    class_version = 1

    @staticmethod
    def create_id(machine: str) -> UUID:
        """Natural key: the host name of the machine the service runs on."""
        return natural_id("watchdog", machine)

    class Event(RecordedAggregate.Event):
        """Base of the service's events."""

    class Created(Event, RecordedAggregate.Created):
        """First mentioned to the ledger."""

        TOPIC = "labledger:WatchdogService.Created"
        class_version = 1
        machine: str

    def __init__(self, machine: str) -> None:
        self.machine = machine
        self.pid: int | None = None
        self.restarts = 0
        self._start_intents()

    class RestartRequested(Event, Intent):
        """Stop the running service (if any) and start `arguments` (executable first)."""

        TOPIC = "labledger:WatchdogService.RestartRequested"
        class_version = 1
        executable: str
        config: str
        arguments: list[str]

    class Restarted(Event, Outcome):
        """The service runs as process `pid`; `stopped` processes were ended first."""

        TOPIC = "labledger:WatchdogService.Restarted"
        class_version = 1
        pid: int
        stopped: int

        def apply(self, aggregate: WatchdogService) -> None:
            super().apply(aggregate)
            aggregate.pid = self.pid
            aggregate.restarts += 1
            aggregate.last_error = None

    class RestartFailed(Event, Failure):
        """The executable could not be started or exited at once."""

        TOPIC = "labledger:WatchdogService.RestartFailed"
        class_version = 1

    def request_restart(self, executable: str, config: str, arguments: list[str]) -> str:
        """Ask for a restart; asking again while one is open returns the open operation."""
        open_operation = self._open_operation("RestartRequested")
        if open_operation is not None:
            return open_operation
        return self._trigger_intent(
            self.RestartRequested, executable=executable, config=config, arguments=list(arguments)
        )

    def record_restarted(self, operation_id: str, pid: int, stopped: int) -> None:
        self._check_open(operation_id)
        self.trigger_event(self.Restarted, operation_id=operation_id, pid=pid, stopped=stopped)

    class Retried(Event, RetryRecorded):
        """The operator asked again for an intent refused for good (`labledger retry`)."""

        TOPIC = "labledger:WatchdogService.Retried"
        class_version = 1

    FAILURES: ClassVar[dict[str, type[Failure]]] = {"RestartRequested": RestartFailed}
