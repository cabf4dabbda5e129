"""Fault injection and the wire log of the Alyx test server.

A `FaultRule` says what to do to the requests it matches (method, and a path prefix or regular
expression): `status` answers an error without acting (JSON, or an HTML page like a proxy, with
`Retry-After` when given); `delay` sleeps before acting and replying (client timeouts); `drop`
closes the connection without acting or replying; `lose_reply` acts fully and then closes the
connection without replying (the reply lost after the server acted). `times` counts how often it
fires (`None`: always); `skip` lets that many matching requests through first. Rules are tried in
the order added; the first that fires wins. Tests change rules while the server runs.

`RequestLog` records every request as it arrived (method, path, query, decoded body, whether an
`Authorization` header was sent, the fault applied) so tests can compare what clients put on the
wire.
"""

from __future__ import annotations

import json
import random
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Literal

FaultKind = Literal["status", "delay", "drop", "lose_reply"]

PROXY_HTML = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
"""A reverse proxy's error page: a non-JSON body that hid the status from ONE."""


@dataclass
class FaultRule:
    """One fault; `seen`/`fired` count the matching requests and those it acted on."""

    method: str | None
    path: str | re.Pattern[str]
    kind: FaultKind
    times: int | None = 1
    skip: int = 0
    status: int = 500
    body: Any = None
    content_type: str | None = None
    retry_after: str | float | None = None
    seconds: float = 0.0
    seen: int = 0
    fired: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if isinstance(self.path, re.Pattern):
            return self.path.search(path) is not None
        return path.startswith(self.path)

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def payload(self) -> tuple[bytes, str]:
        """The body and content type a `status` fault answers with."""
        if isinstance(self.body, str):
            return self.body.encode(), self.content_type or "text/html; charset=utf-8"
        body = self.body
        if body is None:
            body = {"detail": _reason(self.status), "status_code": self.status}
        return json.dumps(body).encode(), self.content_type or "application/json"

    def headers(self) -> dict[str, str]:
        return {} if self.retry_after is None else {"Retry-After": _number(self.retry_after)}


RANDOM_FAULTS: tuple[FaultRule, ...] = (
    FaultRule(None, "", "status", times=None, status=503, retry_after=1),
    FaultRule(None, "", "drop", times=None),
    FaultRule(None, "", "lose_reply", times=None),
)
"""What `Faults.at_random` does to a request it picks: the faults a client must live through
without losing or doubling work (no delays: a newcomer trying the server would only wait)."""


class Faults:
    """The rules in force, changeable at any time from the test thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._random: tuple[float, random.Random, tuple[FaultRule, ...]] | None = None

    def at_random(
        self, rate: float, seed: int, faults: tuple[FaultRule, ...] = RANDOM_FAULTS
    ) -> None:
        """Meet about `rate` (0 to 1) of the requests no rule caught with one of `faults`
        (`RANDOM_FAULTS` by default), drawn from a generator seeded with `seed`: the same
        requests in the same order meet the same faults. A rate of 0 ends it."""
        if not 0 <= rate <= 1:
            raise ValueError(f"a fault rate is between 0 and 1, not {rate}")
        with self._lock:
            self._random = (rate, random.Random(seed), faults) if rate else None

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            self._rules.append(rule)
        return rule

    def remove(self, rule: FaultRule) -> None:
        """Take back one rule added earlier (the others stay)."""
        with self._lock:
            self._rules.remove(rule)

    def status(
        self,
        method: str | None,
        path: str | re.Pattern[str],
        status: int = 500,
        *,
        body: Any = None,
        html: bool = False,
        retry_after: str | float | None = None,
        times: int | None = 1,
        skip: int = 0,
    ) -> FaultRule:
        """Answer `status` without acting: JSON `body` (default `{"detail", "status_code"}`),
        a text body when `body` is a string, the proxy page `PROXY_HTML` when `html`."""
        return self.add(
            FaultRule(
                method,
                path,
                "status",
                times=times,
                skip=skip,
                status=status,
                body=PROXY_HTML if html and body is None else body,
                retry_after=retry_after,
            )
        )

    def throttle(
        self,
        method: str | None,
        path: str | re.Pattern[str],
        seconds: int = 1,
        *,
        times: int | None = 1,
        skip: int = 0,
    ) -> FaultRule:
        """Alyx's throttling reply: 429, `Retry-After: <seconds>` and its `detail`."""
        body = {
            "detail": f"Request was throttled. Expected available in {seconds} seconds.",
            "status_code": 429,
        }
        return self.status(
            method, path, 429, body=body, retry_after=seconds, times=times, skip=skip
        )

    def delay(
        self,
        method: str | None,
        path: str | re.Pattern[str],
        seconds: float,
        *,
        times: int | None = 1,
        skip: int = 0,
    ) -> FaultRule:
        """Sleep `seconds` before acting and replying (the server still acts afterwards)."""
        return self.add(FaultRule(method, path, "delay", times=times, skip=skip, seconds=seconds))

    def drop(
        self,
        method: str | None,
        path: str | re.Pattern[str],
        *,
        times: int | None = 1,
        skip: int = 0,
    ) -> FaultRule:
        """Close the connection without acting or replying."""
        return self.add(FaultRule(method, path, "drop", times=times, skip=skip))

    def lose_reply(
        self,
        method: str | None,
        path: str | re.Pattern[str],
        *,
        times: int | None = 1,
        skip: int = 0,
    ) -> FaultRule:
        """Act fully, then close the connection without replying."""
        return self.add(FaultRule(method, path, "lose_reply", times=times, skip=skip))

    def clear(self) -> None:
        """No fault any more: the rules and the random faults are gone."""
        with self._lock:
            self._rules.clear()
            self._random = None

    @property
    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def take(self, method: str, path: str) -> FaultRule | None:
        """The rule that fires for this request, its counters updated (None: no fault)."""
        with self._lock:
            for rule in self._rules:
                if rule.exhausted or not rule.matches(method, path):
                    continue
                rule.seen += 1
                if rule.seen <= rule.skip:
                    continue
                rule.fired += 1
                return rule
            if self._random is not None:
                rate, draw, faults = self._random
                if draw.random() < rate:
                    return draw.choice(faults)
        return None


@dataclass(frozen=True)
class LoggedRequest:
    """One request as it arrived."""

    method: str
    path: str
    query: dict[str, list[str]] = field(default_factory=dict)
    body: Any = None
    has_auth: bool = False
    content_type: str | None = None
    fault: FaultKind | None = None

    @property
    def line(self) -> str:
        """`"POST /register-file"`: handy for comparing sequences of calls."""
        return f"{self.method} {self.path}"


class RequestLog:
    """Every request the server received, in arrival order (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[LoggedRequest] = []

    def append(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._entries.append(entry)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def all(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._entries)

    def calls(
        self, method: str | None = None, path: str | re.Pattern[str] | None = None
    ) -> list[LoggedRequest]:
        """The requests with this method and path (exact path, or regex searched)."""
        return [
            entry
            for entry in self.all()
            if (method is None or entry.method == method.upper())
            and (
                path is None
                or (
                    path.search(entry.path) is not None
                    if isinstance(path, re.Pattern)
                    else entry.path.rstrip("/") == path.rstrip("/")
                )
            )
        ]

    def lines(self) -> list[str]:
        return [entry.line for entry in self.all()]

    def __iter__(self) -> Iterator[LoggedRequest]:
        return iter(self.all())

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __getitem__(self, index: int) -> LoggedRequest:
        with self._lock:
            return self._entries[index]


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def _number(value: str | float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
