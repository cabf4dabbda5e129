"""The Session aggregate: one experiment session folder `[lab/Subjects/]subject/date/number`.

Its id is the uuid5 of that natural key, so every rig and every run maps the same folder to the
same aggregate. It knows which of its files were discovered or rejected, its Alyx eid once
registered, and the state of its hand-over to the watchdog transfer service.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, ClassVar
from uuid import UUID

from .alf import SessionRef
from .errors import LabledgerError
from .recorded import (
    Failure,
    Intent,
    Outcome,
    RecordedAggregate,
    RetryRecorded,
    natural_id,
)


@dataclass(frozen=True)
class CreateClaim:
    """Who last sent POST /sessions for this session, from which process, when."""

    host: str
    pid: int
    at: dt.datetime


class ManifestAlreadyEmitted(LabledgerError):
    """The session was already handed to the watchdog; a second manifest needs --force."""


class Session(RecordedAggregate):
    """A session; commands check invariants, then record past-tense events."""

    TOPIC = "labledger:Session"
    class_version = 1

    @staticmethod
    def create_id(lab: str, subject: str, date: str, number: str) -> UUID:
        """Natural key: lab ('' when unknown), subject, ISO date, number as the folder spells it."""
        return natural_id("session", f"{lab}/{subject}/{date}/{number}")

    class Event(RecordedAggregate.Event):
        """Base of the session's events."""

    class Created(Event, RecordedAggregate.Created):
        """First seen: by a scan of its folder, or created as a new folder."""

        TOPIC = "labledger:Session.Created"
        class_version = 1
        lab: str
        subject: str
        date: str
        number: str
        folder: str

    def __init__(self, lab: str, subject: str, date: str, number: str, folder: str) -> None:
        self.lab, self.subject, self.date, self.number = lab, subject, date, number
        self.folder = folder
        self.files: dict[str, str] = {}
        self.eid: str | None = None
        self.stall: str | None = None
        """Why the transfer was last seen stalled, until it is confirmed."""
        self.alyx_record: dict[str, Any] = {}
        """The session record as Alyx last sent it (POST or PUT reply, or read)."""
        self.manifest_path: str | None = None
        self.transfer: str = "none"
        self.last_error: str | None = None
        self._start_intents()
        self.allocated_offline = False
        self.create_sent = False
        self.create_claim: CreateClaim | None = None
        self.registration_fields: dict[str, dict[str, Any]] = {}

    @property
    def ref(self) -> SessionRef:
        """The session's folder key as the ALF helpers know it (lab None when unknown)."""
        return SessionRef(
            lab=self.lab or None,
            subject=self.subject,
            date=dt.date.fromisoformat(self.date),
            number=self.number,
        )

    @property
    def key(self) -> str:
        """The session as an operator writes it: `lab/subject/date/number`."""
        return self.key_of(self.lab, self.subject, self.date, self.number)

    @staticmethod
    def key_of(lab: str, subject: str, date: str, number: str) -> str:
        """`lab/subject/date/number`, without the lab when it is unknown."""
        return "/".join(part for part in (lab, subject, date, number) if part)

    # -- files ---------------------------------------------------------------------------------

    class DatasetsDiscovered(Event):
        """A scan found files new or changed since the last scan (relative paths only)."""

        TOPIC = "labledger:Session.DatasetsDiscovered"
        class_version = 1
        discovered: list[str]
        rejected: list[str]
        unchanged: int

        def apply(self, aggregate: Session) -> None:
            aggregate.files.update(dict.fromkeys(self.discovered, "discovered"))
            aggregate.files.update(dict.fromkeys(self.rejected, "rejected"))

    def note_scan(self, discovered: list[str], rejected: list[str], unchanged: int) -> bool:
        """Record a scan's result; a scan that found nothing new records nothing."""
        if not discovered and not rejected:
            return False
        self.trigger_event(
            self.DatasetsDiscovered,
            discovered=sorted(discovered),
            rejected=sorted(rejected),
            unchanged=unchanged,
        )
        return True

    # -- Alyx registration ---------------------------------------------------------------------

    class RegistrationRequested(Event, Intent):
        """The operator asked to create or update this session on Alyx with these fields."""

        TOPIC = "labledger:Session.RegistrationRequested"
        class_version = 1
        fields: dict[str, Any]
        SUPERSEDES_REFUSED = True  # the operator's newer request, not an older refused one

        def apply(self, aggregate: Session) -> None:
            super().apply(aggregate)
            aggregate.registration_fields[self.operation_id] = self.fields

    class Registered(Event, Outcome):
        """Alyx holds this session under `eid` (created, or an existing record adopted), and
        the session record as the server sent it (what ONE's register_session returns)."""

        TOPIC = "labledger:Session.Registered"
        class_version = 2
        eid: str
        record: dict[str, Any]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["record"] = {}  # not kept then: only the eid was kept

        def apply(self, aggregate: Session) -> None:
            super().apply(aggregate)
            aggregate.eid = self.eid
            aggregate.alyx_record = self.record
            aggregate.last_error = None

    class RegistrationFailed(Event, Failure):
        """Alyx refused or could not be reached; `retryable` keeps the intent pending."""

        TOPIC = "labledger:Session.RegistrationFailed"
        class_version = 1

    class NumberAllocated(Event):
        """`new-session` made this folder; `alyx_checked` says whether Alyx was asked first.

        A number allocated offline is checked again before the first registration: if Alyx
        already holds that number and this ledger never sent a create, another rig took it.
        """

        TOPIC = "labledger:Session.NumberAllocated"
        class_version = 1
        alyx_checked: bool
        alyx_ahead: bool

        def apply(self, aggregate: Session) -> None:
            aggregate.allocated_offline = not self.alyx_checked

    class CreateSent(Event):
        """A POST /sessions is about to be sent by process `pid` on the event's host: after a
        lost reply, look up before posting; while that process may still be waiting for its
        reply, another run waits for it instead of creating the session a second time."""

        TOPIC = "labledger:Session.CreateSent"
        class_version = 2
        pid: int

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["pid"] = 0  # not recorded then: no process known to be waiting

        def apply(self, aggregate: Session) -> None:
            aggregate.create_sent = True
            aggregate.create_claim = CreateClaim(self.host, self.pid, self.timestamp)

    def note_allocated(self, alyx_checked: bool, alyx_ahead: bool) -> None:
        self.trigger_event(self.NumberAllocated, alyx_checked=alyx_checked, alyx_ahead=alyx_ahead)

    def note_create_sent(self, operation_id: str, pid: int) -> None:
        """Claim the create: recorded before every POST /sessions, by the process sending it."""
        self._check_open(operation_id)
        self.trigger_event(self.CreateSent, operation_id=operation_id, pid=pid)

    def request_registration(self, fields: dict[str, Any]) -> str:
        """Ask for registration; asked again while one is open, the fields of both are merged
        (the newer value of a field wins) and the merged request replaces the open one: each
        call changes only the fields it gives, as when the first was performed before the
        second (a rig script's `create_new_session`, then `register_session` with its task
        protocol, both queued while the server is down)."""
        return self._ask_again(
            self.RegistrationRequested, self.RegistrationReplaced, self.fields_to_send(fields)
        )

    def fields_to_send(self, fields: dict[str, Any]) -> dict[str, Any]:
        """The fields a registration asked now with `fields` will send: merged into the open
        request, if any (the newer value of a field wins), so a start time that `new-session`
        asked for is still sent by a later `register` that gives none."""
        open_operation = self._open_operation("RegistrationRequested")
        if open_operation is None:
            return dict(fields)
        return {**self.registration_fields.get(open_operation, {}), **fields}

    def record_registered(self, operation_id: str, eid: str, record: dict[str, Any]) -> None:
        self._check_open(operation_id)
        self.trigger_event(self.Registered, operation_id=operation_id, eid=eid, record=record)

    # -- watchdog transfer ---------------------------------------------------------------------

    class ManifestRequested(Event, Intent):
        """The operator asked to hand this session to the watchdog under manifest `name`, with
        the manifest as planned (its YAML text) and a fingerprint of the folders it names:
        `sync` writes exactly this text, and refuses when the folders changed since."""

        TOPIC = "labledger:Session.ManifestRequested"
        class_version = 3
        name: str
        flag_dir: str
        forced: bool
        manifest: str
        sources: str
        overrides: dict[str, Any]
        """This session's own settings given with `transfer` (platform, tags, e-mail, name,
        destination), already inside `manifest`: kept apart for the audit."""

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["manifest"] = ""  # not kept then: the manifest was rebuilt from the settings
            state["sources"] = ""

        SUPERSEDES_REFUSED = True  # `retry` never replays a stale manifest

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["overrides"] = {}  # none could be given then

    class ManifestEmitted(Event, Outcome):
        """The manifest file is in the watched folder (its path and sha256, not its content)."""

        TOPIC = "labledger:Session.ManifestEmitted"
        class_version = 1
        path: str
        sha256: str

        def apply(self, aggregate: Session) -> None:
            super().apply(aggregate)
            aggregate.manifest_path = self.path
            aggregate.transfer = "emitted"

    class ManifestFailed(Event, Failure):
        """The manifest could not be written."""

        TOPIC = "labledger:Session.ManifestFailed"
        class_version = 1

    class TransferConfirmed(Event):
        """The watchdog moved the manifest into its `manifest_complete` folder."""

        TOPIC = "labledger:Session.TransferConfirmed"
        class_version = 1
        path: str

        def apply(self, aggregate: Session) -> None:
            aggregate.transfer = "confirmed"
            if aggregate.last_error is not None and aggregate.last_error == aggregate.stall:
                aggregate.last_error = None  # the stall is over; any later error stays
            aggregate.stall = None

    class TransferStalled(Event):
        """The manifest is still waiting in the flag folder past the deadline."""

        TOPIC = "labledger:Session.TransferStalled"
        class_version = 1
        path: str
        reason: str

        def apply(self, aggregate: Session) -> None:
            aggregate.transfer = "stalled"
            aggregate.last_error = aggregate.stall = self.reason

    def request_manifest(
        self,
        name: str,
        flag_dir: str,
        forced: bool = False,
        manifest: str = "",
        sources: str = "",
        overrides: dict[str, Any] | None = None,
    ) -> str:
        """Ask for a manifest; refused once emitted unless forced, reused while one is open."""
        open_operation = self._open_operation("ManifestRequested")
        if open_operation is not None:
            return open_operation
        if self.manifest_path is not None and not forced:
            raise ManifestAlreadyEmitted(
                f"session {self.key} was already handed to the watchdog ({self.manifest_path}); "
                "use --force to emit it again"
            )
        return self._trigger_intent(
            self.ManifestRequested,
            name=name,
            flag_dir=flag_dir,
            forced=forced,
            manifest=manifest,
            sources=sources,
            overrides=dict(overrides or {}),
        )

    def record_manifest_emitted(self, operation_id: str, path: str, sha256: str) -> None:
        self._check_open(operation_id)
        self.trigger_event(
            self.ManifestEmitted, operation_id=operation_id, path=path, sha256=sha256
        )

    def confirm_transfer(self, path: str) -> None:
        if self.transfer != "confirmed":
            self.trigger_event(self.TransferConfirmed, path=path)

    def note_transfer_stalled(self, path: str, reason: str) -> None:
        if (self.transfer, self.last_error) != ("stalled", reason):
            self.trigger_event(self.TransferStalled, path=path, reason=reason)

    class RegistrationReplaced(Event, Outcome):
        """A newer registration request, with other fields, replaced this open one."""

        TOPIC = "labledger:Session.RegistrationReplaced"
        class_version = 1

    class Retried(Event, RetryRecorded):
        """The operator asked again for an intent refused for good (`labledger retry`)."""

        TOPIC = "labledger:Session.Retried"
        class_version = 1

    FAILURES: ClassVar[dict[str, type[Failure]]] = {
        "RegistrationRequested": RegistrationFailed,
        "ManifestRequested": ManifestFailed,
    }
