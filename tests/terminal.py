"""The installed `labledger` on a pseudo-terminal, as a person at a keyboard runs it: the
program sees a terminal of a chosen width on stdin, stdout and stderr, its questions are read and
answered, and what it showed is kept as text (colours removed).
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time
from collections.abc import Mapping

import pytest

from tests.doors import LABLEDGER, Door

STYLE = re.compile(r"\x1b\[[0-9;]*m")
"""Colours and bold: not characters on the screen."""


class Terminal:
    """`labledger ARGS` on a pseudo-terminal `columns` wide: its questions are read and answered
    as a person at a keyboard would (typed text is echoed unless the program turns echo off, as
    getpass does); `screen` is everything it showed."""

    def __init__(
        self,
        door: Door,
        *args: str,
        columns: int = 100,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
        self.process = subprocess.Popen(
            [str(LABLEDGER), *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=door.cwd,
            env=door.environment(env),
            start_new_session=True,  # no controlling terminal: getpass reads the pty as stdin
        )
        os.close(slave)
        self.screen = ""
        self._read_up_to = 0

    def _read(self, deadline: float) -> bool:
        """Read what the program wrote; False once it closed the terminal."""
        ready, _, _ = select.select([self.master], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            return True
        try:
            chunk = os.read(self.master, 4096)
        except OSError:  # EIO: the program exited and closed its side
            return False
        text = chunk.decode("utf-8", "replace").replace("\r\n", "\n")
        self.screen += STYLE.sub("", text)
        return bool(chunk)

    def expect(self, text: str, timeout: float = 30.0) -> None:
        """Wait until the program shows `text` (after what was expected before)."""
        deadline = time.monotonic() + timeout
        while text not in self.screen[self._read_up_to :]:
            if time.monotonic() > deadline or not self._read(deadline):
                pytest.fail(f"no {text!r} on the terminal; it shows:\n{self.screen}")
        self._read_up_to = self.screen.index(text, self._read_up_to) + len(text)

    def answer(self, question: str, typed: str) -> None:
        """Wait for `question`, then type `typed` and Enter."""
        self.expect(question)
        os.write(self.master, (typed + "\n").encode())

    def finish(self, timeout: float = 30.0) -> int:
        """Read until the program ends; its exit status."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._read(deadline):
            pass
        code = self.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        os.close(self.master)
        return code
