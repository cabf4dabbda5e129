"""Values sent to Alyx for weighings and water, checked and rounded as ONE does.

ONE rounds weights and volumes to 4 significant figures, lets negative values through to the
server and says "Water volume" for a zero weight (quirk C-17); here zero and negative values are
refused with a message naming the measurement. Times are naive local ISO strings: Alyx stores an
aware time as naive UTC (quirk S-9), which moves records to another day, so offsets are refused.
"""

from __future__ import annotations

import datetime as dt

from labledger.domain.errors import LabledgerError

WATER_TYPES = (
    "Water",
    "Water 15% Sucrose",
    "Hydrogel 5% Citric Acid",
    "Water 10% Sucrose",
    "Water 2% Citric Acid",
    "Hydrogel",
    "Water 1% Citric Acid",
)
"""Alyx 3.6.1's water types (fixture actions.watertype.json); a lab may add its own."""


class InvalidValue(LabledgerError):
    """A measurement or time Alyx must not receive."""


def four_significant(value: float) -> float:
    """Round to 4 significant figures: 35.10000000235 -> 35.1, 12345 -> 12340.0."""
    return float(f"{value:.4g}")


def positive(value: float, what: str, unit: str) -> float:
    """The value rounded as ONE does, or a one-line error if it is not greater than zero."""
    if not value > 0:
        raise InvalidValue(
            f"{what} {value:g} {unit} must be greater than 0; give the measured value"
        )
    return four_significant(value)


def naive_local(value: str | dt.date | dt.datetime, what: str = "time") -> str:
    """An ISO local time: a date -> midnight, ISO text parsed; a UTC offset refused (S-9)."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time())
    else:
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            raise InvalidValue(
                f"{what} {value!r} is not ISO 8601; write e.g. 2026-11-21T14:30:00"
            ) from None
    if moment.tzinfo is not None:
        raise InvalidValue(
            f"{what} {value} has a UTC offset, which Alyx would store as UTC and so move to "
            "another time or day; give the local time without an offset"
        )
    return moment.isoformat()


def local_time(value: str | dt.date | dt.datetime | None, now: dt.datetime) -> str:
    """ONE's date rules: None -> now, a date -> midnight, ISO text parsed; offsets refused."""
    return naive_local(now if value is None else value)
