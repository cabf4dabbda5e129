"""Session folders on disk: finding a path's session folder, walking files, hashing them.

Hashing streams each file in large blocks and runs files in parallel threads: hashlib releases the
GIL while it digests a block, so threads use every core without pickling work to processes.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePath

from ...domain.errors import InvalidALFPath, UnreadableFile

BLOCK_SIZE = 1 << 20
"""Bytes read per step when hashing: large enough to keep the GIL released most of the time."""

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


def md5_of(path: Path, progress: Callable[[int], None] = lambda _: None) -> str:
    """Lower-case hex md5 of the whole file, as Alyx stores it; `progress` gets bytes read."""
    digest = hashlib.md5(usedforsecurity=False)
    try:
        with path.open("rb") as file:
            while block := file.read(BLOCK_SIZE):
                digest.update(block)
                progress(len(block))
    except OSError as error:
        raise UnreadableFile(
            f"cannot read {path}: {error.strerror}; fix its permissions and scan again"
        ) from error
    return digest.hexdigest()


def check_readable(files: Iterable[FoundFile]) -> None:
    """Fail fast, before any hashing, on a file this user cannot open."""
    for file in files:
        if not os.access(file.path, os.R_OK):
            raise UnreadableFile(
                f"cannot read {file.path}: permission denied; fix its permissions and scan again"
            )


def hash_files(
    files: list[FoundFile], workers: int, progress: Callable[[int], None] = lambda _: None
) -> dict[Path, str]:
    """md5 of each file by path, `workers` files at a time."""
    if not files:
        return {}
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        digests = pool.map(lambda file: md5_of(file.path, progress), files)
        return {file.path: digest for file, digest in zip(files, digests, strict=True)}


def write_atomically(
    path: Path, content: str | bytes, *, mode: int, staging_dir: Path | None = None
) -> None:
    """Write `content` to a new file with `mode`, made durable, then renamed over `path`.

    Readers see the old file or the new one, never half of one; the temporary file is removed if
    anything fails. It is made in `staging_dir` (default: beside `path`), which must be on the
    same file system: a watched folder (the watchdog's) then sees one finished file arrive. The
    folder of `path` is created (0700) when missing.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # The name says nothing of the target: a watcher matching "manifest" must not react to it.
    temporary = (staging_dir or path.parent) / f".labledger-{uuid.uuid4().hex}.tmp"
    data = content.encode("utf-8") if isinstance(content, str) else content
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(temporary, flags, mode)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)  # exactly `mode`, whatever the umask took away
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
