"""Session folders on disk: finding a path's session folder and walking the files in it.

A walk reports what it cannot register (links, hidden files, anything not a regular file) beside
what it found, so a scan can record each refusal instead of skipping it silently.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path, PurePath

from ...domain.errors import InvalidALFPath, UnreadableFile

_NUMBER = re.compile(r"\d+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class FoundFile:
    """A regular file inside a session folder."""

    path: Path
    rel_path: str
    """POSIX path relative to the session folder."""
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Oddity:
    """Something in a session folder that is not a regular file a scan can read."""

    rel_path: str
    code: str
    reason: str


def split_session_path(path: PurePath) -> tuple[PurePath, str]:
    """(session folder, file path relative to it) of a path to a session folder or a file in one.

    Like ONE, the session folder ends at the first all-digit folder whose parent looks like a
    date; unlike ONE, that folder is then parsed strictly by the caller.
    """
    parts = path.parts
    for index in range(1, len(parts)):
        if _NUMBER.fullmatch(parts[index]) and _DATE.fullmatch(parts[index - 1]):
            rest = parts[index + 1 :]
            return PurePath(*parts[: index + 1]), PurePath(*rest).as_posix() if rest else ""
    raise InvalidALFPath(
        f"{path} is not inside a session folder (…/subject/YYYY-MM-DD/NNN); "
        "give the session folder or a file in it"
    )


def walk_session(folder: Path) -> tuple[list[FoundFile], list[Oddity]]:
    """Every regular file under `folder`, sorted by relative path, and what else was there.

    Symbolic links are not followed (a link could lead out of the session folder) and are
    reported; hidden files (`.DS_Store`, editor swap files) are reported, never registered.
    """
    found: list[FoundFile] = []
    odd: list[Oddity] = []

    def unreadable(error: OSError) -> None:
        raise UnreadableFile(
            f"cannot read folder {error.filename}: {error.strerror}; "
            "fix its permissions and scan again"
        )

    for root, dirs, files in os.walk(folder, onerror=unreadable, followlinks=False):
        dirs.sort()
        for name in [*files, *(d for d in dirs if os.path.islink(os.path.join(root, d)))]:
            path = Path(root, name)
            rel_path = path.relative_to(folder).as_posix()
            try:
                info = path.lstat()
            except OSError as error:
                raise UnreadableFile(f"cannot read {path}: {error.strerror}; scan again") from error
            if stat.S_ISLNK(info.st_mode):
                odd.append(
                    Oddity(
                        rel_path,
                        "symlink",
                        f"{rel_path} is a symbolic link; "
                        "copy the file into the session folder to register it",
                    )
                )
            elif not stat.S_ISREG(info.st_mode):
                odd.append(Oddity(rel_path, "not-a-file", f"{rel_path} is not a regular file"))
            elif any(part.startswith(".") for part in rel_path.split("/")):
                odd.append(
                    Oddity(
                        rel_path,
                        "hidden",
                        f"{rel_path} is hidden (name starts with "
                        "'.'); hidden files are never registered",
                    )
                )
            else:
                found.append(FoundFile(path, rel_path, info.st_size, info.st_mtime_ns))
    found.sort(key=lambda file: file.rel_path)
    odd.sort(key=lambda oddity: oddity.rel_path)
    return found, odd
