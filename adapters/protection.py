"""Files grouped by session folder, as ONE's `prepare_files` groups them, and Alyx's protection
verdict on them (`GET /check-protected`), asked directly: no ledger, any path under a session
folder, known to the ledger or not. The Python API (`check_protected_files`, `prepare_files`) and
`labledger check-protected` both use this.

Files are classified by labledger's rules (the server's dataset types and data formats, strict ALF
names): a file labledger could not register is left out, as ONE leaves out what it cannot
register, but with a warning naming the file and the reason instead of ONE's DEBUG log line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..domain.alf import RelPath, SessionRef, parse_session_path, resolve_lab
from ..domain.dataset_types import Accepted
from ..domain.errors import InvalidALFPath, LabledgerError
from ..domain.file_registration import versions_for
from .executors import alyx_client, alyx_username
from .filesystem.scan import ScanOptions, session_folder
from .filesystem.user_dirs import expand_user
from .filesystem.walk import split_session_path, walk_session
from .settings import Settings


@dataclass
class SessionFiles:
    """The files of one session folder, in the order given, with their versions."""

    folder: Path
    """The session folder as the input spelt it (relative if the input was)."""
    ref: SessionRef
    files: list[RelPath] = field(default_factory=list)
    versions: list[str | None] = field(default_factory=list)

    @property
    def rel_paths(self) -> list[Path]:
        """The files relative to the folder, as ONE's `prepare_files` gives them."""
        return [Path(f.as_posix()) for f in self.files]


def group_files(
    paths: Sequence[Path],
    options: ScanOptions,
    versions: str | Sequence[str | None] | None = None,
    *,
    folders: bool = False,
) -> tuple[dict[Path, SessionFiles], list[str]]:
    """The registrable files of `paths` grouped by session folder (sessions and files in input
    order, one version each by `versions_for`'s rule over the input), and why each other path
    was left out (one line each, naming it).

    ONE's rule (`folders=False`): a path that is not a registrable file, a session folder
    included, is left out. The command line's (`folders=True`): a session folder stands for its
    registrable files, and a path outside a session folder is an error."""
    per_file = versions_for(len(paths), versions)
    groups: dict[Path, SessionFiles] = {}
    left_out: list[str] = []
    for path, version in zip(paths, per_file, strict=True):
        try:
            folder, ref, rel = _locate(path, options, exists=folders)
        except InvalidALFPath as error:
            if folders:
                raise
            left_out.append(str(error))
            continue
        if rel or not folders:
            verdict = options.reference.classify(rel) if rel else None
            if not isinstance(verdict, Accepted):
                left_out.append(
                    f"{path} is a session folder, not a file; give its files"
                    if verdict is None
                    else f"{path}: {verdict.reason}"
                )
                continue
            accepted = [verdict.rel_path]
        else:  # what a scan would refuse is not asked about
            verdicts = (options.reference.classify(f.rel_path) for f in walk_session(folder)[0])
            accepted = [v.rel_path for v in verdicts if isinstance(v, Accepted)]
        group = groups.setdefault(folder, SessionFiles(folder, ref))
        group.files.extend(accepted)
        group.versions.extend([version] * len(accepted))
    return {folder: group for folder, group in groups.items() if group.files}, left_out


def _locate(path: Path, options: ScanOptions, *, exists: bool) -> tuple[Path, SessionRef, str]:
    """(session folder, its lab-resolved session, file path in it or '' for the folder)."""
    if exists:  # the command line: the folder must be there, named absolutely
        folder, rel = split_session_path(expand_user(path).absolute())
        ref, found = session_folder(Path(folder), options)
        return found, ref, rel
    folder, rel = split_session_path(path)
    ref = resolve_lab(parse_session_path(folder), options.lab, options.known_labs)
    return Path(folder), ref, rel


def check_protected(
    settings: Settings,
    groups: Mapping[Path, SessionFiles],
    created_by: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> list[tuple[SessionFiles, dict[str, Any]]]:
    """ONE's `GET /check-protected`, one per session: `{created_by, path, filenames, **extra}`;
    each session's files with Alyx's reply. Alyx adds `created_by` to the session's users when
    asked this (it is not read-only); ONE sends it all the same, and so does this."""
    answers: list[tuple[SessionFiles, dict[str, Any]]] = []
    with alyx_client(settings) as client:
        if client is None:
            raise LabledgerError(
                "checking protection asks Alyx, and alyx.base_url is not set; set it (or "
                "LABLEDGER_ALYX__BASE_URL) to the lab's Alyx address"
            )
        for group in groups.values():
            body = {
                "created_by": created_by or alyx_username(settings),
                "path": group.ref.alyx_path,
                "filenames": [f.as_posix() for f in group.files],
                **(extra or {}),
            }
            answers.append((group, client.get_json_body("/check-protected", body)))
    return answers
