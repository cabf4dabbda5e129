"""What the operator sees while Alyx keeps a command waiting.

On a terminal (stderr is a TTY): one live line, redrawn in place a few times a second while a
call waits for its reply ("Alyx not answering POST /auth-token: 4 s (gives up at 30 s)") or for
its next attempt ("Alyx not answering GET /subjects (503), retry 2/3 in 4 s"), and erased when
the call ends. Elsewhere (a log, a pipe) nothing of the kind. In both, when the command gives up
on a server it waited for, one final message says so (wrapped between words on a terminal, as
every message is); a server that refuses at once needs no line beyond the command's own report.
"""

from __future__ import annotations

import math
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TextIO

from ..adapters.alyx.command_run import Waiting

if TYPE_CHECKING:  # annotations only: every command opens the line, most never talk to Alyx
    from ..adapters.alyx.errors import AlyxError

SHOW_AFTER = 1.0
"""Seconds a call waits before the live line appears: an answer within a second needs none."""

REDRAW_EVERY = 0.25
"""Seconds between two redraws of the live line (its counters tick in whole seconds)."""

ERASE = "\r\x1b[K"
"""Back to the start of the line, and clear it."""


def describe(waiting: Sequence[Waiting], now: float) -> str | None:
    """The live line for the calls waiting now (oldest first), or None when there is nothing
    worth showing (no call waits, or none for more than `SHOW_AFTER` seconds yet)."""
    shown = [wait for wait in waiting if wait.why or now - wait.since >= SHOW_AFTER]
    if not shown:
        return None
    wait = shown[0]
    if wait.why:
        left = max(0, math.ceil(wait.seconds - (now - wait.since)))
        text = (
            f"Alyx not answering {wait.call} ({wait.why}), "
            f"retry {wait.attempt}/{wait.attempts} in {left} s"
        )
    else:
        text = (
            f"Alyx not answering {wait.call}: {int(now - wait.since)} s "
            f"(gives up at {wait.seconds:g} s)"
        )
        if wait.attempts > 1:
            text += f", attempt {wait.attempt}/{wait.attempts}"
    others = len(shown) - 1
    if others:
        text += f" (and {others} more call{'s' if others > 1 else ''} waiting)"
    return text


class WaitingLine:
    """The watcher of a command's Alyx run (see `command_run.Watcher`): the live line on a
    terminal, the final line everywhere. Use as a context manager: leaving it erases the line."""

    def __init__(
        self,
        stream: TextIO,
        tell: Callable[[str], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self._tell = tell
        """Prints the final line as every message on `stream` is printed (`options.say`)."""
        self._clock = clock
        self._live = stream.isatty()
        self._lock = threading.Lock()
        self._waiting: tuple[Waiting, ...] = ()
        self._drawn = ""
        """The live line as last drawn ("" when none is)."""
        self._waited = False
        """A wait lasted long enough to be seen: a final line is owed if the run gives up."""
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def __enter__(self) -> WaitingLine:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        with self._lock:
            self._erase()

    def show(self, waiting: Sequence[Waiting]) -> None:
        now = self._clock()
        with self._lock:
            ended = [wait for wait in self._waiting if wait not in waiting]
            if any(wait.why or now - wait.since >= SHOW_AFTER for wait in ended):
                self._waited = True
            self._waiting = tuple(waiting)
            if self._live and waiting and self._ticker is None and not self._stop.is_set():
                self._ticker = threading.Thread(
                    target=self._tick, name="alyx-waiting-line", daemon=True
                )
                self._ticker.start()
            self._draw(now)

    def gave_up(self, error: AlyxError) -> None:
        with self._lock:
            if not self._waited:
                return
            self._erase()
            self._tell(f"labledger: gave up waiting: {error.message}")

    def _tick(self) -> None:
        while not self._stop.wait(REDRAW_EVERY):
            with self._lock:
                self._draw(self._clock())

    def _draw(self, now: float) -> None:
        """Redraw the live line (with the lock held); erase it when nothing is worth showing."""
        if not self._live:
            return
        text = describe(self._waiting, now)
        if text is None:
            self._erase()
            return
        text = text[: shutil.get_terminal_size().columns - 1]  # a wrapped line cannot be redrawn
        if text != self._drawn:
            self._stream.write(ERASE + text)
            self._stream.flush()
            self._drawn = text

    def _erase(self) -> None:
        if self._drawn:
            self._stream.write(ERASE)
            self._stream.flush()
            self._drawn = ""
