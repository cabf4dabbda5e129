"""`new-session`: the next numbered session folder, checked against the disk, the ledger and Alyx
before anything is made, and (with fields) its registration asked at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

from ..domain.alf import SessionRef, parse_session_path, resolve_lab
from ..domain.errors import LabledgerError
from ..domain.numbering import next_number
from ..domain.session_commands import SessionNumberTaken
from ..domain.session_fields import check_fields, new_session_fields
from .alyx.errors import AlyxError
from .alyx.sessions import held
from .executors import alyx_client
from .filesystem.user_dirs import expand_user
from .registration_requests import RegistrationRequests


class NewSessions(RegistrationRequests):
    """The new-session use case of `Registrar` (it asks for the registration as `request` does)."""

    def new_session(
        self,
        subject: str,
        root: Path,
        date: dt.date | None,
        fields: Mapping[str, Any] | None,
        now: dt.datetime | None = None,
    ) -> tuple[Path, UUID]:
        """Make the next numbered folder (numbers on Alyx count too) and, unless `fields` is None,
        record the intent to register it with those fields (the start-time rule of
        `new_session_fields`).

        Every check comes first: the subject and lab of the path, the fields and the start time,
        the subject on Alyx when it answers. A refused call makes no folder and records nothing,
        so running it again takes the same number (ONE made the folder first). "Today" and
        "now" are read once, so a call at midnight cannot mix two days.
        """
        moment = now or dt.datetime.now()
        day = date or moment.date()
        day_folder = expand_user(root).absolute() / subject / day.isoformat()
        self._new_ref(day_folder / "001")  # subject, date and lab, before anything is asked
        checked: dict[str, Any] | None = None
        if fields is not None:
            checked = new_session_fields(day, fields, moment)
            check_fields(self._new_ref(day_folder / "001"), checked)
        local = (
            [p.name for p in day_folder.iterdir() if not p.name.startswith(".")]
            if day_folder.is_dir()
            else []
        )
        users = list((checked or {}).get("users") or [])
        alyx_numbers, reachable = self._alyx_numbers(subject, day, users)
        number, ahead = next_number(local, alyx_numbers)
        day_folder.mkdir(parents=True, exist_ok=True)  # fails here, before the ledger, if it must
        while True:
            folder = day_folder / number
            ref = self._new_ref(folder)
            try:
                session_id = self.ledger.allocate_session(ref, folder.as_posix(), reachable, ahead)
                break
            except SessionNumberTaken:
                number, _ = next_number([number])
        if ahead:
            self.warn(
                f"Alyx already holds sessions of {subject} on {day} numbered up to "
                f"{max(alyx_numbers)} that this disk does not have; took {number}"
            )
        if not reachable:
            self.warn(
                f"Alyx not reachable: {number} allocated from this disk and the ledger only; it is "
                "checked again before it is registered"
            )
        folder.mkdir(exist_ok=True)
        if checked is not None:
            self.request([folder], checked, None)
        return folder, session_id

    def _new_ref(self, folder: Path) -> SessionRef:
        """The session a new folder will be, checked as a registration will check it."""
        options = self.scan_options
        return resolve_lab(parse_session_path(folder), options.lab, options.known_labs)

    def _alyx_numbers(
        self, subject: str, day: dt.date, users: Sequence[str] = ()
    ) -> tuple[list[int], bool]:
        """Numbers Alyx holds for the subject that day, and whether Alyx could be asked.

        The subject is looked up first, as ONE does, and the users given: an unknown subject or
        user is refused before any folder is made (the registration would be refused after)."""
        try:
            with alyx_client(self.settings) as client:
                if client is None:
                    return [], False
                if held(client, f"/subjects/{subject}") is None:
                    raise LabledgerError(
                        f"subject {subject} does not exist on Alyx; create it there or correct "
                        "the subject name"
                    )
                for user in users:
                    if held(client, f"/users/{user}") is None:
                        raise LabledgerError(f"user {user} does not exist on Alyx; correct --users")
                hits = client.list(
                    "/sessions",
                    {"subject": subject, "date_range": f"{day.isoformat()},{day.isoformat()}"},
                    records=True,
                )
        except AlyxError as error:
            if not error.keeps_pending:
                raise
            if not error.retryable:  # a login or setting to fix: the session need not wait
                self.warn(f"{error}; numbering from this disk and the ledger")
            return [], False
        return [int(hit["number"]) for hit in hits if str(hit.get("number", "")).isdigit()], True
