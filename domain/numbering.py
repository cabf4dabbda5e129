"""The number of a new session folder: one more than any number already taken that day.

ONE looks only at the local disk, so two rigs both make `001` and the second
registration silently updates the first rig's session. Here every source that can know of a
number counts: the local folders, Alyx (when reachable) and the ledger (numbers allocated on this
or, with a shared ledger, any rig, even before their folders reached this disk).
"""

from __future__ import annotations

from collections.abc import Iterable

from .errors import LabledgerError

MAX_NUMBER = 999


class NoSessionNumber(LabledgerError):
    """All 999 numbers of the day are taken."""


def _numbers(names: Iterable[str | int]) -> list[int]:
    return [int(name) for name in names if str(name).isdigit()]


def next_number(
    local: Iterable[str], alyx: Iterable[int] = (), ledger: Iterable[str] = ()
) -> tuple[str, bool]:
    """The next free number, zero-padded to 3 digits, and whether Alyx was ahead of the disk.

    Gaps are not filled (`001`, `007` -> `008`), as in ONE.
    """
    local_max = max(_numbers(local), default=0)
    alyx_max = max(_numbers(alyx), default=0)
    taken = max(local_max, alyx_max, max(_numbers(ledger), default=0))
    if taken >= MAX_NUMBER:
        raise NoSessionNumber(
            f"session number {taken} is the last of the day; ALF numbers have at most 3 digits"
        )
    return f"{taken + 1:03d}", alyx_max > local_max
