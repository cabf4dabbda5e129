"""The events of the log as the fold reads them: plain JSON values, decoded straight from the
stored state.

Folding a million events through eventsourcing's mapper paid, per event, for a JSON decode that
calls back into Python for every typed value, a UUID and a datetime object made, and then the fold
turning both back into text. A `LoggedEvent` is made from the stored row itself: one plain
`json.loads`, the typed values (`{"_type_": ..., "_data_": ...}`) turned into the text the views
keep (ids with hyphens, dates as `str` gives them), the event's upcasts applied to the dict. Its
class mirrors the event class by name (`type(e).__qualname__ == "Session.Created"`) and kind, so
the summaries and the pending rules read it as they read a domain event; its attributes are the
event's fields. Events that arrive as objects (eventsourcing's projection runner) go through
`of_domain_event`, which gives the same values: the fold has one input, whichever way the log
was read.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.utils import get_topic, resolve_topic

from ..domain.event_catalog import event_classes


class LoggedEvent:
    """One event of the log: its fields (and `originator_id`, `timestamp`) as plain values."""

    NAME: ClassVar[str] = ""
    """The event class's qualified name, e.g. 'Session.Created'."""
    AGGREGATE: ClassVar[str] = ""
    """The aggregate's name: 'Session', 'Dataset', 'Subject' or 'WatchdogService'."""
    KIND: ClassVar[str] = "fact"
    """'intent', 'outcome' or 'fact', as the event class says (`domain.pending.event_kind`)."""

    originator_id: str
    """The aggregate's id, as text with hyphens."""
    timestamp: str
    """When it was recorded: UTC, ISO 8601."""
    operation_id: str
    alyx_user: str
    os_user: str
    host: str
    tool_version: str

    def field(self, name: str, default: Any = None) -> Any:
        """A field the event may not have (no exception raised when it does not)."""
        return self.__dict__.get(name, default)

    def __getattr__(self, name: str) -> Any:
        # only reached for a field the event does not have (an older or newer shape)
        raise AttributeError(f"{self.NAME} has no field {name!r}")


class _Shape:
    """What is known of a topic once: its mirror class, event class version and upcasts. The
    class is looked up in the ledger's catalogue, which imports every aggregate: an event class
    registers its topic with eventsourcing only once its module is imported, and a command that
    folds may not have imported them all (the watchdog's, for one)."""

    def __init__(self, topic: str) -> None:
        cls: Any = event_classes().get(topic) or resolve_topic(topic)
        name = cls.__qualname__
        self.mirror: type[LoggedEvent] = type(
            name.rpartition(".")[2],
            (LoggedEvent,),
            {
                "__qualname__": name,
                "NAME": name,
                "AGGREGATE": name.partition(".")[0],
                "KIND": str(getattr(cls, "KIND", "fact")),
            },
        )
        self.cls = cls
        self.version: int = getattr(cls, "class_version", 1)


_SHAPES: dict[str, _Shape] = {}


def _shape(topic: str) -> _Shape:
    found = _SHAPES.get(topic)
    if found is None:
        found = _SHAPES[topic] = _Shape(topic)
    return found


def _hyphenated(hex_id: str) -> str:
    """A uuid's hex as `str(UUID)` writes it."""
    if len(hex_id) != 32:
        return str(UUID(hex_id))
    return f"{hex_id[:8]}-{hex_id[8:12]}-{hex_id[12:16]}-{hex_id[16:20]}-{hex_id[20:]}"


def _plain_typed(value: dict[str, Any]) -> Any:
    """An eventsourcing-typed value as the text `json.dumps(..., default=str)` gives it."""
    if len(value) == 2 and "_type_" in value and "_data_" in value:
        kind, data = value["_type_"], value["_data_"]
        if kind == "uuid_hex":
            return _hyphenated(data)
        if kind == "datetime_iso":
            return str(dt.datetime.fromisoformat(data))
        if kind == "decimal_str":
            return data
    return value


_typed_decoder = json.JSONDecoder(object_hook=_plain_typed)


def decoded(topic: str, originator_id: UUID | str, state: bytes | str) -> LoggedEvent:
    """The event of a stored row: its topic, aggregate id and JSON state (as eventsourcing's
    JSON transcoder wrote it, neither compressed nor encrypted)."""
    shape = _shape(topic)
    fields: dict[str, Any] = json.loads(state)
    typed = state.count(b'"_type_"') if isinstance(state, bytes) else state.count('"_type_"')
    fields["timestamp"] = fields["timestamp"]["_data_"]
    if typed > 1:  # typed values besides the timestamp: at the top level (ids), or deeper
        top = [
            name for name, value in fields.items() if isinstance(value, dict) and "_type_" in value
        ]
        if len(top) == typed - 1:
            for name in top:
                fields[name] = _plain_typed(fields[name])
        else:
            stamp = fields["timestamp"]
            fields = _typed_decoder.decode(
                state.decode("utf8") if isinstance(state, bytes) else state
            )
            fields["timestamp"] = stamp
    version = fields.pop("class_version", 1)
    while version < shape.version:
        getattr(shape.cls, f"upcast_v{version}_v{version + 1}")(fields)
        version += 1
    if isinstance(originator_id, UUID):
        fields["originator_id"] = str(originator_id)
    else:
        fields["originator_id"] = _hyphenated(originator_id.replace("-", ""))
    event = object.__new__(shape.mirror)
    event.__dict__ = fields
    return event


def of_domain_event(event: Any) -> LoggedEvent:
    """A decoded domain event (from eventsourcing's mapper) as the fold reads it: the same
    values `decoded` gives for its stored row."""
    fields = {
        name: value
        for name, value in vars(event).items()
        if name not in ("originator_id", "originator_version")
    }
    plain: dict[str, Any] = json.loads(json.dumps(fields, default=str))
    plain["timestamp"] = event.timestamp.isoformat()
    plain["originator_id"] = str(event.originator_id)
    mirror = _shape(get_topic(type(event))).mirror
    logged = object.__new__(mirror)
    logged.__dict__ = plain
    return logged


def as_logged(event: Any) -> LoggedEvent:
    """An event as the fold reads it, however it was read (stored row, or domain event)."""
    return event if isinstance(event, LoggedEvent) else of_domain_event(event)
