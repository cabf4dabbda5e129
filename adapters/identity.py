"""Who is running this command, on which host, with which labledger: read once per command run."""

from __future__ import annotations

import getpass
import socket
import uuid
from importlib.metadata import PackageNotFoundError, version

from labledger.domain.provenance import Provenance


def tool_version() -> str:
    """`labledger <version>` as installed (falls back for a source tree that is not installed)."""
    try:
        return f"labledger {version('labledger')}"
    except PackageNotFoundError:
        return "labledger (not installed)"


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers) and no LOGNAME/USER
        return "unknown"


def this_run(alyx_user: str | None) -> Provenance:
    """The provenance of one command run, with a fresh operation id."""
    return Provenance(
        alyx_user=alyx_user or "",
        os_user=os_user(),
        host=socket.gethostname(),
        tool_version=tool_version(),
        operation_id=str(uuid.uuid4()),
    )
