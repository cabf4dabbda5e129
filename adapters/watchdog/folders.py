"""Whether this user can put a manifest where the service looks: checked before `transfer`
records anything, and reported by `labledger watchdog validate`.

A manifest is written into the staging folder and renamed into `flag_dir` (see
`manifest_writer`), so both folders must take a new file. Permissions, ACLs and read-only shares
are only known by trying: a probe file is created and removed in each. Its name holds no
`manifest` and it has no `.yml` suffix, so the service ignores it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .manifest_writer import STAGING_FIX, ManifestNotWritten, check_staging_place
from .service_config import WatchConfig
from .settings import WatchdogSettings

PROBE_PREFIX = ".labledger-probe-"
PROBE_SUFFIX = ".tmp"


def not_writable(folder: Path) -> str | None:
    """None when this user can create and remove a file in `folder`; otherwise why not."""
    try:
        handle, probe = tempfile.mkstemp(prefix=PROBE_PREFIX, suffix=PROBE_SUFFIX, dir=folder)
    except OSError as error:
        return error.strerror or str(error)
    os.close(handle)
    try:
        os.unlink(probe)
    except OSError as error:
        return f"a file created there cannot be removed: {error.strerror or error}"
    return None


def check_flag_dir(watch: WatchConfig) -> Path:
    """`flag_dir`, once it exists and takes a new file; one-line refusals otherwise."""
    flag = watch.flag_path
    if not flag.is_dir():
        raise ManifestNotWritten(
            f"flag_dir {watch.flag_dir} does not exist; the service creates it when it starts "
            "(`labledger watchdog restart`), or correct flag_dir in the service's config"
        )
    reason = not_writable(flag)
    if reason is not None:
        raise ManifestNotWritten(
            f"flag_dir {flag} is not writable by this user ({reason}); give this user write "
            "access to it, or correct flag_dir in the service's config"
        )
    return flag


def check_staging_dir(watch: WatchConfig, settings: WatchdogSettings) -> Path:
    """The staging folder, created if missing (as the writer would), outside `flag_dir`, on
    its file system, and taking a new file; one-line refusals otherwise."""
    staging = watch.staging_path(settings)
    try:
        staging.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ManifestNotWritten(
            f"staging folder {staging} cannot be created ({error.strerror or error}); {STAGING_FIX}"
        ) from None
    check_staging_place(staging, watch.flag_path)
    reason = not_writable(staging)
    if reason is not None:
        raise ManifestNotWritten(
            f"staging folder {staging} is not writable by this user ({reason}); give this user "
            f"write access to it, or {STAGING_FIX}"
        )
    return staging


def check_folders(watch: WatchConfig, settings: WatchdogSettings) -> None:
    """Both folders a manifest passes through: flag_dir first, then the staging folder."""
    check_flag_dir(watch)
    check_staging_dir(watch, settings)
