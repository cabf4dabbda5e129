"""ONE's RegistrationClient methods that ask Alyx directly, without the ledger: `assert_exists`,
`prepare_files` and `check_protected_files`, with ONE 3.6.1's parameters and return values.

Where labledger differs on purpose: files are classified by labledger's rules, and a path left
out is named in `client.warnings` (ONE logs it at DEBUG only); a single path that cannot be
checked raises instead of ONE's IndexError; `versions` follows `versions_for` (ONE cycles a list);
only session files are supported (`content_type='session'`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from uuid import UUID

from ..domain.errors import LabledgerError
from .alyx.client import AlyxClient
from .alyx.command_run import one_run
from .alyx.errors import AlyxError
from .executors import alyx_client
from .protection import check_protected, group_files
from .settings import Settings

if TYPE_CHECKING:
    from .registration import Registrar

Member = str | UUID | Sequence["Member"]
FileList = str | Path | Sequence[str | Path]


class MemberNotFound(LabledgerError):
    """Alyx has no such item at the endpoint asked (ONE's ALFError)."""

    def __init__(self, member: str, endpoint: str, message: str) -> None:
        super().__init__(message)
        self.member = member
        self.endpoint = endpoint


class SubjectNotFound(MemberNotFound):
    """Alyx has no subject of that nickname (ONE's AlyxSubjectNotFound)."""


def _not_found(member: str, endpoint: str) -> MemberNotFound:
    if endpoint == "subjects":
        return SubjectNotFound(
            member,
            endpoint,
            f'Alyx has no subject "{member}"; create it on Alyx, or correct the nickname',
        )
    return MemberNotFound(
        member,
        endpoint,
        f'Member "{member}" doesn\'t exist in {endpoint} on Alyx; correct the name, or create '
        "it on Alyx",
    )


def session_files_only(content_type: object) -> None:
    """labledger registers and checks the files of sessions only (ONE also of other relations)."""
    if content_type != "session":
        raise LabledgerError(
            f"content_type {content_type!r} is not supported: labledger registers and checks "
            "session files only; leave content_type out (or 'session')"
        )


def _paths(file_list: FileList) -> tuple[list[Path], bool]:
    if isinstance(file_list, str | Path):
        return [Path(file_list)], True
    return [Path(f) for f in file_list], False


class OneSurface:
    """Mixed into `RegistrationClient`: the parts of ONE's surface that ask Alyx directly."""

    settings: Settings
    warnings: list[str]
    _registrar: Registrar

    def assert_exists(self, member: Member, endpoint: str) -> Any:
        """ONE's check that an item exists: GET /<endpoint>/<member> (never cached) returns the
        record; a list of members gives the list of records. Alyx's 404 raises
        `SubjectNotFound` for 'subjects', else `MemberNotFound`; other failures the Alyx error.

        >>> client.assert_exists('algernon', 'subjects')
        >>> client.assert_exists(['test_user', 'jdoe'], 'users')
        """
        if not endpoint or not endpoint.replace("-", "").replace("_", "").isalnum():
            raise LabledgerError(
                f"endpoint {endpoint!r} is not an Alyx endpoint name; give one like 'subjects'"
            )
        with one_run(), alyx_client(self.settings) as client:
            if client is None:
                raise LabledgerError(
                    "asking Alyx needs a server, and alyx.base_url is not set; set it (or "
                    "LABLEDGER_ALYX__BASE_URL) to the lab's Alyx address"
                )
            return _read(client, member, endpoint)

    def prepare_files(
        self,
        file_list: FileList,
        versions: str | Sequence[str | None] | None = None,
        content_type: str = "session",
    ) -> tuple[dict[Path, list[Path]], dict[Path, list[str | None]], list[Path], bool]:
        """ONE's grouping of files by session folder: (files relative to each session folder,
        their versions, the input as paths, whether the input was one path). Files labledger
        cannot register are left out and named in `warnings`."""
        session_files_only(content_type)
        paths, single = _paths(file_list)
        with one_run():
            groups, left_out = group_files(paths, self._registrar.scan_options, versions)
        self.warnings.extend(f"left out: {why}" for why in left_out)
        files: dict[Path, list[Path]] = defaultdict(list)
        per_session: dict[Path, list[str | None]] = defaultdict(list)
        for folder, group in groups.items():
            files[folder] = group.rel_paths
            per_session[folder] = list(group.versions)
        return files, per_session, paths, single

    def check_protected_files(
        self, file_list: FileList, created_by: str | None = None, **kwargs: Any
    ) -> Any:
        """ONE's GET /check-protected, one per session, with `{created_by, path, filenames}`
        and `kwargs` in the body; each reply as Alyx gives it plus ONE's `shared_path` (the
        session folder) and `files` (relative paths). One dict for one path, else a list.

        Any path under a session folder can be checked, registered or not. Alyx adds
        `created_by` to the session's users when asked (as for ONE)."""
        session_files_only(kwargs.get("content_type", "session"))
        paths, single = _paths(file_list)
        with one_run():
            groups, left_out = group_files(paths, self._registrar.scan_options)
            if single and left_out:
                raise LabledgerError(f"{left_out[0]} (nothing was asked of Alyx)")
            self.warnings.extend(f"left out: {why}" for why in left_out)
            answers = check_protected(self.settings, groups, created_by, kwargs)
        records = [
            {**reply, "shared_path": group.folder, "files": group.rel_paths}
            for group, reply in answers
        ]
        return records[0] if single else records


def _read(client: AlyxClient, member: Member, endpoint: str) -> Any:
    if not isinstance(member, str | UUID):
        return [_read(client, item, endpoint) for item in member]
    name = str(member).split("/")[-1]  # ONE reads the last part of a URL
    if not name:
        raise LabledgerError(f"empty {endpoint} name given; give the name to look up")
    try:
        return client.get(f"/{endpoint}/{quote(name, safe='')}")
    except AlyxError as error:
        if error.status == 404:
            raise _not_found(str(member), endpoint) from None
        raise
