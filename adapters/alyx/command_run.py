"""One command's (or one API call's) knowledge of the Alyx servers it talks to.

Once a server refused the login or stopped answering, every later call of the same command fails
at once instead of waiting for its own timeout: a command costs one timeout (or one refused login)
at most, however many clients and worker threads it opens.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: every command enters a run, most never talk to Alyx
    from .errors import AlyxError


class AlyxRun:
    """One command's (or one API call's) knowledge of the servers it talks to: which of them
    refused the login or stopped answering. Shared by every client and worker thread of the
    command; a new command asks the server again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._halts: dict[str, AlyxError] = {}

    def halt(self, base_url: str, error: AlyxError) -> None:
        with self._lock:
            self._halts.setdefault(base_url, error)

    def halted(self, base_url: str) -> AlyxError | None:
        with self._lock:
            return self._halts.get(base_url)


_CURRENT: ContextVar[AlyxRun | None] = ContextVar("labledger_alyx_run", default=None)


@contextmanager
def one_run() -> Iterator[AlyxRun]:
    """The scope of one command or API call: its Alyx clients share what they learn of a
    server (an enclosing scope, if any, is kept: a call made inside another)."""
    current = _CURRENT.get()
    if current is not None:
        yield current
        return
    token = _CURRENT.set(AlyxRun())
    try:
        yield _CURRENT.get() or AlyxRun()
    finally:
        _CURRENT.reset(token)


def current_run() -> AlyxRun | None:
    """The run of the enclosing `one_run` scope, if any."""
    return _CURRENT.get()
