"""The Alyx REST client: one connection pool, explicit timeouts, token auth, careful retries.

One transport seam (as httpx itself): tests pass an ``httpx.MockTransport``, production passes
nothing, and both run the same code. What this client adds to httpx, and why:

* Timeouts on every phase (ONE sets none, and a hung server blocked rigs for ever).
* A token cached in a 0600 file, so the password is needed once; a refused token ("Invalid
  token.") is replaced once, as ONE does (see ``login``). Password and token never reach a
  message or log.
* Retries only where they are harmless: GET, PUT, PATCH, and a POST the caller declares
  idempotent (register-file: same hashes, same result). A create (session, weighing, water) is
  sent once; if no reply comes, :class:`AlyxNoReply` tells the caller to look it up first (Alyx
  never de-duplicates them) — ONE re-posts them on 429/503 and made duplicates.
* One-line errors quoting the server (see ``errors``).
* One timeout (or one refused login) per command: its clients share what they learn of a
  server (see ``command_run``). A command an operator waits for makes fewer tries
  (``interactive_attempts``), and every wait (for a reply, before a retry) is shown to the
  command's watcher, so a terminal can say what it waits for.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from pydantic import SecretStr

from ...domain.errors import InvalidSettings
from ..filesystem.user_dirs import default_data_dir
from ..identity import tool_version
from .command_run import AlyxRun, Waiting, current_run
from .errors import (
    INVALID_TOKEN,
    RETRY_STATUSES,
    AlyxError,
    AlyxLoginNeeded,
    AlyxLoginRefused,
    AlyxOddReply,
    AlyxUnreachable,
    error_for_reply,
    error_for_transport,
    not_json,
    transport_reason,
)
from .login import TokenLogin
from .replies import is_item, one_record
from .settings import AlyxSettings
from .tls import tls_for
from .tokens import TOKEN_FILE_NAME, TokenCache

log = logging.getLogger(__name__)

Params = Mapping[str, str | int | float | bool | None]
Records = list[dict[str, Any]]

FIRST_BACKOFF = 0.5
"""Seconds before the second attempt when the server gives no Retry-After; doubled each time."""

MAX_PAGES = 10_000
"""A guard against a server whose ``next`` never ends (250 items a page: 2.5 million items)."""


class AlyxClient(TokenLogin):
    """A session with one Alyx server as one user; use as a context manager or call close().

    Endpoints are paths relative to ``settings.base_url`` ("/sessions", "sessions/<eid>") or
    full URLs under it (the ``url`` fields Alyx returns). Thread-safe: ``session_workers``
    threads may share one client (one pool, one login).
    """

    def __init__(
        self,
        settings: AlyxSettings,
        username: str,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        token_file: Path | None = None,
    ) -> None:
        if settings.base_url is None:
            raise InvalidSettings(
                "alyx.base_url is not set; set it (or LABLEDGER_ALYX__BASE_URL) to the lab's "
                "Alyx address, e.g. https://alyx.example.org"
            )
        if not username:
            raise InvalidSettings("no Alyx username; set alyx.username or alyx_user")
        self.base_url = settings.base_url
        self.username = username
        self._run = current_run() or AlyxRun()
        """What this command learnt of the server: once the login was refused or the server did
        not answer, every later call of the command (through this client or another one it
        opens) fails at once, so a command costs one timeout (or one refused login) at most."""
        self.max_attempts = (
            min(settings.interactive_attempts, settings.max_attempts)
            if self._run.interactive
            else settings.max_attempts
        )
        """Tries of an idempotent call: fewer when an operator waits (then the work is queued)."""
        self.max_wait = settings.max_wait
        self._password: SecretStr | None = settings.password
        self._sleep = sleep
        self._random = random.Random()  # noqa: S311 (jitter, not cryptography)
        path = token_file or settings.token_file or default_data_dir() / TOKEN_FILE_NAME
        self._tokens = TokenCache(path)
        self._token: str | None = None
        self._secrets: set[str] = set()
        if settings.password is not None and settings.password.get_secret_value():
            self._secrets.add(settings.password.get_secret_value())
        self._login_lock = threading.Lock()
        self._read_timeout = settings.read_timeout
        self.timeout = httpx.Timeout(
            connect=settings.connect_timeout,
            read=settings.read_timeout,
            write=settings.read_timeout,
            pool=settings.read_timeout,  # a worker waits for a free connection at most this long
        )
        self._http = httpx.Client(
            base_url=self.base_url,
            transport=transport,
            timeout=self.timeout,
            headers={
                "Accept": "application/json",
                "User-Agent": tool_version().replace(" ", "/", 1),
            },
            follow_redirects=False,  # a redirect would drop the token or turn a POST into a GET
            verify=tls_for(self.base_url),
        )

    def __repr__(self) -> str:
        return f"AlyxClient(base_url={self.base_url!r}, username={self.username!r})"

    def __enter__(self) -> AlyxClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    # -- the calls ------------------------------------------------------------------------------

    def get(self, endpoint: str, params: Params | None = None, *, record: bool = False) -> Any:
        """GET one resource; the parsed JSON reply (`record`: checked to be one record).
        Retried."""
        reply = self._call("GET", endpoint, params=params, idempotent=True)
        return one_record(f"GET {self._show(endpoint)}", reply) if record else reply

    def get_root(self) -> Any:
        """GET the API root without a token: whether an Alyx answers there (a connection test
        that needs no login)."""
        return self._call("GET", "/", idempotent=True, authenticated=False)

    def post(self, endpoint: str, body: Any, *, retry: bool, record: bool = False) -> Any:
        """POST ``body``; ``retry=True`` only when sending it twice is harmless (register-file);
        `record`: the reply is checked to be the record made."""
        reply = self._call("POST", endpoint, body=body, idempotent=retry)
        return one_record(f"POST {self._show(endpoint)}", reply) if record else reply

    def put(self, endpoint: str, body: Any, *, record: bool = False) -> Any:
        """PUT (ONE's "update": the whole record). Retried."""
        reply = self._call("PUT", endpoint, body=body, idempotent=True)
        return one_record(f"PUT {self._show(endpoint)}", reply) if record else reply

    def patch(self, endpoint: str, body: Any) -> Any:
        """PATCH (partial update). Retried."""
        return self._call("PATCH", endpoint, body=body, idempotent=True)

    def get_json_body(self, endpoint: str, body: Any) -> Any:
        """A GET carrying a JSON body, as ONE sends /check-protected. Retried."""
        return self._call("GET", endpoint, body=body, idempotent=True)

    def list(
        self, endpoint: str, params: Params | None = None, *, records: bool = False
    ) -> Records:
        """Every item of a list endpoint, following ``next`` page by page (or a bare list);
        `records`: each item checked to be a record (with its id or url).

        ``next`` is an absolute URL built by the server, which behind a proxy may name another
        scheme or host; only its query (limit, offset, filters) is used, on our own base URL.
        """
        items: Records = []
        query: Any = params
        for _ in range(MAX_PAGES):
            page = self._call("GET", endpoint, params=query, idempotent=True)
            found = page if isinstance(page, list) else None
            if isinstance(page, dict) and isinstance(page.get("results"), list):
                found = page["results"]
            if found is None or not all(is_item(item, records) for item in found):
                raise AlyxOddReply(
                    200,
                    f"Alyx answered GET {self._show(endpoint)} with no list of records; check "
                    "alyx.base_url points at Alyx (the work stays pending)",
                )
            items.extend(found)
            if isinstance(page, list):
                return items
            following = page.get("next")
            if not following:
                return items
            query = httpx.URL(str(following)).params
        raise AlyxError(200, f"Alyx kept paging GET {self._show(endpoint)}; stopped")

    # -- one call: token, retries, decoding -----------------------------------------------------

    def _call(
        self,
        method: str,
        endpoint: str,
        *,
        params: Any = None,
        body: Any = None,
        idempotent: bool,
        authenticated: bool = True,
    ) -> Any:
        path = self._relative(endpoint)
        call = f"{method} {self._show(path)}"
        self._check_not_halted(call)
        token = self._current_token() if authenticated else None
        response, attempts, note = self._send(method, path, call, params, body, token, idempotent)
        if token is not None and _is_invalid_token(response):
            log.info("Alyx refused the token of %s; logging in again", self.username)
            token = self._fresh_token(stale=token)
            response, attempts, note = self._send(
                method, path, call, params, body, token, idempotent
            )
        return self._decode(call, response, attempts, note)

    def _send(
        self,
        method: str,
        path: str,
        call: str,
        params: Any,
        body: Any,
        token: str | None,
        idempotent: bool,
    ) -> tuple[httpx.Response, int, str]:
        """The last reply and the number of attempts; retries what is safe to retry."""
        headers = {"Authorization": f"Token {token}"} if token else {}
        attempts = self.max_attempts if idempotent else 1
        for attempt in range(1, attempts + 1):
            try:
                with self._run.waiting(Waiting(call, attempt, attempts, self._read_timeout)):
                    response = self._http.request(
                        method, path, params=params, json=body, headers=headers
                    )
            except httpx.RequestError as error:
                failure = error_for_transport(
                    self.base_url,
                    call,
                    error,
                    self.timeout,
                    scrub=self._scrub,
                    attempts=attempt,
                    create=method == "POST" and not idempotent,
                )
                timed_out = isinstance(error, httpx.TimeoutException)
                if not failure.retryable or attempt == attempts or timed_out:
                    if failure.retryable:
                        self._run.halt(self.base_url, failure)
                    raise failure from None  # httpx's error holds the request, token included
                why = transport_reason(error, self.timeout, self._scrub)
                self._wait(self._backoff(attempt), Waiting(call, attempt + 1, attempts, 0, why))
                continue
            if response.status_code not in RETRY_STATUSES or attempt == attempts:
                return response, attempt, ""
            asked = retry_after_seconds(response.headers.get("retry-after"))
            if asked is not None and asked > self.max_wait:
                note = f"; it asks to wait {asked:.0f} s, more than alyx.max_wait"
                return response, attempt, note
            wait = self._backoff(attempt) if asked is None else asked + self._random.uniform(0, 1)
            why = str(response.status_code)
            self._wait(min(wait, self.max_wait), Waiting(call, attempt + 1, attempts, 0, why))
        raise AssertionError("unreachable: the loop returns or raises on its last attempt")

    def _wait(self, seconds: float, next_attempt: Waiting) -> None:
        """Sleep before the next attempt, shown to the run's watcher meanwhile."""
        log.info(
            "Alyx: %s got %s; attempt %d of %d in %.1f s",
            next_attempt.call,
            next_attempt.why,
            next_attempt.attempt,
            next_attempt.attempts,
            seconds,
        )
        with self._run.waiting(replace(next_attempt, seconds=seconds)):
            self._sleep(seconds)

    def _backoff(self, attempt: int) -> float:
        """Exponential with "equal jitter": half fixed, half random; never above max_wait."""
        ceiling = min(self.max_wait, FIRST_BACKOFF * 2.0 ** (attempt - 1))
        return ceiling / 2 + self._random.uniform(0, ceiling / 2)

    def _decode(self, call: str, response: httpx.Response, attempts: int, note: str) -> Any:
        body: Any = None
        if response.content:
            try:
                body = response.json()
            except ValueError:  # JSONDecodeError and UnicodeDecodeError
                raise not_json(call, response, scrub=self._scrub) from None
        if response.is_success:
            return body
        raise error_for_reply(call, response, body, scrub=self._scrub, attempts=attempts, note=note)

    def _check_not_halted(self, call: str) -> None:
        """Fail at once when an earlier call of this run found the server gone or the login
        refused (nothing is sent)."""
        halted = self._run.halted(self.base_url)
        if halted is None:
            return
        if isinstance(halted, AlyxLoginRefused | AlyxLoginNeeded | AlyxUnreachable):
            raise type(halted)(halted.status, halted.message, halted.body)  # the same cause
        raise AlyxUnreachable(
            None,
            f"{call} not sent: Alyx at {self.base_url} stopped answering in this run; queued "
            "for `labledger sync`",
        )

    def _scrub(self, text: str) -> str:
        """``text`` with every secret this client knows replaced by ***."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    # -- endpoints ------------------------------------------------------------------------------

    def _relative(self, endpoint: str) -> str:
        """The path under base_url; a full URL must lie under it (scheme may differ: proxies)."""
        if not endpoint.startswith(("http://", "https://")):
            return "/" + endpoint.lstrip("/")
        base, url = httpx.URL(self.base_url), httpx.URL(endpoint)
        base_path = base.raw_path.decode("ascii").rstrip("/")
        target = url.raw_path.decode("ascii")  # path and query, percent-encoded
        rest = target[len(base_path) :]
        under = target.startswith(base_path) and rest[:1] in ("", "/", "?")
        if url.host != base.host or url.port != base.port or not under:
            raise ValueError(f"{endpoint} is not under the Alyx base URL {self.base_url}")
        return "/" + rest.lstrip("/")

    def _show(self, endpoint: str) -> str:
        """How a call's endpoint appears in messages: the path, without query."""
        return self._relative(endpoint).split("?", 1)[0]


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """A Retry-After header in seconds: delta-seconds or an HTTP date; None if absent or bad."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # HTTP dates are GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _is_invalid_token(response: httpx.Response) -> bool:
    if response.status_code not in (401, 403):
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("detail") == INVALID_TOKEN
