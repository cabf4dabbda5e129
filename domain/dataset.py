"""The Dataset aggregate: one file of a session, keyed by session + `collection/#revision#/name`.

It remembers what the scan saw (size, mtime, md5) so a re-run hashes only files that changed, why a
file was rejected, what Alyx answered when it was registered, and every decision to move it into a
revision folder, recorded before the move (ONE moves first and forgets).
"""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import UUID

from .errors import LabledgerError
from .recorded import (
    Failure,
    Intent,
    Outcome,
    RecordedAggregate,
    RetryRecorded,
    natural_id,
)


class Dataset(RecordedAggregate):
    """A session's file; commands check invariants, then record past-tense events."""

    TOPIC = "labledger:Dataset"
    class_version = 1

    @staticmethod
    def create_id(session_id: UUID, rel_path: str) -> UUID:
        """Natural key: the session's id and the POSIX path relative to the session folder."""
        return natural_id("dataset", f"{session_id}/{rel_path}")

    class Event(RecordedAggregate.Event):
        """Base of the dataset's events."""

    class Created(Event, RecordedAggregate.Created):
        """First seen in its session folder."""

        TOPIC = "labledger:Dataset.Created"
        class_version = 1
        session_id: UUID
        rel_path: str
        collection: str
        revision: str
        name: str

    def __init__(
        self, session_id: UUID, rel_path: str, collection: str, revision: str, name: str
    ) -> None:
        self.session_id, self.rel_path = session_id, rel_path
        self.collection, self.revision, self.name = collection, revision, name
        self.state = "new"
        self.size: int | None = None
        self.mtime_ns: int | None = None
        self.md5: str | None = None
        self.dataset_type: str | None = None
        self.data_format: str | None = None
        self.rejection: str | None = None
        self.alyx_id: str | None = None
        self.alyx_record: dict[str, Any] = {}
        """Alyx's record of this file as the server last sent it (register-file's reply)."""
        self.last_error: str | None = None
        self._start_intents()
        self.registration_fields: dict[str, dict[str, Any]] = {}
        """Operation id -> fields of each registration asked for."""
        self.moved_from: str | None = None
        self.moves: dict[str, tuple[str, str]] = {}
        """Operation id -> (source, destination) of each move asked for."""

    # -- scan ----------------------------------------------------------------------------------

    class Discovered(Event):
        """The file is an ALF dataset of a known type and format, with these size/mtime/md5."""

        TOPIC = "labledger:Dataset.Discovered"
        class_version = 1
        size: int
        mtime_ns: int
        md5: str
        dataset_type: str
        data_format: str

        def apply(self, aggregate: Dataset) -> None:
            aggregate.state = "discovered"
            aggregate.size, aggregate.mtime_ns, aggregate.md5 = self.size, self.mtime_ns, self.md5
            aggregate.dataset_type, aggregate.data_format = self.dataset_type, self.data_format
            aggregate.rejection = None

    class Rejected(Event):
        """The file cannot be registered; `code` is machine-readable, `reason` says the fix."""

        TOPIC = "labledger:Dataset.Rejected"
        class_version = 1
        code: str
        reason: str

        def apply(self, aggregate: Dataset) -> None:
            aggregate.state = "rejected"
            aggregate.rejection = self.reason

    def discover(
        self, size: int, mtime_ns: int, md5: str, dataset_type: str, data_format: str
    ) -> bool:
        """Record what the scan saw; seeing the same again records nothing."""
        seen = (size, mtime_ns, md5, dataset_type, data_format)
        known = (self.size, self.mtime_ns, self.md5, self.dataset_type, self.data_format)
        if self.state == "discovered" and seen == known:
            return False
        self.trigger_event(
            self.Discovered,
            size=size,
            mtime_ns=mtime_ns,
            md5=md5,
            dataset_type=dataset_type,
            data_format=data_format,
        )
        return True

    def reject(self, code: str, reason: str) -> bool:
        """Record why the file cannot be registered; the same reason again records nothing."""
        if self.state == "rejected" and self.rejection == reason:
            return False
        self.trigger_event(self.Rejected, code=code, reason=reason)
        return True

    # -- Alyx registration ---------------------------------------------------------------------

    class RegistrationRequested(Event, Intent):
        """Register this file on Alyx with these register-file fields (md5, size, version...)."""

        TOPIC = "labledger:Dataset.RegistrationRequested"
        class_version = 1
        fields: dict[str, Any]
        SUPERSEDES_REFUSED = True  # the operator's newer request, not an older refused one

        def apply(self, aggregate: Dataset) -> None:
            super().apply(aggregate)
            aggregate.registration_fields[self.operation_id] = self.fields

    class Registered(Event, Outcome):
        """Alyx's dataset id, revision, default flag and file records for this file, and the
        whole record as the server sent it (what ONE's register_files returns)."""

        TOPIC = "labledger:Dataset.Registered"
        class_version = 2
        alyx_id: str
        revision: str
        default: bool
        file_records: list[dict[str, Any]]
        record: dict[str, Any]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["record"] = {}  # not kept then: Alyx's reply was reduced to the fields above

        def apply(self, aggregate: Dataset) -> None:
            super().apply(aggregate)
            aggregate.state = "registered"
            aggregate.alyx_id = self.alyx_id
            aggregate.alyx_record = self.record
            aggregate.last_error = None

    class RegistrationFailed(Event, Failure):
        """Alyx refused or could not be reached; `retryable` keeps the intent pending."""

        TOPIC = "labledger:Dataset.RegistrationFailed"
        class_version = 1

    def request_registration(self, fields: dict[str, Any]) -> str:
        """Ask for registration of a discovered file; asked again while one is open, the same
        fields reuse it and other fields (a corrected repository, say) replace it."""
        if self.state == "rejected":
            raise DatasetRejected(f"{self.rel_path} was rejected: {self.rejection}")
        return self._ask_again(self.RegistrationRequested, self.RegistrationReplaced, fields)

    def record_registered(
        self,
        operation_id: str,
        alyx_id: str,
        revision: str,
        default: bool,
        file_records: list[dict[str, Any]],
        record: dict[str, Any],
    ) -> None:
        self._check_open(operation_id)
        self.trigger_event(
            self.Registered,
            operation_id=operation_id,
            alyx_id=alyx_id,
            revision=revision,
            default=default,
            file_records=file_records,
            record=record,
        )

    # -- protected revisions -------------------------------------------------------------------

    class RevisionProtected(Event):
        """Alyx reported existing revisions of this dataset and which are protected.

        `today` is the client's local date that the revision table used (as ONE does: kept,
        and recorded).
        """

        TOPIC = "labledger:Dataset.RevisionProtected"
        class_version = 1
        info: list[dict[str, bool]]
        today: str

        def apply(self, aggregate: Dataset) -> None:
            aggregate.state = "protected"

    class MoveRequested(Event, Intent):
        """The file must move within its session folder, for the reason `why`."""

        TOPIC = "labledger:Dataset.MoveRequested"
        class_version = 1
        source: str
        destination: str
        why: str

        def apply(self, aggregate: Dataset) -> None:
            super().apply(aggregate)
            aggregate.moves[self.operation_id] = (self.source, self.destination)

    class Moved(Event, Outcome):
        """The file now lives at `destination` (relative to the session folder)."""

        TOPIC = "labledger:Dataset.Moved"
        class_version = 1
        source: str
        destination: str

        def apply(self, aggregate: Dataset) -> None:
            super().apply(aggregate)
            aggregate.state = "moved"

    class MoveFailed(Event, Failure):
        """The move could not be done (destination holds another file, permission...)."""

        TOPIC = "labledger:Dataset.MoveFailed"
        class_version = 1

    def note_protected(self, info: list[dict[str, bool]], today: str) -> None:
        self.trigger_event(self.RevisionProtected, info=info, today=today)

    def request_move(self, destination: str, why: str) -> str:
        """Ask to move the file; refuses a second, different move while one is open."""
        open_operation = self._open_operation("MoveRequested")
        if open_operation is not None:
            return open_operation
        if destination == self.rel_path:
            raise ValueError(f"{self.rel_path} cannot move onto itself")
        return self._trigger_intent(
            self.MoveRequested, source=self.rel_path, destination=destination, why=why
        )

    def record_moved(self, operation_id: str, source: str, destination: str) -> None:
        self._check_open(operation_id)
        self.trigger_event(
            self.Moved, operation_id=operation_id, source=source, destination=destination
        )

    class RegistrationRelocated(Event, Outcome):
        """The file moved into a revision folder: its registration goes on at `destination`."""

        TOPIC = "labledger:Dataset.RegistrationRelocated"
        class_version = 1
        destination: str

    class MovedIn(Event):
        """This path received the file moved from `source` (same session) by labledger."""

        TOPIC = "labledger:Dataset.MovedIn"
        class_version = 1
        source: str

        def apply(self, aggregate: Dataset) -> None:
            aggregate.moved_from = self.source

    def move_of(self, operation_id: str) -> tuple[str, str]:
        """(source, destination) of a move asked for."""
        return self.moves[operation_id]

    def open_registration(self) -> str | None:
        """The operation of the open registration request, if any."""
        return self._open_operation("RegistrationRequested")

    def relocate_registration(self, destination: str) -> dict[str, Any] | None:
        """Close an open registration because the file moved; returns its fields, if any."""
        operation_id = self._open_operation("RegistrationRequested")
        if operation_id is None:
            return None
        fields = self.registration_fields.get(operation_id, {})
        self.trigger_event(
            self.RegistrationRelocated, operation_id=operation_id, destination=destination
        )
        return fields

    def arrive(
        self,
        source: str,
        size: int,
        mtime_ns: int,
        md5: str,
        dataset_type: str,
        data_format: str,
    ) -> None:
        """The file moved here from `source`: what is known of it comes along (not re-hashed)."""
        self.trigger_event(self.MovedIn, source=source)
        self.discover(size, mtime_ns, md5, dataset_type, data_format)

    class RegistrationReplaced(Event, Outcome):
        """A newer registration request, with other fields, replaced this open one."""

        TOPIC = "labledger:Dataset.RegistrationReplaced"
        class_version = 1

    class Retried(Event, RetryRecorded):
        """The operator asked again for an intent refused for good (`labledger retry`)."""

        TOPIC = "labledger:Dataset.Retried"
        class_version = 1

    FAILURES: ClassVar[dict[str, type[Failure]]] = {
        "RegistrationRequested": RegistrationFailed,
        "MoveRequested": MoveFailed,
    }


class DatasetRejected(LabledgerError):
    """A rejected file cannot be registered until a scan accepts it."""
