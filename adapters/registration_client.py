"""`RegistrationClient` with ONE-api 3.6.1's class and method names, recorded in the ledger.

A rig script switches by changing one import:

    from labledger import RegistrationClient  # was: from one.registration import ...

Every call records its intents before anything is sent and performs them at once when Alyx is
configured and reachable; otherwise the work is queued and `labledger sync` finishes it. Where ONE
returns server records, this returns the records Alyx sent (kept in the ledger), placed as ONE
places them, and None for work that is queued. Where Alyx refuses what a call asked, it raises,
as ONE does. ONE's quirks are fixed as listed in the README (bad paths and values raise one-line
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
from ..domain.errors import LabledgerError, WorkRefused
from ..domain.file_registration import FileOptions
from ..domain.ledger import Ledger
from ..domain.measurements import four_significant, local_time
from ..domain.outcomes import SyncResult
from ..domain.subject import Asked, Subject
from .alyx.command_run import one_run
from .alyx.sessions import eid_of
from .client_records import dataset_record, posted_record, session_record
from .database.event_store import open_ledger
from .identity import entered
from .one_params import settings_for_one
from .one_surface import OneSurface, session_files_only
from .registration import FileChoice, Registrar, repeat_notice
from .registration_requests import Requested
from .settings import Settings, load_settings

Method = TypeVar("Method", bound=Callable[..., Any])


def _entry_point(method: Method) -> Method:
    """Each public call establishes who acts, on which host, with which labledger (unless the
    caller already did), and carries it into the threads it starts: a plain script needs no
    set-up before calling. `last_results` starts empty, so after a call that raised it never
    shows an earlier call's work."""

    @functools.wraps(method)
    def call(self: RegistrationClient, *args: Any, **kwargs: Any) -> Any:
        self.last_results = []
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


class RegistrationClient(OneSurface):
    """Register sessions, files, weighings and water on Alyx, as ONE's client does, via the ledger.

    The server, user and ledger come from labledger's settings (file, LABLEDGER_* variables) or
    `settings`. A ONE instance given as `one` lends its Alyx address and user only when those
    settings name no server (with a warning); ONE's token and ~/.one are never read.

    Return values are ONE's, from the records Alyx sent: aligned with the paths given, None for a
    path that cannot be registered and for work that is queued (no server, server down, waiting
    for the operator); `last_results` says, line by line, what was done, queued or left out.
    """

    def __init__(
        self,
        one: object = None,
        settings: Settings | None = None,
        ledger: Ledger | None = None,
    ) -> None:
        self.warnings: list[str] = []
        self.settings = settings_for_one(settings or load_settings(), one, self.warnings.append)
        self.ledger = ledger or open_ledger(self.settings)
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
    ) -> tuple[Path, UUID | None]:
        """Make the next numbered folder; register the session unless `register` is False.

        Without `start_time`, a session of today starts now (ONE: at midnight) and one of another
        day at its date's midnight. Every check runs before the folder is made, so a refused
        call leaves nothing behind. Returns (folder, eid) as ONE does; eid is None when not
        registered or queued."""
        root = Path(session_root) if session_root is not None else None
        if root is None:
            raise LabledgerError("session_root is required: labledger has no ONE cache folder")
        day = _day(date)
        fields = kwargs if register else None
        folder, session_id = self._registrar.new_session(subject, root, day, fields)
        if not register:
            return folder, None
        self._perform(frozenset({session_id}))
        self._raise_refused("register session")
        record = session_record(self.ledger, session_id)
        return folder, None if record is None else UUID(eid_of(record))

    @_entry_point
    def register_session(
        self,
        ses_path: str | Path,
        users: str | list[str] | None = None,
        file_list: bool | list[str | Path] = True,
        **kwargs: Any,
    ) -> tuple[dict[str, Any] | None, list[dict[str, Any] | None] | None]:
        """Create or update the session (only the given fields change), then its files.

        Returns ONE's (session record, file records): with `file_list=True` a record for every
        registrable file of the session (only those not registered as they are now are sent),
        with a list a record per path given (None for one that cannot be registered)."""
        path = Path(ses_path)
        fields = dict(kwargs, users=[users] if isinstance(users, str) else users)
        (session_id,) = self._registrar.request([path], fields, None).session_ids
        requested = None
        paths = [path] if file_list is True or not file_list else _paths(file_list)
        if file_list:
            choice = FileChoice(FileOptions(created_by=self._registrar.user), leave_out=True)
            requested = self._registrar.request(paths, None, choice)
        self._perform(frozenset({session_id} | (requested.session_ids if requested else set())))
        self._raise_refused("register session")
        session = session_record(self.ledger, session_id)
        if requested is None:
            return session, None
        self._report_left_out(requested, paths)
        if file_list is True:
            found = self._registrar.registrable(session_id)  # scanned by the request above
            records = [dataset_record(self.ledger, dataset.id) for dataset in found]
        else:
            records = self._records(requested)
        if not any(records):
            self._raise_refused("register files")
        if session is not None and records:
            session["data_dataset_session_related"] = records
        return session, records

    @_entry_point
    def create_sessions(
        self,
        root_data_folder: str | Path,
        glob_pattern: str = "**/create_me.flag",
        register_files: bool = False,
        dry: bool = False,
    ) -> tuple[list[Path], list[dict[str, Any] | None]]:
        """Register the folder of every flag file; a flag is removed once its session is on Alyx.
        Returns ONE's (folders, session records). Unlike ONE, one failing session does not stop
        the others (its record is None; `warnings` says why)."""
        flags = sorted(Path(root_data_folder).glob(glob_pattern))
        folders = [flag.parent for flag in flags]
        if dry:
            return folders, [None] * len(folders)
        records: list[dict[str, Any] | None] = []
        results: list[SyncResult] = []
        for flag in flags:
            try:
                session, _ = self.register_session(flag.parent, file_list=register_files)
            except LabledgerError as error:
                self.warnings.append(f"{flag.parent}: {error}")
                records.append(None)
                continue
            finally:
                results.extend(self.last_results)
            if session is None:
                why = "; ".join(r.detail for r in self.last_results if r.outcome != "done")
                self.warnings.append(f"{flag.parent}: not on Alyx yet (flag kept): {why}")
            self._registrar.remove_flag_if_registered(flag)
            records.append(session)
        self.last_results = results
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
        *,
        refuse_protected: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Register files (grouped per session, one POST each); returns Alyx's records aligned with
        the input, None for a file that cannot be registered or whose registration is queued (a
        single record for a single path); with `dry`, the body of each session's request.

        `refuse_protected=True` (not in ONE) refuses a file that Alyx protects instead of moving
        it into a new revision folder, as the command line's --refuse-protected."""
        session_files_only(kwargs.pop("content_type", "session"))
        single = isinstance(file_list, str | Path)
        paths = _paths(file_list)
        choice = FileChoice(
            FileOptions(
                created_by=created_by or self._registrar.user,
                repository=repository,
                exists=exists,
                server_only=server_only,
                default=default,
                refuse_protected=refuse_protected,
                extra=dict(kwargs),
            ),
            versions,
            max_md5_size,
            leave_out=True,
        )
        if dry:
            requests = self._registrar.dry_run(paths, None, choice)
            bodies = [r["body"] for r in requests if r["request"] == "POST /register-file"]
            return (bodies[0] if bodies else None) if single else bodies
        requested = self._registrar.request(paths, None, choice)
        self._perform(frozenset(requested.session_ids))
        self._report_left_out(requested, paths)
        records = self._records(requested)
        if not any(records):
            self._raise_refused("register files")
        return records[0] if single else records

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
        self._note_repeat(subject, f"weighing ({four_significant(weight):g} g)", asked)
        return self._posted(subject, asked.operation_id)

    @_entry_point
    def register_water_administration(
        self, subject: str, volume: float, *, again: bool = False, **kwargs: Any
    ) -> dict[str, Any] | None:
        """Post a water administration once (mL); unknown keywords are refused (ONE ignores
        them). None when queued. A re-run and `again` as for `register_weight`; a
        `session` not yet on Alyx makes the record wait for it."""
        unknown = sorted(set(kwargs) - WATER_KEYWORDS)
        if unknown:
            keywords = "keyword" if len(unknown) == 1 else "keywords"
            raise LabledgerError(
                f"unknown water {keywords} {', '.join(unknown)}; "
                f"known: {', '.join(sorted(WATER_KEYWORDS | {'again'}))}"
            )
        asked = self._registrar.request_water(subject, volume, again=again, **kwargs)
        self._note_repeat(subject, f"water administration ({four_significant(volume):g} mL)", asked)
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
        record = posted_record(subject, operation)
        if record is None and operation in subject.refused:
            # this call's own record (others of the subject queued earlier are performed too)
            weighing = subject.closed_intents[operation] == "WeighingRequested"
            what = "weighing" if weighing else "water administration"
            raise WorkRefused(f"{nickname}: {what} refused: {subject.refused[operation]}")
        return record

    def _raise_refused(self, *actions: str) -> None:
        """Raise when this call's work was refused for good (not when it is queued or waits for
        the operator: that returns None, and `last_results` says why)."""
        refused = [
            f"{r.target}: {r.action} refused: {r.detail}"
            for r in self.last_results
            if r.outcome == "failed" and r.action.startswith(actions)
        ]
        if refused:
            raise WorkRefused("; ".join(refused))

    def _subject_id(self, nickname: str) -> UUID:
        return Subject.create_id(self.settings.lab or "", nickname)

    def _records(self, requested: Requested) -> list[dict[str, Any] | None]:
        """Alyx's record for each path given, in order (None for a session folder given)."""
        return [
            None
            if place is None or not place[1]
            else dataset_record(self.ledger, Dataset.create_id(*place))
            for place in requested.inputs
        ]

    def _report_left_out(self, requested: Requested, paths: Sequence[Path]) -> None:
        """One line in `last_results` (and `warnings`) per path that cannot be registered."""
        for index in sorted(requested.left_out):
            reason = requested.left_out[index]
            self.warnings.append(reason)
            self.last_results.append(SyncResult(str(paths[index]), "left out", "failed", reason))
