"""Values sent to Alyx for weighings and water, checked and rounded as ONE does.

ONE rounds weights and volumes to 4 significant figures, lets negative values through to the
server and says "Water volume" for a zero weight; here zero, negative, non-finite
(inf, nan: Python's float() accepts them, JSON cannot carry them) and implausibly large values are
refused with a message naming the measurement. Times are naive local ISO strings: Alyx stores an
aware time as naive UTC, which moves records to another day, so offsets are refused.
"""

from __future__ import annotations

import datetime as dt
import math

from .errors import LabledgerError

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


MAX_WEIGHT_G = 20_000.0
"""The heaviest weighing accepted, in grams: 20 kg, above any macaque kept for neuroscience (mice
weigh 15-40 g, rats under 1 kg). A mouse's weight typed in milligrams (25300) is refused."""

MAX_WATER_ML = 2_000.0
"""The largest single water administration accepted, in mL: 2 L, above a macaque's whole daily
ration (a mouse drinks about 1 mL a day, a rat 30 mL). A volume typed in µL (800) still passes for
a large animal, so the bound only catches values no lab animal could be given at once."""


class InvalidValue(LabledgerError):
    """A measurement or time Alyx must not receive."""


class InvalidMeasurement(InvalidValue):
    """A weight or water volume that cannot be true: not a finite number, not above zero, or
    above the bound for a lab animal."""


def four_significant(value: float) -> float:
    """Round to 4 significant figures: 35.10000000235 -> 35.1, 12345 -> 12340.0."""
    return float(f"{value:.4g}")


def positive(
    value: float, what: str, unit: str, most: float | None = None, beyond: str = ""
) -> float:
    """The value rounded as ONE does, or a one-line error if it is not a finite number greater
    than zero (and at most `most`, `beyond` saying why): `what` names the measurement."""
    if not math.isfinite(value):
        raise InvalidMeasurement(
            f"{what} {value} {unit} is not a finite number; give the measured value in {unit}"
        )
    if not value > 0:
        raise InvalidMeasurement(
            f"{what} {value:g} {unit} must be greater than 0; give the measured value"
        )
    if most is not None and value > most:
        raise InvalidMeasurement(
            f"{what} {value:g} {unit} is more than {most:g} {unit}{beyond}; give the measured "
            f"value in {unit}"
        )
    return four_significant(value)


def weight_grams(value: float, what: str = "weight") -> float:
    """A weighing in grams, checked (finite, above 0, at most MAX_WEIGHT_G) and rounded."""
    return positive(value, what, "g", MAX_WEIGHT_G, ", more than any lab animal weighs")


def water_millilitres(value: float, what: str = "water volume") -> float:
    """A water volume in mL, checked (finite, above 0, at most MAX_WATER_ML) and rounded."""
    return positive(value, what, "mL", MAX_WATER_ML, ", more than a lab animal is given at once")


def naive_local(value: str | dt.date | dt.datetime, what: str = "time") -> str:
    """An ISO local time: a date -> midnight, ISO text parsed; a UTC offset refused."""
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


def shown_local(date_time: str) -> str:
    """A naive local ISO time as a person reads it: 2026-12-01T10:00:00 -> '2026-12-01 10:00',
    seconds kept when there are some (a time taken "now"); text that is not ISO as it is."""
    try:
        moment = dt.datetime.fromisoformat(date_time)
    except ValueError:
        return date_time
    return moment.strftime("%Y-%m-%d %H:%M:%S" if moment.second else "%Y-%m-%d %H:%M")
