"""Writing a file so that readers see the old one or the new one, never half of one.

Used for every file labledger writes that another program (or another run) reads: the token
cache, the reference lists, watchdog manifests, reports.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path


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


def write_if_changed(path: Path, content: str, *, mode: int) -> bool:
    """`write_atomically`, unless `path` already holds exactly `content`; True if written.

    For caches refreshed by every command (the server's reference lists): they rarely change,
    and a write made durable costs an fsync and a rename each time."""
    try:
        if path.read_bytes() == content.encode("utf-8"):
            return False
    except OSError:
        pass  # missing or unreadable: write it
    write_atomically(path, content, mode=mode)
    return True
