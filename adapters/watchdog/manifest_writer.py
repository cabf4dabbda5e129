"""Writing a manifest into the watched folder so the service sees it once, complete.

The service acts on a *created* event of `manifest*.yml` in `flag_dir`, ignores a rename inside
that folder, loads at start-up anything named `*manifest*.*` there, and dies quietly
if a manifest vanishes during its 10 s wait. So the file is written whole under a temporary
name in a folder *outside* `flag_dir` on the same file system, synced, then renamed into
`flag_dir` under its final name, and never touched again. Writing twice is harmless: a manifest
already there (or already completed) with the same bytes means the emission happened.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ...domain.errors import LabledgerError
from ..filesystem.atomic import write_atomically

MANIFEST_MODE = 0o644


class ManifestNotWritten(LabledgerError):
    """The manifest cannot be put into the watched folder as the contract requires."""


@dataclass(frozen=True)
class Emission:
    path: Path
    """Where the manifest was emitted: `flag_dir/manifest_<name>.yml`."""
    sha256: str
    written: bool
    """False when an earlier run had already emitted these bytes (nothing was written now)."""


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def emit_manifest(
    content: bytes,
    file_name: str,
    flag_dir: Path,
    complete_dir: Path | None,
    staging_dir: Path,
    forced: bool,
    requested_at: datetime,
) -> Emission:
    """Put `content` into `flag_dir/file_name` atomically, unless that emission already happened.

    For a forced re-emission, only a copy written after the request (`requested_at`) counts as
    already emitted: an older copy with the same bytes is the emission being repeated. The
    comparison allows no clock slack: flag_dir is the service's local folder on this rig, and
    the rare error it leaves (a share whose clock lags) repeats a drop the operator forced
    anyway, where slack would silently skip a forced re-emission.
    """
    target = flag_dir / file_name
    sha256 = hashlib.sha256(content).hexdigest()
    if not flag_dir.is_dir():
        raise ManifestNotWritten(
            f"flag_dir {flag_dir} does not exist; the service creates it when it starts "
            "(`labledger watchdog restart`), or correct flag_dir in the service's config"
        )
    candidates = [target] + ([complete_dir / file_name] if complete_dir is not None else [])
    for candidate in candidates:
        if _holds(candidate, sha256):
            written_after = candidate.stat().st_mtime >= requested_at.timestamp()
            if not forced or written_after:
                return Emission(target, sha256, written=False)
    if target.exists() and not forced:
        if _holds(target, sha256):
            # a run racing this one (the same transfer on this rig) published these bytes
            # between the look above and now: that is this emission, done
            return Emission(target, sha256, written=False)
        raise ManifestNotWritten(
            f"{target} already exists with other content and labledger never emitted it; "
            "move it away if it is stale, or emit again with --force to replace it"
        )
    _publish(content, target, staging_dir)
    return Emission(target, sha256, written=True)


def _holds(path: Path, sha256: str) -> bool:
    """`path` is a file with these bytes (False when the service moved it away meanwhile)."""
    try:
        return path.is_file() and sha256_of(path) == sha256
    except FileNotFoundError:
        return False


def _publish(content: bytes, target: Path, staging_dir: Path) -> None:
    """Write under a temporary name outside the watched folder, sync, rename into it."""
    flag_dir = target.parent
    staging_dir.mkdir(parents=True, exist_ok=True)
    check_staging_place(staging_dir, flag_dir)
    write_atomically(target, content, mode=MANIFEST_MODE, staging_dir=staging_dir.resolve())
    _sync_folder(flag_dir)


STAGING_FIX = "set watchdog.staging_dir to a writable folder outside flag_dir on its file system"


def check_staging_place(staging_dir: Path, flag_dir: Path) -> None:
    """The staging folder (existing) must be outside `flag_dir`, or the service would see the
    half-written file, and on its file system, or the rename into it would not be atomic."""
    staging, watched = staging_dir.resolve(), flag_dir.resolve()
    if staging == watched or watched in staging.parents:
        raise ManifestNotWritten(
            f"staging folder {staging_dir} is inside flag_dir {flag_dir}; {STAGING_FIX}"
        )
    if os.stat(staging).st_dev != os.stat(watched).st_dev:
        raise ManifestNotWritten(
            f"staging folder {staging_dir} is on another file system than flag_dir {flag_dir}, "
            f"so the move into it would not be atomic; {STAGING_FIX}"
        )


def _sync_folder(folder: Path) -> None:
    """Make the rename durable where the OS allows syncing a folder (not on Windows)."""
    if os.name == "nt":
        return
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
