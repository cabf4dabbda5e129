"""Who is running this command, on which host, with which labledger: read once per command run."""

from __future__ import annotations

import contextvars
import getpass
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from .. import __version__
from ..domain import provenance
from ..domain.provenance import Provenance

A = TypeVar("A")
R = TypeVar("R")


def tool_version() -> str:
    """`labledger <version>`, the version this source tree is (`_version.py`)."""
    return f"labledger {__version__}"


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


@contextmanager
def entered(alyx_user: str | None) -> Iterator[Provenance]:
    """Provenance for one call of a public entry point: the one already in force (a caller that
    acts on behalf of someone, a CLI run calling the API), else a fresh run of this OS user."""
    current = provenance.established()
    if current is not None:
        yield current
        return
    with provenance.acting_as(this_run(alyx_user)) as run:
        yield run


def carrying_context(function: Callable[[A], R]) -> Callable[[A], R]:
    """`function` wrapped to run in a copy of the caller's context (provenance included).

    Worker threads start with an empty context: a task handed to a pool would record events
    with no provenance. Each call gets its own copy, because one context cannot be entered by
    two threads at once."""
    context = contextvars.copy_context()

    def run(argument: A) -> R:
        return context.copy().run(function, argument)

    return run
