"""What every registration use case stands on: the settings, the ledger, the warning channel and
the Alyx user; the scan options and the read models, opened when first needed; the sessions and
files that paths name, as the ledger knows them; and performing the pending work (what
`labledger sync` does) for just what a command asked.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Any
from uuid import UUID

from ..domain.alf import SessionRef
from ..domain.dataset import Dataset
from ..domain.ledger import Ledger
from ..domain.outcomes import SyncResult
from .alyx.sessions import Warn
from .database.views import Views, open_views
from .executors import (
    alyx_username,
    build_executors,
    refresh_reference,
    scan_options,
    session_ids_of,
)
from .filesystem.scan import ScanOptions, session_at
from .filesystem.scan import scan as scan_sessions
from .settings import Settings
from .sync import perform_pending


def no_progress(files: int, total: int) -> Any:
    return lambda done: None


class RegistrationCore:
    """The base of `Registrar`: its state, and the lookups its use cases share."""

    def __init__(self, settings: Settings, ledger: Ledger, warn: Warn) -> None:
        self.settings = settings
        self.ledger = ledger
        self.warn = warn
        self.user = alyx_username(settings)

    @cached_property
    def scan_options(self) -> ScanOptions:
        """How files are classified: the server's lists, refreshed once, when first needed
        (weighings and water need none)."""
        refresh_reference(self.settings, self.warn)
        return scan_options(self.settings)

    @cached_property
    def views(self) -> Views:
        """The ledger's read models (pending work), opened when first needed."""
        return open_views(self.settings, self.ledger)

    def session_of(self, path: Path) -> tuple[SessionRef, Path]:
        ref, folder, _ = session_at(path, self.scan_options)
        return ref, folder

    def _scan(self, folders: Sequence[Path]) -> None:
        scan_sessions(self.ledger, folders, self.scan_options, no_progress)

    def session_ids(self, paths: Sequence[Path]) -> frozenset[UUID]:
        """The ledger ids of the sessions these paths are in."""
        return session_ids_of(paths, self.scan_options)

    def remove_flag_if_registered(self, flag: Path) -> bool:
        """Remove a session's flag file once the session is on Alyx with nothing pending."""
        session = self.ledger.find_session(self.session_of(flag.parent)[0])
        if session is None or session.eid is None or self.views.pending_intents(session.id):
            return False
        flag.unlink(missing_ok=True)
        return True

    def files_by_session(self, paths: Sequence[Path]) -> dict[UUID, list[Dataset]]:
        """Registrable files of the given sessions or files, as the ledger knows them (scanned
        first), grouped by session."""
        per_session: dict[UUID, list[Dataset]] = {}
        located = [session_at(path, self.scan_options) for path in paths]
        self._scan(sorted({folder for _, folder, _ in located}))
        for ref, _, rel in located:
            session = self.ledger.find_session(ref)
            if session is None:
                continue
            found = self.registrable(session.id, [rel] if rel else None)
            if found:
                per_session.setdefault(session.id, []).extend(found)
        return per_session

    def registrable(self, session_id: UUID, rels: Sequence[str] | None = None) -> list[Dataset]:
        """The session's files (or these of them) that can be registered, as the ledger knows
        them now (no scan), in ONE's order: by path parts, as `sorted(Path)` orders them."""
        session = self.ledger.session(session_id)
        names = (
            rels
            if rels is not None
            else sorted(session.files, key=lambda r: PurePosixPath(r).parts)
        )
        datasets = [self.ledger.dataset(Dataset.create_id(session_id, name)) for name in names]
        return [d for d in datasets if d.state not in ("rejected", "moved")]

    def perform(self, session_ids: frozenset[UUID] | None = None) -> list[SyncResult]:
        """Perform the pending work (of these sessions, or all): what `labledger sync` does."""
        with build_executors(self.settings, self.views, self.warn) as executors:
            return perform_pending(self.views, executors, session_ids)

    def perform_records(self, operations: frozenset[str] | None = None) -> list[SyncResult]:
        """Perform pending weighings and water records (no session work): these operations
        (what a `weigh`, `water` or `retry` asked for), or all of them."""
        with build_executors(self.settings, self.views, self.warn) as executors:
            return perform_pending(self.views, executors, subjects_only=True, operations=operations)
