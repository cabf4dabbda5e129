"""The fields of an Alyx session: checked once when asked for, turned into ONE's request bodies.

`register_session` in ONE builds its PUT from defaults: re-registering without a
start time resets it to midnight, replaces the users and the type. Here an update is built from
the session Alyx holds, with only the fields the operator gave changed, and skipped when nothing
changes. `subject` and `number` come from the folder only (ONE lets keywords override it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from .alf import SessionRef
from .errors import LabledgerError
from .measurements import naive_local

LIST_FIELDS = ("users", "procedures", "projects")
TEXT_FIELDS = ("type", "location", "task_protocol", "narrative", "parent_session", "lab", "qc")
COUNT_FIELDS = ("n_trials", "n_correct_trials")
TIME_FIELDS = ("start_time", "end_time")
OTHER_FIELDS = ("json", "extended_qc")
KNOWN = frozenset(LIST_FIELDS + TEXT_FIELDS + COUNT_FIELDS + TIME_FIELDS + OTHER_FIELDS)
FROM_THE_FOLDER = frozenset({"subject", "number", "date"})

DEFAULT_TYPE = "Experiment"


class InvalidSessionField(LabledgerError):
    """A session field that Alyx would refuse, or that would silently change the session."""


def check_fields(ref: SessionRef, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields, normalised (lists, ISO times, ints), or a one-line error naming the field."""
    checked: dict[str, Any] = {}
    for name, value in fields.items():
        if value is None:
            continue
        if name in FROM_THE_FOLDER:
            raise InvalidSessionField(
                f"{name} comes from the session folder {ref.key}; rename the folder instead of "
                f"passing {name}="
            )
        if name not in KNOWN:
            raise InvalidSessionField(
                f"unknown session field {name!r}; known: {', '.join(sorted(KNOWN))}"
            )
        if name in LIST_FIELDS:
            value = [value] if isinstance(value, str) else [str(v) for v in value]
        elif name in COUNT_FIELDS:
            if isinstance(value, bool) or not str(value).isdigit():
                raise InvalidSessionField(f"{name} must be a whole number >= 0, not {value!r}")
            value = int(value)
        elif name in TIME_FIELDS:
            value = naive_local(value, name)
        elif name in TEXT_FIELDS:
            value = str(value)
        checked[name] = value
    if "start_time" in checked and not checked["start_time"].startswith(ref.date.isoformat()):
        raise InvalidSessionField(
            f"start_time {checked['start_time']} is not on the session's date "
            f"{ref.date.isoformat()} (from its folder); correct the time or the folder"
        )
    lab = checked.get("lab")
    if lab is not None and ref.lab is not None and lab != ref.lab:
        raise InvalidSessionField(
            f'lab "{lab}" does not match the lab in the path ("{ref.lab}"); drop --lab or move '
            "the folder"
        )
    return checked


def midnight(ref: SessionRef) -> str:
    """ONE's default start time: the folder's date at midnight (kept, with a warning)."""
    return dt.datetime.combine(ref.date, dt.time()).isoformat()


def new_session_fields(day: dt.date, fields: Mapping[str, Any], now: dt.datetime) -> dict[str, Any]:
    """The fields of a session made now for `day`, with the start-time rule applied.

    A session made for today starts now (to the second) unless a start time is given. For any
    other day nothing is made up: the start time stays unset, so the session gets the folder's
    date at midnight, as ONE sends it, with a warning when it is registered. A given start time
    must fall on `day`; this is checked here, before the folder exists, so the error can name
    the date the operator chose rather than a folder.
    """
    chosen = dict(fields)
    start = chosen.get("start_time")
    if start is None:
        if day == now.date():
            chosen["start_time"] = now.replace(microsecond=0).isoformat()
        return chosen
    moment = dt.datetime.fromisoformat(naive_local(start, "start_time"))
    if moment.date() != day:
        raise InvalidSessionField(
            f"start time {moment.isoformat()} is not on the new session's date "
            f"{day.isoformat()}; give a start time on {day.isoformat()}, or the date "
            f"{moment.date().isoformat()}"
        )
    return chosen


def create_body(ref: SessionRef, fields: Mapping[str, Any], user: str) -> dict[str, Any]:
    """ONE's POST /sessions body, keys in ONE's order: subject, users, type, number, end_time,
    the other fields, lab, start_time."""
    body: dict[str, Any] = {
        "subject": ref.subject,
        "users": fields.get("users") or [user],
        "type": fields.get("type", DEFAULT_TYPE),
        "number": ref.number,
    }
    if "end_time" in fields:
        body["end_time"] = fields["end_time"]
    body.update(
        {
            name: value
            for name, value in fields.items()
            if name not in ("users", "type", "end_time", "lab", "start_time")
        }
    )
    lab = fields.get("lab", ref.lab)
    if lab is not None:
        body["lab"] = lab
    body["start_time"] = fields.get("start_time") or midnight(ref)
    return body


def _same(name: str, given: Any, held: Any) -> bool:
    if name in TIME_FIELDS and isinstance(held, str) and isinstance(given, str):
        return dt.datetime.fromisoformat(held) == dt.datetime.fromisoformat(given)
    if name in LIST_FIELDS and isinstance(held, list):
        return sorted(map(str, held)) == sorted(given)
    return bool(given == held)


def update_body(
    ref: SessionRef, fields: Mapping[str, Any], held: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The PUT body that changes only the given fields of the session Alyx holds (`held`),
    or None when Alyx already holds every given value."""
    changed = {
        name: value for name, value in fields.items() if not _same(name, value, held.get(name))
    }
    if not changed:
        return None
    body: dict[str, Any] = {
        "subject": ref.subject,
        "users": list(held.get("users") or []),
        "type": held.get("type") or DEFAULT_TYPE,
        "number": ref.number,
    }
    for name in ("lab", "start_time"):  # required by the PUT; the rest stays when not sent
        if held.get(name) not in (None, ""):
            body[name] = held[name]
    body.update(changed)
    return body
