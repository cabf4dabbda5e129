"""Moving a file into its revision folder, so that doing it twice is harmless.

The move was recorded as an intent before this runs, and its outcome is recorded after, so a crash
can leave only "asked, maybe done". Performing it again then looks at both ends: the destination
with the recorded size and md5 and no source means it is already done; a destination holding other
bytes is never overwritten; neither end present means the file is lost and nothing is pretended.
Both ends must stay inside the session folder, and symbolic links are never followed out of it.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path

from ...domain.errors import LabledgerError
from .hashing import md5_of


class MoveRefused(LabledgerError):
    """The move cannot be done safely; an operator must look (nothing was changed)."""


@dataclass(frozen=True)
class MoveResult:
    done: bool
    """True if this call moved the file; False if an earlier run already had."""


def _inside(folder: Path, rel_path: str) -> Path:
    """`folder/rel_path`, refused if it leaves the folder or passes through a symbolic link."""
    if rel_path.startswith("/") or ".." in rel_path.split("/"):
        raise MoveRefused(f"{rel_path} is not a path inside the session folder {folder}")
    path = folder / rel_path
    here = folder
    for part in Path(rel_path).parts:
        here = here / part
        if here.is_symlink():
            raise MoveRefused(f"{here} is a symbolic link; labledger never moves through links")
    return path


def _same(path: Path, size: int, md5: str) -> bool:
    return path.stat().st_size == size and md5_of(path) == md5


def move_file(folder: Path, source: str, destination: str, size: int, md5: str) -> MoveResult:
    """Move `source` to `destination` (both relative to the session `folder`), idempotently."""
    src, dst = _inside(folder, source), _inside(folder, destination)
    if dst.exists():
        if not _same(dst, size, md5):
            raise MoveRefused(
                f"{dst} already holds a different file; move it aside, then run sync again"
            )
        if src.exists():
            if not _same(src, size, md5):
                raise MoveRefused(
                    f"{src} changed since it was scanned; scan the session again, then sync"
                )
            src.unlink()  # the same bytes are already at the destination
        return MoveResult(done=False)
    if not src.exists():
        raise MoveRefused(
            f"{src} is gone and {dst} does not exist: the file is not where the ledger left it; "
            "restore it, then run sync again"
        )
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)  # fails if dst appeared meanwhile: never overwrites
    except OSError as error:
        if error.errno == errno.EEXIST:
            raise MoveRefused(f"{dst} appeared while moving {src}; run sync again") from None
        if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
            raise MoveRefused(f"cannot move {src} to {dst}: {error.strerror}") from None
        os.rename(src, dst)  # a filesystem without hard links: rename (checked dst above)
        return MoveResult(done=True)
    src.unlink()
    return MoveResult(done=True)
