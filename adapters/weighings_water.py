"""Weighings and water administrations asked: checked, converted to Alyx's units, linked to a
session by its key, and recorded unless they repeat one recorded moments ago.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from uuid import UUID

from ..domain.errors import LabledgerError
from ..domain.measurements import (
    WATER_TYPES,
    local_time,
    water_millilitres,
    weight_grams,
)
from ..domain.session_link import link_to
from ..domain.subject import Asked
from .registration_core import RegistrationCore


class WeighingsWater(RegistrationCore):
    """The measurement use cases of `Registrar`."""

    def request_weighing(
        self,
        subject: str,
        weight: float,
        date_time: Any,
        user: str | None,
        again: bool = False,
    ) -> Asked:
        """Record a weighing (grams) unless it repeats one recorded moments ago (see
        `domain.subject`); `again` records a deliberate second one."""
        grams = weight_grams(weight, f"weight of {subject}")
        now = dt.datetime.now().replace(microsecond=0)
        return self.ledger.ask_weighing(
            self.settings.lab or "",
            subject,
            grams,
            local_time(date_time, now),
            user or self.user,
            taken_now=date_time is None,
            again=again,
        )

    def request_water(
        self,
        subject: str,
        volume: float,
        water_type: str = "Water",
        adlib: bool = False,
        date_time: Any = None,
        session: str | Path | None = None,
        user: str | None = None,
        again: bool = False,
    ) -> Asked:
        """Record a water administration (mL), as a weighing; a session is linked by its key
        (resolved to its eid when sent, so it may be registered later)."""
        millilitres = water_millilitres(volume, f"water volume for {subject}")
        if water_type not in WATER_TYPES:
            self.warn(f'water type "{water_type}" is not one of Alyx 3.6.1\'s own; Alyx checks it')
        now = dt.datetime.now().replace(microsecond=0)
        return self.ledger.ask_water(
            self.settings.lab or "",
            subject,
            millilitres,
            water_type,
            adlib,
            local_time(date_time, now),
            self._session_link(subject, session),
            user or self.user,
            taken_now=date_time is None,
            again=again,
        )

    def _session_link(self, subject: str, session: str | Path | None) -> str | None:
        """An eid as given, or a session folder's key (`domain.session_link`): the folder need
        not be registered, nor known to the ledger; its eid is looked up when the record is
        sent."""
        if session is None:
            return None
        text = str(session)
        try:
            return str(UUID(text[-36:]))  # an eid or a session URL
        except ValueError:
            pass
        try:
            ref, _ = self.session_of(Path(text))
        except LabledgerError:
            raise LabledgerError(
                f"session {text!r} is neither an Alyx eid nor a session folder; give one of them"
            ) from None
        if ref.subject != subject:
            raise LabledgerError(
                f"session {ref.key} is of subject {ref.subject}, not {subject}; give a session "
                f"of {subject}"
            )
        return link_to(ref)


def repeat_notice(subject: str, what: str, asked: Asked, again: str = "--again") -> str | None:
    """The line that says an ask was taken to be a measurement already recorded, or None.

    `what` names the measurement ("weighing of 25.3 g"); `again` how to ask for a deliberate
    second one in the caller's words ("--again", "again=True")."""
    if asked.repeat_of is None:
        return None
    return (
        f"{subject}: the same {what} was already recorded at {asked.repeat_of} (local time); "
        "nothing new "
        f"recorded ({again} records another)"
    )
