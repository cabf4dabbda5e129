"""`RegistrationClient` with ONE-api 3.6.1's class and method names, recorded in the ledger.

A rig script switches by changing one import:

    from labledger import RegistrationClient  # was: from one.registration import ...

Every call records its intents before anything is sent and performs them at once when Alyx is
configured and reachable; otherwise the work is queued and `labledger sync` finishes it. Where ONE
returns server records, this returns them when the work was performed now, and None for work that
is queued. ONE's quirks are fixed as listed in the README (bad paths and values raise one-line
errors instead of being sent or skipped silently).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast
from uuid import UUID

from ..domain.dataset import Dataset
from ..domain.errors import LabledgerError
from ..domain.file_registration import FileOptions
from ..domain.ledger import Ledger
from ..domain.measurements import local_time
from ..domain.outcomes import SyncResult
from ..domain.subject import Asked, Subject
from .alyx.command_run import one_run
from .database.event_store import open_ledger
from .identity import entered
from .registration import FileChoice, Registrar, repeat_notice
from .settings import Settings, load_settings

Method = TypeVar("Method", bound=Callable[..., Any])


def _entry_point(method: Method) -> Method:
    """Each public call establishes who acts, on which host, with which labledger (unless the
    caller already did), and carries it into the threads it starts: a plain script needs no
    set-up before calling."""

    @functools.wraps(method)
    def call(self: RegistrationClient, *args: Any, **kwargs: Any) -> Any:
        with entered(self.settings.alyx_user or self.settings.alyx.username), one_run():
            return method(self, *args, **kwargs)

    return cast(Method, call)


WATER_KEYWORDS = frozenset({"water_type", "adlib", "date_time", "session", "user"})


def _day(date: str | dt.date | None) -> dt.date | None:
    """ONE's `date`: a date, or text starting with YYYY-MM-DD (a time after it is ignored)."""
    if date is None or (isinstance(date, dt.date) and not isinstance(date, dt.datetime)):
        return date
    try:
        return dt.date.fromisoformat(str(date)[:10])
    except ValueError:
        raise LabledgerError(f"date {date!r} is not a date; write YYYY-MM-DD") from None


def _paths(file_list: str | Path | Sequence[str | Path]) -> list[Path]:
    if isinstance(file_list, str | Path):
        return [Path(file_list)]
    return [Path(f) for f in file_list]


class RegistrationClient:
    """Register sessions, files, weighings and water on Alyx, as ONE's client does, via the ledger.

    `one` is accepted so `RegistrationClient(one)` keeps working, and ignored: the server, user
    and ledger come from labledger's settings (file, LABLEDGER_* variables) or `settings`.
    """

    def __init__(
        self,
        one: object = None,
        settings: Settings | None = None,
        ledger: Ledger | None = None,
    ) -> None:
        self.settings = settings or load_settings()
        self.ledger = ledger or open_ledger(self.settings)
        self.warnings: list[str] = []
        self._registrar = Registrar(self.settings, self.ledger, self.warnings.append)
        self.last_results: list[SyncResult] = []
        """What the last call performed or queued, one line per piece of work."""

    # -- sessions -------------------------------------------------------------------------------

    @_entry_point
    def create_new_session(
        self,
        subject: str,
        session_root: str | Path | None = None,
        date: str | dt.date | None = None,
        register: bool = True,
        **kwargs: Any,
    ) -> tuple[Path, str | None]:
        """Make the next numbered folder; register the session unless `register` is False.

        Without `start_time`, a session of today starts now and one of another day at its date's
        midnight, as ONE does. Every check runs before the folder is made, so a refused call
        leaves nothing behind. Returns (folder, eid); eid is None when not registered or queued."""
        root = Path(session_root) if session_root is not None else None
        if root is None:
            raise LabledgerError("session_root is required: labledger has no ONE cache folder")
        day = _day(date)
        fields = kwargs if register else None
        folder, session_id = self._registrar.new_session(subject, root, day, fields)
        if not register:
            return folder, None
        self._perform(frozenset({session_id}))
        return folder, self.ledger.session(session_id).eid

    @_entry_point
    def register_session(
        self,
        ses_path: str | Path,
        users: str | list[str] | None = None,
        file_list: bool | list[str | Path] = True,
        **kwargs: Any,
    ) -> tuple[dict[str, Any] | None, list[dict[str, Any] | None] | None]:
        """Create or update the session (only the given fields change), then its files."""
        path = Path(ses_path)
        fields = dict(kwargs, users=[users] if isinstance(users, str) else users)
        choice = FileChoice(FileOptions(created_by=self._registrar.user)) if file_list else None
        paths = [path] if file_list is True or not file_list else _paths(file_list)
        requested = self._registrar.request(paths, fields, choice)
        (session_id,) = requested.session_ids
        datasets = requested.dataset_ids if file_list else None
        self._perform(frozenset({session_id}))
        session = self.ledger.session(session_id)
        described = None if session.eid is None else {"id": session.eid, "url": session.eid}
        return described, None if datasets is None else [self._record(d) for d in datasets]

    @_entry_point
    def create_sessions(
        self,
        root_data_folder: str | Path,
        glob_pattern: str = "**/create_me.flag",
        register_files: bool = False,
        dry: bool = False,
    ) -> tuple[list[Path], list[Any]]:
        """Register the folder of every flag file; a flag is removed once its session is on Alyx.
        Unlike ONE, one failing session does not stop the others."""
        flags = sorted(Path(root_data_folder).glob(glob_pattern))
        folders = [flag.parent for flag in flags]
        if dry:
            return folders, [None] * len(folders)
        records: list[Any] = []
        for flag in flags:
            try:
                _, files = self.register_session(flag.parent, file_list=register_files)
            except LabledgerError as error:
                self.warnings.append(f"{flag.parent}: {error}")
                records.append(None)
                continue
            self._registrar.remove_flag_if_registered(flag)
            records.append(files)
        return folders, records

    # -- files ----------------------------------------------------------------------------------

    @_entry_point
    def register_files(
        self,
        file_list: str | Path | Sequence[str | Path],
        versions: str | Sequence[str | None] | None = None,
        default: bool = True,
        created_by: str | None = None,
        server_only: bool = False,
        repository: str | None = None,
        exists: bool = True,
        dry: bool = False,
        max_md5_size: int | None = None,
        **kwargs: Any,
    ) -> Any:
        """Register files (grouped per session, one POST each); returns the records aligned with
        the input (None for queued work), or the request bodies when `dry`."""
        single = isinstance(file_list, str | Path)
        paths = _paths(file_list)
        choice = FileChoice(
            FileOptions(
                created_by=created_by or self._registrar.user,
                repository=repository,
                exists=exists,
                server_only=server_only,
                default=default,
                extra=dict(kwargs),
            ),
            versions,
            max_md5_size,
        )
        if dry:
            return [r["body"] for r in self._registrar.dry_run(paths, None, choice)]
        requested = self._registrar.request(paths, None, choice)
        self._perform(frozenset(requested.session_ids))
        records = [self._record(d) for d in requested.dataset_ids]
        return records[0] if single else records

    @_entry_point
    def check_protected_files(
        self, file_list: str | Path | Sequence[str | Path], created_by: str | None = None
    ) -> list[dict[str, Any]]:
        """ONE's GET /check-protected, one per session; the replies as Alyx gives them."""
        answers = self._registrar.check_protected(_paths(file_list), created_by)
        return [reply for _, _, reply in answers]

    @_entry_point
    def find_files(self, session_path: str | Path) -> Iterator[Path]:
        """The files of a session that would be registered (after a scan)."""
        folder = Path(session_path)
        found = self._registrar.files_by_session([folder]).values()  # scans now, in this call
        return iter([folder / dataset.rel_path for datasets in found for dataset in datasets])

    # -- subjects -------------------------------------------------------------------------------

    @_entry_point
    def register_weight(
        self,
        subject: str,
        weight: float,
        date_time: str | dt.datetime | None = None,
        user: str | None = None,
        *,
        again: bool = False,
    ) -> dict[str, Any] | None:
        """Post a weighing once (grams, 4 significant figures); None when queued.

        Without `date_time`, the same weight of the subject recorded in the last 10 minutes is
        taken to be this one (a re-run after a timeout or crash): nothing new is recorded, a
        warning says so and its record is returned. `again=True` records a second one."""
        asked = self._registrar.request_weighing(subject, weight, date_time, user, again)
        self._note_repeat(subject, f"weighing ({weight:g} g)", asked)
        return self._posted(subject, asked.operation_id)

    @_entry_point
    def register_water_administration(
        self, subject: str, volume: float, *, again: bool = False, **kwargs: Any
    ) -> dict[str, Any] | None:
        """Post a water administration once (mL); unknown keywords are refused (ONE ignores
        them, quirk C-16). None when queued. A re-run and `again` as for `register_weight`; a
        `session` not yet on Alyx makes the record wait for it."""
        unknown = sorted(set(kwargs) - WATER_KEYWORDS)
        if unknown:
            raise LabledgerError(
                f"unknown water keyword(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(WATER_KEYWORDS | {'again'}))}"
            )
        asked = self._registrar.request_water(subject, volume, again=again, **kwargs)
        self._note_repeat(subject, f"water administration ({volume:g} mL)", asked)
        return self._posted(subject, asked.operation_id)

    def _note_repeat(self, subject: str, what: str, asked: Asked) -> None:
        notice = repeat_notice(subject, what, asked, "again=True")
        if notice is not None:
            self.warnings.append(notice)

    @staticmethod
    def ensure_ISO8601(date: Any) -> str:
        """ONE's date rule: None -> now, a date -> midnight, ISO text parsed."""
        return local_time(date, dt.datetime.now())

    # -- helpers --------------------------------------------------------------------------------

    def _perform(self, session_ids: frozenset[UUID]) -> None:
        self.last_results = self._registrar.perform(session_ids)

    def _posted(self, nickname: str, operation: str) -> dict[str, Any] | None:
        self.last_results = self._registrar.perform_records()
        subject: Subject = self.ledger.repository.get(self._subject_id(nickname))
        if operation in subject.open_intents:  # queued
            return None
        for entry in reversed(self.ledger.history(self._subject_id(nickname))):
            if entry.operation_id == operation and "url" in entry.details:
                return {"url": entry.details["url"], "subject": nickname}
        return None

    def _subject_id(self, nickname: str) -> UUID:
        return Subject.create_id(self.settings.lab or "", nickname)

    def _record(self, dataset_id: UUID) -> dict[str, Any] | None:
        """What Alyx answered for a file registered now, as the ledger recorded it."""
        dataset: Dataset = self.ledger.dataset(dataset_id)
        if dataset.state == "moved":
            for entry in self.ledger.history(dataset_id):
                if entry.event == "Dataset.RegistrationRelocated":
                    destination = entry.details["destination"]
                    return self._record(Dataset.create_id(dataset.session_id, destination))
        for entry in reversed(self.ledger.history(dataset_id)):
            if entry.event == "Dataset.Registered":
                return {
                    "id": entry.details["alyx_id"],
                    "name": dataset.name,
                    "collection": dataset.collection,
                    "revision": entry.details["revision"],
                    "default": entry.details["default"],
                    "file_records": entry.details["file_records"],
                    "relative_path": dataset.rel_path,
                }
            if entry.event in ("Dataset.RegistrationRequested", "Dataset.Discovered"):
                return None
        return None
