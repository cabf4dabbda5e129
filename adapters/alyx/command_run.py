"""One command's (or one API call's) knowledge of the Alyx servers it talks to.

Once a server refused the login or stopped answering, every later call of the same command fails
at once instead of waiting for its own timeout: a command costs one timeout (or one refused login)
at most, however many clients and worker threads it opens.

The run also says how patient its calls are: an operator's command (register, weigh, …) makes
`alyx.interactive_attempts` tries and then queues the work, where `sync`, run by a schedule, keeps
the configured retries. And it tells a watcher (the terminal's live line) which calls are waiting
for a reply or for their next attempt, and when it gave up on a server.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # annotations only: every command enters a run, most never talk to Alyx
    from .errors import AlyxError


@dataclass(frozen=True)
class Waiting:
    """A call that waits: for Alyx's reply to one attempt, or (`why` set) before the next one."""

    call: str
    """The method and path, as messages name it: "POST /auth-token"."""
    attempt: int
    """The attempt waiting for its reply, or the one that comes after the back-off."""
    attempts: int
    """The call's attempts at most."""
    seconds: float
    """How long the wait lasts at most: the read timeout, or the back-off."""
    why: str = ""
    """Why the call is tried again ("503", "connection refused"); empty while a reply is awaited."""
    since: float = 0.0
    """When the wait began, in `time.monotonic()` seconds (set by `AlyxRun.waiting`)."""


class Watcher(Protocol):
    """Shows the operator what a run waits for (a terminal's live line); called from any thread."""

    def show(self, waiting: Sequence[Waiting]) -> None:
        """The calls waiting now (oldest first), after one began or ended."""

    def gave_up(self, error: AlyxError) -> None:
        """The run stopped trying a server that did not answer or could not be reached."""


class AlyxRun:
    """One command's (or one API call's) knowledge of the servers it talks to: which of them
    refused the login or stopped answering. Shared by every client and worker thread of the
    command; a new command asks the server again."""

    def __init__(self, *, interactive: bool = False, watcher: Watcher | None = None) -> None:
        self.interactive = interactive
        """An operator waits for this run: its calls make `alyx.interactive_attempts` tries."""
        self.watcher = watcher
        self._lock = threading.Lock()
        self._halts: dict[str, AlyxError] = {}
        self._waiting: dict[int, Waiting] = {}
        self._keys = itertools.count()

    def halt(self, base_url: str, error: AlyxError) -> None:
        with self._lock:
            first = base_url not in self._halts
            self._halts.setdefault(base_url, error)
        if first and error.retryable and self.watcher is not None:
            self.watcher.gave_up(error)

    def halted(self, base_url: str) -> AlyxError | None:
        with self._lock:
            return self._halts.get(base_url)

    @contextmanager
    def waiting(self, wait: Waiting) -> Iterator[None]:
        """The scope of one wait of a call (a request sent, or a back-off), shown to the
        watcher while it lasts."""
        if self.watcher is None:
            yield
            return
        key = next(self._keys)
        with self._lock:
            self._waiting[key] = replace(wait, since=time.monotonic())
        self._show()
        try:
            yield
        finally:
            with self._lock:
                del self._waiting[key]
            self._show()

    def _show(self) -> None:
        """Tell the watcher which calls wait now; under the lock, so that two threads' changes
        reach it in the order they were made."""
        with self._lock:
            if self.watcher is not None:
                self.watcher.show(sorted(self._waiting.values(), key=lambda wait: wait.since))


_CURRENT: ContextVar[AlyxRun | None] = ContextVar("labledger_alyx_run", default=None)


@contextmanager
def one_run(*, interactive: bool = False, watcher: Watcher | None = None) -> Iterator[AlyxRun]:
    """The scope of one command or API call: its Alyx clients share what they learn of a
    server (an enclosing scope, if any, is kept: a call made inside another). `interactive`: an
    operator waits for it (fewer tries, then the work is queued); `watcher` sees its waits."""
    current = _CURRENT.get()
    if current is not None:
        yield current
        return
    run = AlyxRun(interactive=interactive, watcher=watcher)
    token = _CURRENT.set(run)
    try:
        yield run
    finally:
        _CURRENT.reset(token)


def current_run() -> AlyxRun | None:
    """The run of the enclosing `one_run` scope, if any."""
    return _CURRENT.get()
