"""The registration use cases: record what the operator asks, then perform it if Alyx is there.

Every command first records its intents (so nothing asked is ever lost, online or not), then runs
the same executors as `labledger sync` on just that work. With no server configured, or the server
down, the intents stay queued and `labledger sync` performs them later, in order, to the same end
state. The CLI and the RegistrationClient-compatible API both call this module.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from uuid import UUID

from ..domain.alf import SessionRef, parse_session_path, resolve_lab
from ..domain.dataset import Dataset
from ..domain.errors import LabledgerError
from ..domain.file_registration import (
    FileOptions,
    FileRequest,
    InvalidFileOptions,
    versions_for,
)
from ..domain.file_registration import body as register_file_body
from ..domain.ledger import Ledger, SessionNumberTaken, session_id_of
from ..domain.measurements import (
    WATER_TYPES,
    local_time,
    water_millilitres,
    weight_grams,
)
from ..domain.numbering import next_number
from ..domain.observations import Observed, SessionScan
from ..domain.outcomes import SyncResult
from ..domain.session import Session
from ..domain.session_fields import (
    check_fields,
    create_body,
    midnight,
    new_session_fields,
)
from ..domain.session_link import link_to
from ..domain.subject import Asked
from .alyx.errors import AlyxError
from .alyx.sessions import Warn, held
from .database.views import Views, open_views
from .executors import (
    alyx_client,
    alyx_username,
    build_executors,
    refresh_reference,
    scan_options,
    session_ids_of,
)
from .filesystem.scan import ScanOptions, observe, session_at
from .filesystem.scan import scan as scan_sessions
from .filesystem.walk import split_session_path
from .settings import Settings
from .sync import perform_pending


@dataclass(frozen=True)
class FileChoice:
    """How files are registered: ONE's register_files keywords, checked."""

    options: FileOptions
    versions: str | Sequence[str | None] | None = None
    max_md5_size: int | None = None


def _no_progress(files: int, total: int) -> Any:
    return lambda done: None


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


class Registrar:
    """Records registration intents in the ledger and performs them through the executors."""

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

    # -- asking ---------------------------------------------------------------------------------

    def session_of(self, path: Path) -> tuple[SessionRef, Path]:
        ref, folder, _ = session_at(path, self.scan_options)
        return ref, folder

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

    def _scan(self, folders: Sequence[Path]) -> None:
        scan_sessions(self.ledger, folders, self.scan_options, _no_progress)

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

    def check_protected(
        self, paths: Sequence[Path], created_by: str | None = None
    ) -> list[tuple[Session, list[Dataset], dict[str, Any]]]:
        """ONE's GET /check-protected, one per session: (session, its files, Alyx's reply)."""
        answers: list[tuple[Session, list[Dataset], dict[str, Any]]] = []
        with alyx_client(self.settings) as client:
            if client is None:
                raise LabledgerError(
                    "checking protection asks Alyx, and no server is configured; set alyx.base_url"
                )
            for session_id, datasets in self.files_by_session(paths).items():
                session = self.ledger.session(session_id)
                body = {
                    "created_by": created_by or self.user,
                    "path": session.ref.alyx_path,
                    "filenames": [d.rel_path for d in datasets],
                }
                answers.append((session, datasets, client.get_json_body("/check-protected", body)))
        return answers

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
            rels = [rel] if rel else sorted(session.files)
            for name in rels:
                dataset = self.ledger.dataset(Dataset.create_id(session.id, name))
                if dataset.state not in ("rejected", "moved"):
                    per_session.setdefault(session.id, []).append(dataset)
        return per_session

    # -- plans and dry runs ----------------------------------------------------------------------

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
        scans = observe(self.ledger, list(per_session), self.scan_options, _no_progress)
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

    # -- new sessions ----------------------------------------------------------------------------

    def new_session(
        self,
        subject: str,
        root: Path,
        date: dt.date | None,
        fields: Mapping[str, Any] | None,
        now: dt.datetime | None = None,
    ) -> tuple[Path, UUID]:
        """Make the next numbered folder (C-4) and, unless `fields` is None, record the intent to
        register it with those fields (the start-time rule of `new_session_fields`).

        Every check comes first: the subject and lab of the path, the fields and the start time,
        the subject on Alyx when it answers. A refused call makes no folder and records nothing,
        so running it again takes the same number (ONE made the folder first, C-6). "Today" and
        "now" are read once, so a call at midnight cannot mix two days.
        """
        moment = now or dt.datetime.now()
        day = date or moment.date()
        day_folder = root.expanduser().absolute() / subject / day.isoformat()
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
                )
        except AlyxError as error:
            if not error.keeps_pending:
                raise
            if not error.retryable:  # a login or setting to fix: the session need not wait
                self.warn(f"{error}; numbering from this disk and the ledger")
            return [], False
        return [int(hit["number"]) for hit in hits if str(hit.get("number", "")).isdigit()], True

    # -- performing -------------------------------------------------------------------------------

    def perform(self, session_ids: frozenset[UUID] | None = None) -> list[SyncResult]:
        """Perform the pending work (of these sessions, or all): what `labledger sync` does."""
        with build_executors(self.settings, self.views, self.warn) as executors:
            return perform_pending(self.views, executors, session_ids)

    def perform_records(self) -> list[SyncResult]:
        """Perform pending weighings and water records (no session work)."""
        with build_executors(self.settings, self.views, self.warn) as executors:
            return perform_pending(self.views, executors, subjects_only=True)


def repeat_notice(subject: str, what: str, asked: Asked, again: str = "--again") -> str | None:
    """The line that says an ask was taken to be a measurement already recorded, or None.

    `what` names the measurement ("weighing of 25.3 g"); `again` how to ask for a deliberate
    second one in the caller's words ("--again", "again=True")."""
    if asked.repeat_of is None:
        return None
    return (
        f"{subject}: the same {what} was already recorded at {asked.repeat_of}; nothing new "
        f"recorded ({again} records another)"
    )
