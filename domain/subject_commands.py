"""The ledger's commands on subjects: weighings and water administrations, asked and recorded.

Asking twice for the same measurement returns the first ask (see `domain.subject`), so a retried
or repeated command never posts a second record.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from .ledger_commands import LedgerCommands
from .subject import Asked, Subject


class SubjectCommands(LedgerCommands):
    """Commands on subjects."""

    def ask_weighing(
        self,
        lab: str,
        nickname: str,
        weight: float,
        date_time: str,
        user: str,
        *,
        taken_now: bool = False,
        again: bool = False,
    ) -> Asked:
        """Record the intent to post a weighing, unless it repeats one asked for moments ago
        (`taken_now`: no time was given) or under the same key; `again` records another."""
        asked: Asked = self._intent(
            lambda: self._subject(lab, nickname),
            lambda subject: subject.request_weighing(
                weight, date_time, user, taken_now=taken_now, again=again
            ),
        )
        return asked

    def ask_water(
        self,
        lab: str,
        nickname: str,
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
        """Record the intent to post a water administration (repeats recognised as for a
        weighing; `session` is a link of `domain.session_link` or an eid)."""
        asked: Asked = self._intent(
            lambda: self._subject(lab, nickname),
            lambda subject: subject.request_water(
                volume,
                water_type,
                adlib,
                date_time,
                session,
                user,
                taken_now=taken_now,
                again=again,
            ),
        )
        return asked

    def claim_post(self, subject: Subject, operation_id: str, pid: int) -> bool:
        """Saved just before the POST of a weighing or water record (`Subject.PostSent`).
        `subject` is the state the caller decided on: if another run changed it since, nothing
        is saved and False says to decide again."""
        subject.note_post_sent(operation_id, pid)
        try:
            self.save(subject)
        except IntegrityError:
            return False
        return True

    def record_subject_posted(
        self, subject_id: UUID, operation_id: str, url: str, record: dict[str, Any]
    ) -> None:
        """Alyx holds the weighing or water administration of `operation_id` at `url`."""
        self._update(Subject, subject_id, lambda s: s.record_posted(operation_id, url, record))
