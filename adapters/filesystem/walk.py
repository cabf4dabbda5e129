"""Session folders on disk: finding a path's session folder and walking the files in it.

A walk reports what it cannot register (links, hidden files, anything not a regular file, a name
that is not valid UTF-8) beside what it found, so a scan can record each refusal instead of
skipping it silently.

Names come from the OS as bytes; Python decodes those that are not UTF-8 with lone surrogates,
which no JSON, terminal or database encoder accepts. Such a name is reported under a printable
form (`bad\\xff.npy`) and never walked into, so nothing after the walk meets an unencodable text.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePath

from ...domain.errors import InvalidALFPath, UnreadableFile
from ...domain.printable import printable

_NUMBER = re.compile(r"\d+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class FoundFile:
    """A regular file inside a session folder."""

    location: str
    """The file's path as the walk found it (the session folder's path joined with `rel_path`)."""
    rel_path: str
    """POSIX path relative to the session folder."""
    size: int
    mtime_ns: int

    @cached_property
    def path(self) -> Path:
        """The file's path, made when first asked: a re-scan that hashes nothing makes none."""
        return Path(self.location)


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
    One `lstat` per file and none per folder (`os.scandir` knows which entries are folders), the
    relative paths built as strings: a session of 10,000 files is walked in a few hundredths of a
    second.
    """
    found: list[FoundFile] = []
    odd: list[Oddity] = []
    folders = [(os.fspath(folder), "", False)]
    while folders:
        where, prefix, in_hidden = folders.pop()
        try:
            with os.scandir(where) as listing:
                entries = list(listing)
        except OSError as error:
            raise UnreadableFile(
                f"cannot read folder {error.filename}: {error.strerror}; "
                "fix its permissions and scan again"
            ) from error
        for entry in entries:
            rel_path = prefix + entry.name
            hidden = in_hidden or entry.name.startswith(".")
            if not _encodable(entry.name):
                odd.append(_not_utf8(prefix + printable(entry.name), _is_folder(entry)))
                continue
            if _is_folder(entry):
                folders.append((entry.path, rel_path + "/", hidden))
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError as error:
                raise UnreadableFile(
                    f"cannot read {entry.path}: {error.strerror}; scan again"
                ) from error
            oddity = _oddity(rel_path, info.st_mode, hidden)
            if oddity is None:
                found.append(FoundFile(entry.path, rel_path, info.st_size, info.st_mtime_ns))
            else:
                odd.append(oddity)
    found.sort(key=lambda file: file.rel_path)
    odd.sort(key=lambda oddity: oddity.rel_path)
    return found, odd


def _encodable(name: str) -> bool:
    return printable(name) == name


def _not_utf8(shown: str, folder: bool) -> Oddity:
    what = "folder" if folder else "file"
    return Oddity(
        shown + ("/" if folder else ""),
        "not-utf8",
        f"{shown}: the {what} name is not valid UTF-8, so Alyx cannot hold it; rename the {what} "
        "(ALF names are ASCII) and scan again",
    )


def _is_folder(entry: os.DirEntry[str]) -> bool:
    """A folder (not a link to one); an entry that cannot be told is not, and its `lstat` then
    says why."""
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def _oddity(rel_path: str, mode: int, hidden: bool) -> Oddity | None:
    """Why an entry that is not a folder cannot be registered, or None for a regular file."""
    if stat.S_ISLNK(mode):
        return Oddity(
            rel_path,
            "symlink",
            f"{rel_path} is a symbolic link; copy the file into the session folder to register it",
        )
    if not stat.S_ISREG(mode):
        return Oddity(rel_path, "not-a-file", f"{rel_path} is not a regular file")
    if hidden:
        return Oddity(
            rel_path,
            "hidden",
            f"{rel_path} is hidden (name starts with '.'); hidden files are never registered",
        )
    return None
