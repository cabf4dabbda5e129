"""The Subject aggregate: a lab animal, keyed by lab and nickname.

It holds the weighings and water administrations asked for, each under an idempotency key built
from what identifies the measurement (time and value), so asking twice, or retrying after a lost
reply, never makes a second record on Alyx (Alyx itself never de-duplicates weighings or water).

A command run without a time takes "now" (to the second) as the measurement's time, so running it
again after a timeout or a crash would give another key. Such an ask is therefore compared with
what was asked moments ago: an identical measurement (same value; for water also the same type,
adlib and session) whose time is within REPEAT_WINDOW is taken to be the same one, and nothing new
is recorded. `again` asks for a deliberate second record instead.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar
from uuid import UUID

from .measurements import InvalidMeasurement as InvalidMeasurement
from .measurements import shown_local, water_millilitres, weight_grams
from .recorded import (
    Failure,
    Intent,
    Outcome,
    RecordedAggregate,
    RetryRecorded,
    natural_id,
)
from .session import CreateClaim

ASKED = ("requested", "recorded")
"""The states of a record that stands: asked for, or on Alyx (a refused one may be asked again)."""

REPEAT_WINDOW = dt.timedelta(minutes=10)
"""How close in time an identical measurement asked without a time must be to count as the same
one: long enough to cover a timeout and a re-run, short enough that the next weighing of the day
is never mistaken for it."""


@dataclass(frozen=True)
class Measured:
    """What identifies a measurement asked for, besides its time."""

    kind: str
    """'weighing' or 'water'."""
    identity: tuple[Any, ...]
    """The value (and, for water, type, adlib and session link)."""
    date_time: str


@dataclass(frozen=True)
class Asked:
    """What asking for a weighing or water administration did."""

    operation_id: str
    """The intent that will (or did) post the record: a new one, or the earlier one it repeats."""
    repeat_of: str | None = None
    """The time of the same measurement asked for before, when this ask was taken to be it and
    nothing new was recorded; None when a new intent was recorded."""


def _moment(date_time: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(date_time)
    except ValueError:
        return None


class PostRequested(Intent):
    """Base of a record to post to Alyx once, under an idempotency key."""

    idempotency_key: str

    def apply(self, aggregate: Any) -> None:
        super().apply(aggregate)
        aggregate.records[self.idempotency_key] = "requested"
        aggregate.operations[self.idempotency_key] = self.operation_id
        aggregate.measured[self.idempotency_key] = self.measure(vars(self))

    @staticmethod
    def measure(fields: Mapping[str, Any]) -> Measured:
        """What a record with these fields is, to recognise the same measurement asked again
        (before it is recorded, and when its event is applied)."""
        raise NotImplementedError

    @staticmethod
    def describe(fields: Mapping[str, Any]) -> str:
        """The measurement in a person's words ("25.3 g at 2026-12-01 10:00 (local)"), so
        that two records of one subject can be told apart in a report."""
        raise NotImplementedError


class PostRecorded(Outcome):
    """Base of "Alyx holds the record at `url`", with the record as the server sent it (what
    ONE's register_weight and register_water_administration return)."""

    idempotency_key: str
    url: str
    record: dict[str, Any]

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["record"] = {}  # not kept then: only the url was

    def apply(self, aggregate: Any) -> None:
        super().apply(aggregate)
        aggregate.records[self.idempotency_key] = "recorded"
        aggregate.urls[self.idempotency_key] = self.url
        aggregate.alyx_records[self.idempotency_key] = self.record


class PostFailed(Failure):
    """Base of "Alyx refused the record or could not be reached"."""

    idempotency_key: str

    def apply(self, aggregate: Any) -> None:
        super().apply(aggregate)
        if not self.retryable:
            aggregate.records[self.idempotency_key] = "failed"


class Subject(RecordedAggregate):
    """A subject; commands check invariants, then record past-tense events."""

    TOPIC = "labledger:Subject"
    class_version = 1

    @staticmethod
    def create_id(lab: str, nickname: str) -> UUID:
        """Natural key: lab ('' when unknown) and nickname (Alyx nicknames are unique per lab)."""
        return natural_id("subject", f"{lab}/{nickname}")

    class Event(RecordedAggregate.Event):
        """Base of the subject's events."""

    class Created(Event, RecordedAggregate.Created):
        """First mentioned to the ledger."""

        TOPIC = "labledger:Subject.Created"
        class_version = 1
        lab: str
        nickname: str

    def __init__(self, lab: str, nickname: str) -> None:
        self.lab, self.nickname = lab, nickname
        self.records: dict[str, str] = {}
        """Idempotency key -> 'requested' | 'recorded' | 'failed'."""
        self.operations: dict[str, str] = {}
        """Idempotency key -> operation id of its intent."""
        self.measured: dict[str, Measured] = {}
        """Idempotency key -> what was asked for under it."""
        self.urls: dict[str, str] = {}
        self.alyx_records: dict[str, dict[str, Any]] = {}
        """Idempotency key -> the record Alyx sent for it."""
        """Idempotency key -> the Alyx record holding it (so no record is adopted twice)."""
        self.post_claims: dict[str, CreateClaim] = {}
        """Operation id -> who last sent its POST (see `PostSent`)."""
        self._start_intents()

    class WeighingRequested(Event, PostRequested):
        """Post this weighing to Alyx (grams, naive local ISO time)."""

        TOPIC = "labledger:Subject.WeighingRequested"
        class_version = 1
        weight: float
        date_time: str
        user: str

        @staticmethod
        def measure(fields: Mapping[str, Any]) -> Measured:
            return Measured("weighing", (fields["weight"],), fields["date_time"])

        @staticmethod
        def describe(fields: Mapping[str, Any]) -> str:
            return f"{fields['weight']:g} g at {shown_local(fields['date_time'])} (local)"

    class WeighingRecorded(Event, PostRecorded):
        """Alyx holds the weighing at `url`."""

        TOPIC = "labledger:Subject.WeighingRecorded"
        class_version = 2

    class WeighingFailed(Event, PostFailed):
        """Alyx refused the weighing or could not be reached."""

        TOPIC = "labledger:Subject.WeighingFailed"
        class_version = 1

    class WaterAdministrationRequested(Event, PostRequested):
        """Post this water administration to Alyx (mL, water type, adlib, optional session)."""

        TOPIC = "labledger:Subject.WaterAdministrationRequested"
        class_version = 1
        volume: float
        water_type: str
        adlib: bool
        date_time: str
        session: str | None
        user: str

        @staticmethod
        def measure(fields: Mapping[str, Any]) -> Measured:
            identity = tuple(fields[name] for name in ("volume", "water_type", "adlib", "session"))
            return Measured("water", identity, fields["date_time"])

        @staticmethod
        def describe(fields: Mapping[str, Any]) -> str:
            adlib = " adlib" if fields["adlib"] else ""
            when = shown_local(fields["date_time"])
            return f"{fields['volume']:g} mL {fields['water_type']}{adlib} at {when} (local)"

    class WaterAdministrationRecorded(Event, PostRecorded):
        """Alyx holds the water administration at `url`."""

        TOPIC = "labledger:Subject.WaterAdministrationRecorded"
        class_version = 2

    class WaterAdministrationFailed(Event, PostFailed):
        """Alyx refused the water administration or could not be reached."""

        TOPIC = "labledger:Subject.WaterAdministrationFailed"
        class_version = 1

    def request_weighing(
        self,
        weight: float,
        date_time: str,
        user: str,
        *,
        taken_now: bool = False,
        again: bool = False,
    ) -> Asked:
        """Ask for a weighing; the same weighing asked again returns the first operation.

        `taken_now`: `date_time` is the moment the command ran (no time was given), so the same
        weight asked within REPEAT_WINDOW is taken to be a repeat. `again`: a deliberate second
        record, even of a measurement already asked for."""
        grams = weight_grams(weight, f"weight for {self.nickname}")
        key = f"weighing/{date_time}/{grams:g}"
        return self._ask(
            key,
            taken_now,
            again,
            self.WeighingRequested,
            weight=grams,
            date_time=date_time,
            user=user,
        )

    def request_water(
        self,
        volume: float,
        water_type: str,
        adlib: bool,
        date_time: str,
        session: str | None,
        user: str,
        *,
        taken_now: bool = False,
        again: bool = False,
    ) -> Asked:
        """Ask for a water administration; asking again returns the first operation
        (`taken_now` and `again` as for a weighing)."""
        millilitres = water_millilitres(volume, f"water volume for {self.nickname}")
        key = f"water/{date_time}/{millilitres:g}/{water_type}"
        return self._ask(
            key,
            taken_now,
            again,
            self.WaterAdministrationRequested,
            volume=millilitres,
            water_type=water_type,
            adlib=adlib,
            date_time=date_time,
            session=session,
            user=user,
        )

    def recent_repeat(self, measured: Measured) -> str | None:
        """The key of the latest identical measurement asked for (not refused) whose time is
        within REPEAT_WINDOW of this one's, if any."""
        moment = _moment(measured.date_time)
        if moment is None:
            return None
        best: tuple[dt.datetime, str] | None = None
        for key, earlier in self.measured.items():
            if self.records.get(key) not in ASKED:
                continue
            if (earlier.kind, earlier.identity) != (measured.kind, measured.identity):
                continue
            when = _moment(earlier.date_time)
            if when is None or abs(moment - when) > REPEAT_WINDOW:
                continue
            if best is None or when > best[0]:
                best = (when, key)
        return None if best is None else best[1]

    class PostSent(Event):
        """The POST of the weighing or water administration of `operation_id` is about to be
        sent by process `pid` on the event's host. Alyx keeps every record posted, so a run
        racing for the same work waits for that process instead of posting a second record,
        and after a lost reply the next run looks the record up before posting."""

        TOPIC = "labledger:Subject.PostSent"
        class_version = 1
        operation_id: str
        pid: int

        def apply(self, aggregate: Subject) -> None:
            aggregate.post_claims[self.operation_id] = CreateClaim(
                self.host, self.pid, self.timestamp
            )

    def note_post_sent(self, operation_id: str, pid: int) -> None:
        """Claim the POST: recorded before each one, by the process sending it."""
        self._check_open(operation_id)
        self.trigger_event(self.PostSent, operation_id=operation_id, pid=pid)

    def record_posted(self, operation_id: str, url: str, record: dict[str, Any]) -> None:
        """Alyx holds the weighing or water record that `operation_id` asked for."""
        self._check_open(operation_id)
        recorded = self._RECORDED[self.open_intents[operation_id]]
        key = self._key_of(operation_id)
        self.trigger_event(
            recorded, operation_id=operation_id, idempotency_key=key, url=url, record=record
        )

    def _failure_fields(self, operation_id: str) -> dict[str, Any]:
        return {"idempotency_key": self._key_of(operation_id)}

    def _open_same_work(self, intent_name: str, fields: dict[str, Any]) -> str | None:
        """A subject holds many measurements of one kind: only the open intent of the same
        measurement (its idempotency key) is the same work; another one must not stand in
        for it, or a second refused water record retried would never be posted."""
        operation_id = self.operations.get(fields.get("idempotency_key", ""))
        if operation_id is not None and self.open_intents.get(operation_id) == intent_name:
            return operation_id
        return None

    def _key_of(self, operation_id: str) -> str:
        return next(key for key, op in self.operations.items() if op == operation_id)

    def _ask(
        self,
        key: str,
        taken_now: bool,
        again: bool,
        event_class: Any,
        **fields: Any,
    ) -> Asked:
        """Record the intent unless this measurement was already asked for (then reuse its
        operation); with `again`, record it under the next free key `KEY#2`, `KEY#3`, ...

        A failed (refused) request may be asked again: it made nothing on Alyx.
        """
        if again:
            keys = itertools.chain([key], (f"{key}#{number}" for number in itertools.count(2)))
            key = next(k for k in keys if self.records.get(k) not in ASKED)
        else:
            earlier = self.recent_repeat(event_class.measure(fields)) if taken_now else None
            if earlier is None and self.records.get(key) in ASKED:
                earlier = key
            if earlier is not None:
                return Asked(self.operations[earlier], self.measured[earlier].date_time)
        operation_id = self._trigger_intent(event_class, key, idempotency_key=key, **fields)
        return Asked(operation_id)

    _RECORDED: ClassVar[dict[str, type[PostRecorded]]] = {
        "WeighingRequested": WeighingRecorded,
        "WaterAdministrationRequested": WaterAdministrationRecorded,
    }

    class Retried(Event, RetryRecorded):
        """The operator asked again for an intent refused for good (`labledger retry`)."""

        TOPIC = "labledger:Subject.Retried"
        class_version = 1

    FAILURES: ClassVar[dict[str, type[Failure]]] = {
        "WeighingRequested": WeighingFailed,
        "WaterAdministrationRequested": WaterAdministrationFailed,
    }


def describe_record(intent: str, fields: Mapping[str, Any]) -> str:
    """A subject's record to post, named by its measurement: `intent` is the intent event's
    name ('WeighingRequested', or qualified 'Subject.WeighingRequested') and `fields` its
    fields (as `labledger pending` holds them)."""
    requested: type[PostRequested] = getattr(Subject, intent.rsplit(".", 1)[-1])
    return requested.describe(fields)
