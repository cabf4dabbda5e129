"""The Subject aggregate: a lab animal, keyed by lab and nickname.

It holds the weighings and water administrations asked for, each under an idempotency key built
from what identifies the measurement (time and value), so asking twice, or retrying after a lost
reply, never makes a second record on Alyx (Alyx itself never de-duplicates: quirk S-11).
"""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import UUID

from labledger.domain.errors import LabledgerError
from labledger.domain.recorded import Failure, Intent, Outcome, RecordedAggregate, natural_id


class InvalidMeasurement(LabledgerError):
    """A weight or water volume that cannot be true (zero, negative)."""


class PostRequested(Intent):
    """Base of a record to post to Alyx once, under an idempotency key."""

    idempotency_key: str

    def apply(self, aggregate: Any) -> None:
        super().apply(aggregate)
        aggregate.records[self.idempotency_key] = "requested"
        aggregate.operations[self.idempotency_key] = self.operation_id


class PostRecorded(Outcome):
    """Base of "Alyx holds the record at `url`"."""

    idempotency_key: str
    url: str

    def apply(self, aggregate: Any) -> None:
        super().apply(aggregate)
        aggregate.records[self.idempotency_key] = "recorded"


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
        self.open_intents = {}
        self.last_error = None

    class WeighingRequested(Event, PostRequested):
        """Post this weighing to Alyx (grams, naive local ISO time)."""

        TOPIC = "labledger:Subject.WeighingRequested"
        class_version = 1
        weight: float
        date_time: str
        user: str

    class WeighingRecorded(Event, PostRecorded):
        """Alyx holds the weighing at `url`."""

        TOPIC = "labledger:Subject.WeighingRecorded"
        class_version = 1

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

    class WaterAdministrationRecorded(Event, PostRecorded):
        """Alyx holds the water administration at `url`."""

        TOPIC = "labledger:Subject.WaterAdministrationRecorded"
        class_version = 1

    class WaterAdministrationFailed(Event, PostFailed):
        """Alyx refused the water administration or could not be reached."""

        TOPIC = "labledger:Subject.WaterAdministrationFailed"
        class_version = 1

    def request_weighing(self, weight: float, date_time: str, user: str) -> str:
        """Ask for a weighing; the same weighing asked again returns the first operation."""
        if not weight > 0:
            raise InvalidMeasurement(
                f"weight {weight} g for {self.nickname} must be greater than 0"
            )
        key = f"weighing/{date_time}/{weight:g}"
        return self._request_once(
            key, self.WeighingRequested, weight=weight, date_time=date_time, user=user
        )

    def request_water(
        self,
        volume: float,
        water_type: str,
        adlib: bool,
        date_time: str,
        session: str | None,
        user: str,
    ) -> str:
        """Ask for a water administration; asking again returns the first operation."""
        if not volume > 0:
            raise InvalidMeasurement(
                f"water volume {volume} mL for {self.nickname} must be greater than 0"
            )
        key = f"water/{date_time}/{volume:g}/{water_type}"
        return self._request_once(
            key,
            self.WaterAdministrationRequested,
            volume=volume,
            water_type=water_type,
            adlib=adlib,
            date_time=date_time,
            session=session,
            user=user,
        )

    def record_posted(self, operation_id: str, url: str) -> None:
        """Alyx holds the weighing or water record that `operation_id` asked for."""
        self._check_open(operation_id)
        recorded = self._RECORDED[self.open_intents[operation_id]]
        key = self._key_of(operation_id)
        self.trigger_event(recorded, operation_id=operation_id, idempotency_key=key, url=url)

    def _failure_fields(self, operation_id: str) -> dict[str, Any]:
        return {"idempotency_key": self._key_of(operation_id)}

    def _key_of(self, operation_id: str) -> str:
        return next(key for key, op in self.operations.items() if op == operation_id)

    def _request_once(self, key: str, event_class: Any, **fields: Any) -> str:
        """Record the intent unless this key was already asked for (then reuse its operation).

        A failed (refused) request may be asked again: it made nothing on Alyx.
        """
        if self.records.get(key) in ("requested", "recorded"):
            return self.operations[key]
        return self._trigger_intent(event_class, key, idempotency_key=key, **fields)

    _RECORDED: ClassVar[dict[str, type[PostRecorded]]] = {
        "WeighingRequested": WeighingRecorded,
        "WaterAdministrationRequested": WaterAdministrationRecorded,
    }
    FAILURES: ClassVar[dict[str, type[Failure]]] = {
        "WeighingRequested": WeighingFailed,
        "WaterAdministrationRequested": WaterAdministrationFailed,
    }
