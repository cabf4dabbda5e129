"""The ledger's commands on sessions: allocate a new folder's number, ask for and record the
registration on Alyx (with the claim saved before a create is sent), and the watchdog manifest's
emission and transfer.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from .alf import SessionRef
from .errors import LabledgerError
from .ledger_commands import LedgerCommands
from .session import Session


class SessionNumberTaken(LabledgerError):
    """A new session's number is already allocated in the ledger (by this or another rig)."""


class SessionCommands(LedgerCommands):
    """Commands on sessions."""

    def request_session_registration(self, ref: SessionRef, folder: str, **fields: Any) -> str:
        """Record the intent to create or update the session on Alyx; returns its operation."""
        operation: str = self._intent(
            lambda: self._session_for(ref, folder),
            lambda session: session.request_registration(fields),
        )
        return operation

    def record_session_registered(
        self, session_id: UUID, operation_id: str, eid: str, record: dict[str, Any]
    ) -> None:
        self._update(Session, session_id, lambda s: s.record_registered(operation_id, eid, record))

    def allocate_session(
        self, ref: SessionRef, folder: str, alyx_checked: bool, alyx_ahead: bool
    ) -> UUID:
        """Record a new session folder made by `new-session`; refuses a number already known."""

        def decide() -> UUID:
            if self.find_session(ref) is not None:
                raise SessionNumberTaken(f"session {ref.key} is already in the ledger")
            session = self._session_for(ref, folder)
            session.note_allocated(alyx_checked, alyx_ahead)
            self.save(session)
            return session.id

        return self._retrying(decide)

    def claim_create(self, session: Session, operation_id: str, pid: int) -> bool:
        """Saved just before POST /sessions, so a lost reply is looked up, not re-posted, and a
        second run does not post too. `session` is the state the caller decided on: if any other
        run changed the session since, nothing is saved and False says to decide again."""
        session.note_create_sent(operation_id, pid)
        try:
            self.save(session)
        except IntegrityError:
            return False
        return True

    def request_manifest(
        self,
        session_id: UUID,
        name: str,
        flag_dir: str,
        forced: bool = False,
        manifest: str = "",
        sources: str = "",
        overrides: dict[str, Any] | None = None,
    ) -> str:
        """Record the intent to emit `manifest` (its text as planned) for the session; `sources`
        fingerprints the folders it names, so the emission can refuse a session changed since."""
        return self._update(
            Session,
            session_id,
            lambda s: s.request_manifest(name, flag_dir, forced, manifest, sources, overrides),
        )

    def record_manifest_emitted(
        self, session_id: UUID, operation_id: str, path: str, sha256: str
    ) -> None:
        self._update(
            Session, session_id, lambda s: s.record_manifest_emitted(operation_id, path, sha256)
        )

    def confirm_transfer(self, session_id: UUID, path: str) -> None:
        self._update(Session, session_id, lambda s: s.confirm_transfer(path))

    def note_transfer_stalled(self, session_id: UUID, path: str, reason: str) -> None:
        self._update(Session, session_id, lambda s: s.note_transfer_stalled(path, reason))
