"""Asking for registrations: what registering these paths means (sessions, files, fields, versions),
checked whole before anything is recorded, then recorded in one transaction; or, for a dry run,
the exact requests it would send.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from ..domain.alf import SessionRef
from ..domain.dataset import Dataset
from ..domain.errors import InvalidALFPath
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
from ..projections.words import plural
from .filesystem.scan import observe, session_folder
from .filesystem.user_dirs import expand_user
from .filesystem.walk import split_session_path
from .registration_core import RegistrationCore, no_progress


@dataclass(frozen=True)
class FileChoice:
    """How files are registered: ONE's register_files keywords, checked."""

    options: FileOptions
    versions: str | Sequence[str | None] | None = None
    max_md5_size: int | None = None
    leave_out: bool = False
    """A named file that cannot be registered (no dataset type, unknown extension, bad name, not
    in a session folder) is left out with its reason, as ONE leaves it out, and the others go
    on; otherwise (the command line) the whole request is refused before anything is recorded."""


@dataclass(frozen=True)
class Requested:
    """What a registration request recorded: its sessions, and its files in input order."""

    session_ids: set[UUID]
    dataset_ids: list[UUID]
    done_elsewhere: list[SyncResult] = field(default_factory=list)
    """Work another run did between this request's plan and its save: not asked again."""
    inputs: list[tuple[UUID, str] | None] = field(default_factory=list)
    """Per path given, in order: (its session's id, its path in the session, '' for a session
    folder), or None for a path left out."""
    left_out: dict[int, str] = field(default_factory=dict)
    """Position of each path left out -> why it cannot be registered."""


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
    inputs: list[tuple[int, str]] = field(default_factory=list)
    """(position in the paths given, path in the session) of each path naming this session."""


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
        files) before anything is recorded, and files are hashed once. Stopped by Ctrl-C while
        files are hashed, it records what was read of the sessions it finished (as `scan`
        would), so a re-run hashes only the rest; the registrations are asked by a whole run.
        """
        read: list[SessionScan] = []
        try:
            plans, left_out = self._plan(paths, fields, choice, read.append)
        except KeyboardInterrupt:
            if read:
                self.ledger.record_scans(read)
            raise
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
        inputs: list[tuple[UUID, str] | None] = [None] * len(paths)
        for plan in plans:
            for index, rel in plan.inputs:
                if index not in left_out:
                    inputs[index] = (plan.session_id, rel)
        return Requested(
            session_ids={plan.session_id for plan in plans},
            dataset_ids=[dataset_id for dataset_id, _ in datasets],
            done_elsewhere=self._done_elsewhere(elsewhere),
            inputs=inputs,
            left_out=left_out,
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
                key,
                f"register {plural(count, 'file')}" if count else "register session",
                "done",
                done,
            )
            for key, (count, done) in by_session.items()
        ]

    def _asks_session(self, plan: _SessionPlan) -> bool:
        """A session already registered is asked again only when fields were given (an update)."""
        session = self.ledger.find_session(plan.ref)
        new = session is None or session.eid is None
        if not new and not plan.fields:
            return False
        given = plan.fields or {}
        sent = given if session is None else session.fields_to_send(given)
        if new and not sent.get("start_time"):
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
        read: Callable[[SessionScan], None] = lambda found: None,
    ) -> tuple[list[_SessionPlan], dict[int, str]]:
        """What registering these paths means, checked, with nothing recorded yet; and the
        positions of the paths left out (only with `choice.leave_out`), with why. `read` gets
        each session's scan as soon as all its files are read."""
        leave_out = choice is not None and choice.leave_out
        left_out: dict[int, str] = {}
        per_session: dict[Path, list[tuple[int, str]]] = {}
        for index, path in enumerate(paths):
            try:
                folder, rel = split_session_path(expand_user(path).absolute())
                if leave_out:
                    session_folder(Path(folder), self.scan_options)
            except InvalidALFPath as error:
                if not leave_out:
                    raise
                left_out[index] = str(error)
                continue
            per_session.setdefault(Path(folder), []).append((index, rel))
        plans: list[_SessionPlan] = []
        scans = observe(self.ledger, list(per_session), self.scan_options, no_progress, read)
        for scan, inputs in zip(scans, per_session.values(), strict=True):
            checked = None if fields is None else check_fields(scan.ref, fields)
            rels = [rel for _, rel in inputs]
            files: list[FileRequest] = []
            if choice is not None:
                named = [rel for rel in rels if rel]
                twice = sorted({rel for rel in named if named.count(rel) > 1})
                if twice:
                    files_ = "file" if len(twice) == 1 else "files"
                    raise InvalidFileOptions(
                        f"{files_} given twice: {', '.join(twice)}; give each once"
                    )
                only = None if "" in rels else named
                files, refused = self._files(scan, only)
                for index, rel in inputs:
                    if rel in refused:
                        if not leave_out:
                            raise InvalidFileOptions(
                                f"{scan.ref.key}/{rel} cannot be registered: {refused[rel]}"
                            )
                        left_out[index] = (
                            f"{scan.ref.key}/{rel} cannot be registered: {refused[rel]}"
                        )
            by_name = choice is not None and "" not in rels
            plans.append(
                _SessionPlan(
                    scan.ref, session_id_of(scan.ref), scan, checked, files, by_name, inputs
                )
            )
        if choice is not None:
            _choose_versions_and_hashes(plans, choice, len(paths))
        return plans, left_out

    def _files(
        self, scan: SessionScan, only: list[str] | None
    ) -> tuple[list[FileRequest], dict[str, str]]:
        """Files to register: new or changed ones, and known ones not registered yet (sorted);
        or the named ones that are registrable, in the order named. Also the named files that
        cannot be registered, with why."""
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
            return [found[rel] for rel in sorted(found)], {}
        missing = {
            rel: refused.get(rel, "no such file in the session folder")
            for rel in only
            if rel not in found
        }
        return [found[rel] for rel in only if rel in found], missing

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
        for plan in self._plan(paths, fields, choice)[0]:
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


def _choose_versions_and_hashes(plans: list[_SessionPlan], choice: FileChoice, count: int) -> None:
    """Each file's version and hash as sent. Versions: one for all; or, when every path given
    names a file, one per path by position (as a rig script lists them); or, when a session
    folder is given, one per file registered, in the order sent (the command line's
    --versions). A hash is left out for a file of `max_md5_size` bytes or more, as ONE does."""
    by_path = all(rel for plan in plans for _, rel in plan.inputs)
    per_file = sum(len(plan.files) for plan in plans)
    versions = versions_for(count if by_path else per_file, choice.versions)
    in_order = iter(versions)
    for plan in plans:
        version_of = {rel: versions[index] for index, rel in plan.inputs} if by_path else {}
        plan.files = [
            FileRequest(
                f.rel_path,
                f.md5 if choice.max_md5_size is None or f.size < choice.max_md5_size else None,
                f.size,
                version_of[f.rel_path] if by_path else next(in_order),
            )
            for f in plan.files
        ]
