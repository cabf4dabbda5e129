"""The Alyx token cache: one small JSON file, readable by the user alone, written atomically.

A token is as good as the password for as long as it lives, so the file is created with mode 0600
by ``os.open`` (never world-readable, not even between create and chmod), an existing file with a
broader mode is narrowed when read, and a change replaces the file by rename so a crash never
leaves half a file. Tokens are keyed by base URL and username: one file serves several servers.

A token file that is a symbolic link is refused, read or written: following it would narrow the
mode of whatever file it points to, or replace the link with a file, and a link planted by
someone else is how a token is stolen. The operator points `alyx.token_file` at a real file.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path

from ...domain.errors import LabledgerError
from ..filesystem.atomic import write_atomically

TOKEN_FILE_NAME = "alyx-tokens.json"  # noqa: S105 (a file name)
PRIVATE = 0o600
NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)
"""Opening the file fails on a symbolic link (POSIX), even one made after `_refuse_link` looked."""

log = logging.getLogger(__name__)

Tokens = dict[str, dict[str, str]]
"""``{base_url: {username: token}}``, the file's content."""


class TokenCache:
    """Tokens by (base URL, username) in ``path``; the token itself is never logged."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __repr__(self) -> str:
        return f"TokenCache({str(self.path)!r})"

    def get(self, base_url: str, username: str) -> str | None:
        """The cached token, or None (no file, no entry, or a malformed file)."""
        return self._read().get(base_url, {}).get(username)

    def put(self, base_url: str, username: str, token: str) -> None:
        tokens = self._read()
        tokens.setdefault(base_url, {})[username] = token
        self._write(tokens)

    def drop(self, base_url: str, username: str) -> None:
        """Forget a token Alyx refused, so the next run does not try it again."""
        tokens = self._read()
        if tokens.get(base_url, {}).pop(username, None) is not None:
            self._write(tokens)

    def _read(self) -> Tokens:
        self._refuse_link()
        try:
            fd = os.open(self.path, os.O_RDONLY | NO_FOLLOW)
        except FileNotFoundError:
            return {}
        except OSError as error:
            self._refuse_link()  # made a link since the look above
            raise self._unusable(error) from None
        try:
            with os.fdopen(fd, "r", encoding="utf-8") as file:
                _make_private(file.fileno(), self.path)
                data = json.load(file)
        except OSError as error:
            raise self._unusable(error) from None
        except ValueError:  # malformed JSON or text: a token is cheap to get again
            log.warning("ignoring the malformed Alyx token cache %s", self.path)
            return {}
        return _valid(data)

    def _write(self, tokens: Tokens) -> None:
        self._refuse_link()
        text = json.dumps(tokens, indent=1, sort_keys=True) + "\n"
        try:
            write_atomically(self.path, text, mode=PRIVATE)
        except OSError as error:
            raise self._unusable(error) from None

    def _refuse_link(self) -> None:
        if self.path.is_symlink():
            raise LabledgerError(
                f"the Alyx token cache {self.path} is a symbolic link, which labledger neither "
                "reads nor replaces; remove the link, or set alyx.token_file to a regular file"
            )

    def _unusable(self, error: OSError) -> LabledgerError:
        return LabledgerError(
            f"the Alyx token cache {self.path} cannot be used ({error.strerror or error}); "
            "make it readable and writable by you alone, or set alyx.token_file"
        )


def _make_private(fd: int, path: Path) -> None:
    """Narrow a group- or world-readable token file to 0600 (POSIX; Windows uses ACLs)."""
    if os.name != "posix":
        return
    current = stat.S_IMODE(os.fstat(fd).st_mode)
    if current & 0o077:
        os.fchmod(fd, PRIVATE)
        log.warning("narrowed the mode of %s from %o to 600", path, current)


def _valid(data: object) -> Tokens:
    """Only well-formed entries; anything else in the file is ignored."""
    if not isinstance(data, dict):
        return {}
    return {
        str(base): {user: token for user, token in users.items() if isinstance(token, str)}
        for base, users in data.items()
        if isinstance(users, dict)
    }
