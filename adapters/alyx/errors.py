"""The errors of the Alyx client, and how a reply or a network failure becomes one.

Callers decide by ``keeps_pending``. What the operator or the server can put right keeps the work
pending: a throttled, failing (5xx), unavailable or unreachable server, a refused or missing login,
and a name Alyx does not know that comes from the settings or from Alyx itself (the user, the lab,
the repository, the subject: create it on Alyx, or correct the setting). Only a refusal of the
request's own content (a 4xx about what was sent) closes an intent; `labledger retry` re-opens it.
``AlyxNoReply`` is the one to be careful with: the request may have been carried out, so a create
(session, weighing, water) must be looked up on Alyx before it is posted again (no de-duplication).

Every message is one line naming the call and quoting the server's text; a reply that is not JSON
(a proxy's HTML page) still shows its status and first line.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import httpx

from ...domain.errors import InvalidSettings, LabledgerError
from ...projections.words import plural

MAX_MESSAGE = 300
"""Characters of a message at most (one terminal line or two), server text included."""

MAX_SERVER_TEXT = 200
"""Characters of the server's own text quoted in a message."""

RETRY_STATUSES = frozenset({429, 502, 503, 504})
"""Statuses after which the same request may succeed later (throttle, gateway, maintenance)."""

INVALID_TOKEN = "Invalid token."  # noqa: S105 (a server message, not a secret)
"""The `detail` of Alyx's 403 for an unknown or revoked token (ONE re-authenticates on it)."""

Scrub = Callable[[str], str]
"""Removes secrets (password, token) from text before it goes into a message."""


class AlyxError(LabledgerError):
    """A call to Alyx failed; ``str()`` is one line, ``body`` the parsed JSON reply if any."""

    def __init__(self, status: int | None, message: str, body: object = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.body = body

    @property
    def retryable(self) -> bool:
        """Whether the same call may succeed later without anything being changed."""
        return False

    @property
    def keeps_pending(self) -> bool:
        """Whether the work stays pending: the server may recover, or the operator can fix what
        the message names. False only when Alyx refused the content of the request itself."""
        return self.retryable

    @property
    def protected_details(self) -> list[dict[str, Any]] | None:
        """The per-file revision list of a "One or more datasets is protected" 403."""
        return protected_details_of(self.body)


class AlyxRefused(AlyxError):
    """Alyx answered 4xx (bad request, forbidden, not found, …): final until something changes."""


class AlyxNeedsOperator(AlyxRefused):
    """Alyx refused because of something the operator can fix without changing the request: the
    login, or a user, lab, repository or subject it does not know. The work stays pending."""

    @property
    def keeps_pending(self) -> bool:
        return True


class AlyxLoginRefused(AlyxNeedsOperator):
    """POST /auth-token was refused (wrong username or password): never retried in a run."""


class AlyxServerError(AlyxError):
    """Alyx answered 5xx: 502/503/504 are retryable; a 500 is a server exception that fails the
    same way until something is fixed on the server (or a name the request uses exists), so it
    keeps the work pending without being retried at once.

    A 502/504 comes from a proxy that gave up waiting: Alyx may still have done the work, so a
    create is looked up before it is sent again, as after :class:`AlyxNoReply`.
    """

    @property
    def retryable(self) -> bool:
        return self.status in RETRY_STATUSES

    @property
    def keeps_pending(self) -> bool:
        return True


class AlyxThrottled(AlyxError):
    """Alyx answered 429 (too many requests) on the last attempt: try again later."""

    @property
    def retryable(self) -> bool:
        return True


class AlyxUnreachable(AlyxError):
    """No connection could be made (refused, unknown host, TLS, connect timeout): nothing sent."""

    @property
    def retryable(self) -> bool:
        return True


class AlyxNoReply(AlyxError):
    """The request went out but no reply came back (read timeout, dropped connection).

    The outcome is unknown: look the record up before sending a create again.
    """

    @property
    def retryable(self) -> bool:
        return True


class AlyxNotJson(AlyxError):
    """The reply was not JSON (a proxy's error page, a wrong base URL); 5xx ones are retryable,
    and none closes work: the address or the proxy is the operator's to fix."""

    @property
    def retryable(self) -> bool:
        return self.status is not None and self.status >= 500

    @property
    def keeps_pending(self) -> bool:
        return True


class AlyxOddReply(AlyxError):
    """The reply was JSON, but not what the endpoint answers (a list where a record was due, a
    record without its id, fewer records than files sent): whoever answered is not the Alyx
    labledger expects (a proxy, another service, a broken upgrade). Nothing is recorded as done
    and the work stays pending until the server answers as Alyx does."""

    @property
    def keeps_pending(self) -> bool:
        return True


class AlyxLoginNeeded(AlyxError, InvalidSettings):
    """No usable token and no password to get one: a setting must be set."""

    @property
    def keeps_pending(self) -> bool:
        return True


NAME_HINTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"^(users?|created_by): Object with username=(?P<name>\S+) does not exist"),
        "Alyx has no user {name}; set alyx.username (or --users / --user) to an Alyx user",
    ),
    (
        re.compile(r"^lab: Object with name=(?P<name>\S+) does not exist"),
        "Alyx has no lab {name}; set lab (or --lab) to a lab Alyx knows",
    ),
    (
        re.compile(r"^subject: Object with nickname=(?P<name>\S+) does not exist"),
        "Alyx has no subject {name}; create it on Alyx, or correct the folder name",
    ),
    (
        re.compile(r'A subject with nickname "(?P<name>[^"]+)" does not exist'),
        "Alyx has no subject {name}; create it on Alyx, or correct the folder name",
    ),
    (
        re.compile(r"^The specified repository does not exist"),
        "Alyx has no such data repository; set alyx.repository (or --repository) to one it knows",
    ),
    (
        re.compile(r"^LabMember matching query does not exist"),
        "Alyx has no user of the name this request sends (created_by: alyx.username); set "
        "alyx.username (or --users / --user) to an Alyx user",
    ),
    (
        re.compile(r"^A base session for (?P<name>.+?) does not exist"),
        "the session {name} is not on Alyx yet; register the session first",
    ),
)
"""Refusals that name something the operator can create on Alyx or correct in the settings,
and what to do about each: the work waits for the fix instead of being closed."""


def needs_operator(text: str) -> str | None:
    """What the operator must fix, when the server's text names a user, lab, repository,
    subject or session that Alyx does not have; else None (the request's content was refused)."""
    for clause in text.split("; "):
        for pattern, hint in NAME_HINTS:
            found = pattern.search(clause)
            if found is not None:
                return hint.format(**found.groupdict())
    return None


def protected_details_of(body: object) -> list[dict[str, Any]] | None:
    """``details`` of a protected-datasets reply, else None.

    The form is ``{"status_code": 403, "error": …, "details": [{filename: [{revision: bool}]}]}``,
    sent as HTTP 403 by register-file and as HTTP 200 by check-protected, so both can use this.
    """
    if not isinstance(body, dict) or body.get("status_code") != 403:
        return None
    details = body.get("details")
    if isinstance(body.get("error"), str) and isinstance(details, list):
        return details
    return None


def one_line(text: str, limit: int = MAX_MESSAGE) -> str:
    """Whitespace (newlines included) collapsed, cut at ``limit`` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def server_text(body: object) -> str:
    """The server's own explanation in any of Alyx's error body forms, as one line.

    ``{"detail": m}``, ``{"error": m, "details": d}``, field errors ``{"f": ["m"], …}``
    (→ ``f: m; g: n``; ``non_field_errors`` unprefixed), a bare list or string.
    """
    if isinstance(body, dict):
        if "detail" in body:
            return _flat(body["detail"])
        if "error" in body:
            details = body.get("details")
            if isinstance(details, list):
                return f"{_flat(body['error'])} ({plural(len(details), 'file')} checked)"
            return _flat(body["error"]) + (f": {_flat(details)}" if details else "")
        fields = [
            _flat(value) if key == "non_field_errors" else f"{key}: {_flat(value)}"
            for key, value in body.items()
            if key != "status_code"
        ]
        return "; ".join(fields)
    return _flat(body)


def _flat(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(_flat(item) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{key}: {_flat(item)}" for key, item in value.items())
    return str(value)


def first_line_of_markup(text: str) -> str:
    """The first non-blank line of an HTML (or plain) page, tags and entities removed."""
    text = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>", "\n", text)
    text = html.unescape(re.sub(r"<[^>]*>", "\n", text))
    return next((line.strip() for line in text.splitlines() if line.strip()), "(empty body)")


def error_for_reply(
    call: str,
    response: httpx.Response,
    body: object,
    *,
    scrub: Scrub,
    attempts: int = 1,
    note: str = "",
) -> AlyxError:
    """The error for an unsuccessful reply whose body parsed as JSON (or was empty: None)."""
    status = response.status_code
    text = scrub(one_line(server_text(body), MAX_SERVER_TEXT)) or response.reason_phrase
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    if status == 429:
        message = f"Alyx throttled {call} (429){tries}: {text}{note}; run again later"
        return AlyxThrottled(status, one_line(message), body)
    fix = needs_operator(text) if status in (400, 404, 500) else None
    if status >= 500 and fix is None:
        verb = "failed on" if status == 500 else "is unavailable for"
        message = f"Alyx {verb} {call} ({status}){tries}: {text}{note}"
        return AlyxServerError(status, one_line(message), body)
    if 300 <= status < 400:
        where = scrub(response.headers.get("location", "elsewhere"))
        message = (
            f"Alyx redirected {call} ({status}) to {where}; "
            "set alyx.base_url to the address it redirects to"
        )
        return AlyxRefused(status, one_line(message), body)
    if fix is not None:
        message = f"{fix} (the work stays pending); Alyx refused {call} ({status}): {text}"
        return AlyxNeedsOperator(status, one_line(message), body)
    if status == 403 and "credentials were not provided" in text:
        message = (
            f"Alyx refused {call} ({status}): {text}; the token was not accepted: check "
            "alyx.username and alyx.password (the work stays pending)"
        )
        return AlyxNeedsOperator(status, one_line(message), body)
    return AlyxRefused(status, one_line(f"Alyx refused {call} ({status}): {text}"), body)


def not_json(call: str, response: httpx.Response, *, scrub: Scrub) -> AlyxNotJson:
    """A reply that cannot be parsed: its status and the first line of its text."""
    status = response.status_code
    first = scrub(one_line(first_line_of_markup(response.text), MAX_SERVER_TEXT))
    message = f"Alyx sent a reply that is not JSON to {call} ({status}): {first}"
    if status < 300:
        message += "; check that alyx.base_url is the Alyx REST address"
    return AlyxNotJson(status, one_line(message))


RUN_AGAIN = "; check alyx.base_url and the network, then run again (nothing was sent)"
"""The advice that ends an unreachable server's message: a command's work was not sent, so
running it again is safe (`config init`'s connection test, which sends no work, says otherwise)."""


def error_for_transport(
    base_url: str,
    call: str,
    error: httpx.RequestError,
    timeouts: httpx.Timeout,
    *,
    scrub: Scrub,
    attempts: int = 1,
    create: bool = False,
) -> AlyxError:
    """The error for a call that got no HTTP reply: unreachable (nothing sent) or no reply.

    Only a `create` (a POST sent once: session, weighing, water) whose reply was lost says it
    may have been done: it is looked up on Alyx before it is sent again. A login, a read or an
    update without a reply can simply be sent again, and says nothing of the kind."""
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    reason = transport_reason(error, timeouts, scrub)
    if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        message = f"Alyx at {base_url} is unreachable ({reason}) for {call}{tries}{RUN_AGAIN}"
        return AlyxUnreachable(None, one_line(message))
    if isinstance(error, httpx.ProxyError):
        message = f"the proxy to Alyx at {base_url} failed ({reason}) for {call}{tries}"
        return AlyxUnreachable(None, one_line(message + "; check the HTTP(S)_PROXY settings"))
    unknown = (
        "; it may have been done: labledger looks it up on Alyx before sending it again"
        if create
        else ""
    )
    if isinstance(error, httpx.ReadTimeout | httpx.WriteTimeout):
        which = "read" if isinstance(error, httpx.ReadTimeout) else "write"
        seconds = timeouts.read if which == "read" else timeouts.write
        message = f"Alyx did not answer {call} within {seconds:g} s ({which} timeout){tries}"
        return AlyxNoReply(None, one_line(message + unknown))
    if isinstance(error, httpx.ReadError | httpx.WriteError | httpx.RemoteProtocolError):
        message = f"the connection to Alyx dropped during {call} ({reason}){tries}"
        return AlyxNoReply(None, one_line(message + unknown))
    message = f"{call} to Alyx at {base_url} failed: {type(error).__name__}: {reason}"
    return AlyxError(None, one_line(message))


def transport_reason(error: httpx.RequestError, timeouts: httpx.Timeout, scrub: Scrub) -> str:
    """Why a call got no HTTP reply, in a few words ("connection refused", "no connection
    within 5 s")."""
    if isinstance(error, httpx.ConnectTimeout):
        return f"no connection within {timeouts.connect:g} s"
    if isinstance(error, httpx.PoolTimeout):
        return f"no free connection within {timeouts.pool:g} s"
    if isinstance(error, httpx.ReadTimeout):
        return f"no answer within {timeouts.read:g} s"
    return scrub(_reason(error))


def _reason(error: Exception) -> str:
    """``[Errno 111] Connection refused`` → ``connection refused``; the class name if empty."""
    text = re.sub(r"^\[Errno [-\d]+\]\s*", "", " ".join(str(error).split()))
    text = text.rstrip(".")  # it goes inside a sentence, in parentheses
    if not text:
        return type(error).__name__
    return text[:1].lower() + text[1:]
