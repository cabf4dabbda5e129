"""Asking for registrations: what registering these paths means (sessions, files, fields, versions),
checked whole before anything is recorded, then recorded in one transaction; or, for a dry run,
the exact requests it would send.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from ..domain.alf import SessionRef
from ..domain.dataset import Dataset
from ..domain.file_registration import (
    FileOptions,
    FileRequest,
    InvalidFileOptions,
    versions_for,
)
from ..domain.file_registration import body as register_file_body
from ..domain.ledger_queries import session_id_of
from ..domain.observations import Observed, SessionScan
from ..domain.outcomes import SyncResult
from ..domain.session import Session
from ..domain.session_fields import check_fields, create_body, midnight
from .filesystem.scan import observe
from .filesystem.walk import split_session_path
from .registration_core import RegistrationCore, no_progress


@dataclass(frozen=True)
class FileChoice:
    """How files are registered: ONE's register_files keywords, checked."""

    options: FileOptions
    versions: str | Sequence[str | None] | None = None
    max_md5_size: int | None = None


@dataclass(frozen=True)
class Requested:
    """What a registration request recorded: its sessions, and its files in input order."""

    session_ids: set[UUID]
    dataset_ids: list[UUID]
    done_elsewhere: list[SyncResult] = field(default_factory=list)
    """Work another run did between this request's plan and its save: not asked again."""


@dataclass
class _SessionPlan:
    """One session of a registration, checked, before anything is recorded."""

    ref: SessionRef
    session_id: UUID
    scan: SessionScan
    fields: dict[str, Any] | None
    files: list[FileRequest]
    named: bool = False
    """The files were named one by one (registered even if registered already)."""


class RegistrationRequests(RegistrationCore):
    """Registrations asked: `request` records them, `dry_run` shows them."""

    def request(
        self,
        paths: Sequence[Path],
        fields: dict[str, Any] | None,
        choice: FileChoice | None,
    ) -> Requested:
        """Record the intents to register sessions and files.

        A session folder means the session and (with `choice`) every file of it not registered
        as it is now; a file means that file. Everything is checked (fields, versions, rejected
        files) before anything is recorded, and files are hashed once.
        """
        plans = self._plan(paths, fields, choice)
        sessions = [
            (plan.ref, plan.scan.folder, plan.fields or {})
            for plan in plans
            if plan.fields is not None and self._asks_session(plan)
        ]
        datasets = [
            (
                Dataset.create_id(plan.session_id, request.rel_path),
                {
                    "options": choice.options.as_fields() if choice else {},
                    "version": request.version,
                    "send_hash": request.md5 is not None,
                },
            )
            for plan in plans
            for request in plan.files
        ]
        implicit = frozenset(
            Dataset.create_id(plan.session_id, request.rel_path)
            for plan in plans
            if not plan.named
            for request in plan.files
        )
        elsewhere = self.ledger.request_registrations(
            [plan.scan for plan in plans], sessions, datasets, implicit
        )
        return Requested(
            session_ids={plan.session_id for plan in plans},
            dataset_ids=[dataset_id for dataset_id, _ in datasets],
            done_elsewhere=self._done_elsewhere(elsewhere),
        )

    def _done_elsewhere(self, elsewhere: dict[UUID, str]) -> list[SyncResult]:
        """One report line per session whose work another run did first."""
        by_session: dict[str, tuple[int, str]] = {}
        for aggregate_id, done in elsewhere.items():
            aggregate: Session | Dataset = self.ledger.repository.get(aggregate_id)
            if isinstance(aggregate, Dataset):
                key, files = self.ledger.session(aggregate.session_id).key, 1
            else:
                key, files = aggregate.key, 0
            count, _ = by_session.get(key, (0, done))
            by_session[key] = (count + files, done)
        return [
            SyncResult(
                key, f"register {count} files" if count else "register session", "done", done
            )
            for key, (count, done) in by_session.items()
        ]

    def _asks_session(self, plan: _SessionPlan) -> bool:
        """A session already registered is asked again only when fields were given (an update)."""
        session = self.ledger.find_session(plan.ref)
        new = session is None or session.eid is None
        if not new and not plan.fields:
            return False
        if new and "start_time" not in (plan.fields or {}):
            self.warn(
                f"{plan.ref.key}: no start time given; Alyx gets {midnight(plan.ref)} (the "
                "folder's date at midnight, as ONE sends); pass the real start time"
            )
        return True

    def _plan(
        self,
        paths: Sequence[Path],
        fields: dict[str, Any] | None,
        choice: FileChoice | None,
    ) -> list[_SessionPlan]:
        """What registering these paths means, checked, with nothing recorded yet."""
        per_session: dict[Path, list[str]] = {}
        for path in paths:
            folder, rel = split_session_path(path.expanduser().absolute())
            per_session.setdefault(Path(folder), []).append(rel)
        plans: list[_SessionPlan] = []
        scans = observe(self.ledger, list(per_session), self.scan_options, no_progress)
        for scan, rels in zip(scans, per_session.values(), strict=True):
            checked = None if fields is None else check_fields(scan.ref, fields)
            files: list[FileRequest] = []
            if choice is not None:
                named = [rel for rel in rels if rel]
                twice = sorted({rel for rel in named if named.count(rel) > 1})
                if twice:
                    raise InvalidFileOptions(
                        f"file(s) given twice: {', '.join(twice)}; give each once"
                    )
                files = self._files(scan, None if "" in rels else set(named))
            by_name = choice is not None and "" not in rels
            plans.append(
                _SessionPlan(scan.ref, session_id_of(scan.ref), scan, checked, files, by_name)
            )
        if choice is not None:
            count = sum(len(plan.files) for plan in plans)
            versions = iter(versions_for(count, choice.versions))
            for plan in plans:
                plan.files = [
                    FileRequest(
                        f.rel_path,
                        f.md5
                        if choice.max_md5_size is None or f.size < choice.max_md5_size
                        else None,
                        f.size,
                        next(versions),
                    )
                    for f in plan.files
                ]
        return plans

    def _files(self, scan: SessionScan, only: set[str] | None) -> list[FileRequest]:
        """Files to register: new or changed ones, and known ones not registered yet; or the
        named ones, each of which must be registrable."""
        session_id = session_id_of(scan.ref)
        found: dict[str, FileRequest] = {}
        refused: dict[str, str] = {}
        for rel, known in self.ledger.known_files(session_id).items():
            if only is not None or known.awaiting_registration:
                if known.state == "discovered" and known.md5:
                    found[rel] = FileRequest(rel, known.md5, known.size or 0)
                elif known.reason:
                    refused[rel] = known.reason
        for observation in scan.files:
            if isinstance(observation, Observed):
                found[observation.rel_path] = FileRequest(
                    observation.rel_path, observation.md5, observation.size
                )
            else:
                found.pop(observation.rel_path, None)
                refused[observation.rel_path] = observation.reason
        if only is None:
            return [found[rel] for rel in sorted(found)]
        for rel in sorted(only - set(found)):
            why = refused.get(rel, "no such file in the session folder")
            raise InvalidFileOptions(f"{scan.ref.key}/{rel} cannot be registered: {why}")
        return [found[rel] for rel in sorted(only)]

    def dry_run(
        self,
        paths: Sequence[Path],
        fields: dict[str, Any] | None,
        choice: FileChoice | None,
    ) -> list[dict[str, Any]]:
        """The exact requests a registration would send, recording and sending nothing.

        Session creation is shown with its body; an update shows the fields it would change
        (the rest is read from Alyx when it is performed)."""
        requests: list[dict[str, Any]] = []
        for plan in self._plan(paths, fields, choice):
            key = plan.ref.key
            session = self.ledger.find_session(plan.ref)
            if plan.fields is not None:
                if session is None or session.eid is None:
                    body = create_body(plan.ref, plan.fields, self.user)
                    requests.append({"session": key, "request": "POST /sessions", "body": body})
                elif plan.fields:
                    requests.append(
                        {
                            "session": key,
                            "request": f"PUT /sessions/{session.eid}",
                            "body": {"changes": plan.fields},
                        }
                    )
            if choice is not None and plan.files:
                body = register_file_body(plan.ref, plan.files, choice.options)
                requests.append({"session": key, "request": "POST /register-file", "body": body})
        return requests
