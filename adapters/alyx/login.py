"""The Alyx client's login: a token cached in a 0600 file, so the password is needed once, and a
token Alyx refuses ("Invalid token.") replaced once, as ONE does, even when threads race.

A refused login or a missing password halts the command's run (see `command_run`): the work stays
pending and no other call of the command tries again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import SecretStr

from ...domain.errors import LabledgerError
from .command_run import AlyxRun
from .errors import AlyxError, AlyxLoginNeeded, AlyxLoginRefused, AlyxOddReply, AlyxRefused
from .tokens import TokenCache

log = logging.getLogger(__name__)

T = TypeVar("T")


class TokenLogin:
    """The token half of `AlyxClient` (a mixin: the client sets these attributes and sends the
    login through its own `_call`)."""

    base_url: str
    username: str
    _password: SecretStr | None
    _tokens: TokenCache
    _token: str | None
    _secrets: set[str]
    _login_lock: threading.Lock
    _run: AlyxRun

    _call: Callable[..., Any]
    """`AlyxClient._call`: one request with the client's retries and error handling."""

    def _current_token(self) -> str:
        with self._login_lock:
            if self._token is None:
                cached = self._cached(lambda: self._tokens.get(self.base_url, self.username))
                self._token = cached or self._login(refused=False)
                self._secrets.add(self._token)
            return self._token

    def _fresh_token(self, stale: str) -> str:
        """A new token after Alyx refused ``stale``; one login even when threads race here."""
        with self._login_lock:
            if self._token is not None and self._token != stale:
                return self._token  # another thread has already logged in again
            self._cached(lambda: self._tokens.drop(self.base_url, self.username))
            self._token = None
            self._token = self._login(refused=True)
            self._secrets.add(self._token)
            return self._token

    def _cached(self, use: Callable[[], T]) -> T:
        """A use of the token cache; a cache the operator must fix (unreadable, a symbolic link)
        halts the run as a refused login does, with the work kept pending."""
        try:
            return use()
        except AlyxError:
            raise
        except LabledgerError as error:
            unusable = AlyxLoginNeeded(None, f"{error} (the work stays pending)")
            self._run.halt(self.base_url, unusable)
            raise unusable from None

    def _login(self, *, refused: bool) -> str:
        """POST /auth-token; the token is cached for the next runs."""
        if self._password is None or not self._password.get_secret_value():
            why = "refused the cached token" if refused else "has no cached token"
            needed = AlyxLoginNeeded(
                None,
                f"Alyx at {self.base_url} {why} for {self.username} and no password is set; "
                "set alyx.password (or LABLEDGER_ALYX__PASSWORD) once to log in (the work stays "
                "pending)",
            )
            self._run.halt(self.base_url, needed)
            raise needed
        credentials = {"username": self.username, "password": self._password.get_secret_value()}
        try:
            reply = self._call(
                "POST", "/auth-token", body=credentials, idempotent=True, authenticated=False
            )
        except AlyxRefused as error:
            if error.status not in (400, 401, 403):
                raise
            server_says = error.message.split("): ", 1)[-1]
            refusal = AlyxLoginRefused(
                error.status,
                f"Alyx at {self.base_url} refused the login of {self.username} "
                f"({error.status}: {server_says}); check alyx.username and alyx.password "
                "(or LABLEDGER_ALYX__PASSWORD); the work stays pending",
                error.body,
            )
            self._run.halt(self.base_url, refusal)
            raise refusal from None
        token = reply.get("token") if isinstance(reply, dict) else None
        if not isinstance(token, str) or not token or not _sendable(token):
            odd = AlyxOddReply(
                200,
                "Alyx answered POST /auth-token without a token it could be sent back as; "
                "check alyx.base_url points at Alyx (the work stays pending)",
            )
            self._run.halt(self.base_url, odd)
            raise odd
        self._secrets.add(token)
        self._cached(lambda: self._tokens.put(self.base_url, self.username, token))
        log.info("logged in to Alyx at %s as %s", self.base_url, self.username)
        return token


def _sendable(token: str) -> bool:
    """A token goes back in an HTTP header: printable ASCII, no space."""
    return token.isascii() and token.isprintable() and not any(c.isspace() for c in token)
