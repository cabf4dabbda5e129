"""The Alyx client against a scripted server (httpx.MockTransport) and two real sockets.

Each test scripts the replies Alyx 3.6.1 gives (the observed bodies in the shared fixtures) and
checks what the client sent, how long it waited (a fake sleep records the waits) and the one-line
error it raised. The real-socket tests prove the same code path meets a closed port and a server
that never answers with the right error, quickly.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import stat
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from labledger.adapters.alyx.client import AlyxClient, retry_after_seconds
from labledger.adapters.alyx.errors import (
    AlyxError,
    AlyxLoginNeeded,
    AlyxLoginRefused,
    AlyxNeedsOperator,
    AlyxNoReply,
    AlyxNotJson,
    AlyxRefused,
    AlyxServerError,
    AlyxThrottled,
    AlyxUnreachable,
    needs_operator,
    protected_details_of,
)
from labledger.adapters.alyx.reference_data import (
    DATA_FORMATS_FILE,
    DATASET_TYPES_FILE,
    fetch_labs,
    fetch_reference_data,
    load_default_reference_data,
    load_reference_data,
)
from labledger.adapters.alyx.settings import AlyxSettings
from labledger.adapters.alyx.tokens import TokenCache
from labledger.adapters.filesystem.atomic import write_if_changed
from labledger.domain.errors import InvalidSettings, LabledgerError
from tests.fixture_paths import ALYX_FIXTURES, PACKAGED_REFERENCE

BASE = "http://alyx.local"
USER = "test_user"
PASSWORD = "pa55-Wörd-never-shown"
TOKEN = json.loads((ALYX_FIXTURES / "auth-token.200.json").read_text())["token"]
PACKAGE_DIR = PACKAGED_REFERENCE
EID = "1d2e3f40-0000-4000-8000-000000000001"

Reply = httpx.Response | type[httpx.RequestError] | Callable[[httpx.Request], httpx.Response]


def fixture(name: str) -> Any:
    return json.loads((ALYX_FIXTURES / name).read_text(encoding="utf-8"))


def reply(status: int, body: Any = None, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


class ScriptedAlyx:
    """Replies per "METHOD /path" in order, the last one repeating; records every request."""

    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {"POST /auth-token": [reply(200, {"token": TOKEN})]}
        self.requests: list[httpx.Request] = []

    def on(self, route: str, *replies: Reply) -> ScriptedAlyx:
        self.routes[route] = list(replies)
        return self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        replies = self.routes[f"{request.method} {request.url.path}"]
        answer = replies.pop(0) if len(replies) > 1 else replies[0]
        if isinstance(answer, type):
            raise answer("scripted failure", request=request)
        return answer(request) if callable(answer) else answer

    def calls(self) -> list[str]:
        return [f"{request.method} {request.url.path}" for request in self.requests]


class Sleeps(list[float]):
    """A fake `sleep` that records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    return tmp_path / "data" / "alyx-tokens.json"


@pytest.fixture
def connect(token_file: Path, sleeps: Sleeps) -> Iterator[Callable[..., AlyxClient]]:
    """`connect(alyx, **settings)`: a client on the scripted server (closed after the test)."""
    clients: list[AlyxClient] = []

    def make(alyx: ScriptedAlyx, **settings: Any) -> AlyxClient:
        values = {"base_url": BASE, "password": PASSWORD, **settings}
        client = AlyxClient(
            AlyxSettings.model_validate(values),
            USER,
            transport=httpx.MockTransport(alyx),
            sleep=sleeps,
            token_file=token_file,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def cache_token(token_file: Path, token: str = TOKEN) -> None:
    TokenCache(token_file).put(BASE, USER, token)


# -- login and the token cache -------------------------------------------------------------------


def test_login_caches_the_token_in_a_private_file_and_a_second_client_reuses_it(
    connect: Callable[..., AlyxClient], token_file: Path
) -> None:
    alyx = ScriptedAlyx().on(f"GET /sessions/{EID}", reply(200, fixture("sessions.read.200.json")))
    assert connect(alyx).get(f"/sessions/{EID}") == fixture("sessions.read.200.json")

    assert alyx.calls() == ["POST /auth-token", f"GET /sessions/{EID}"]
    login, get = alyx.requests
    assert json.loads(login.content) == {"username": USER, "password": PASSWORD}
    assert "authorization" not in login.headers
    assert get.headers["authorization"] == f"Token {TOKEN}"
    assert get.headers["accept"] == "application/json"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert json.loads(token_file.read_text()) == {BASE: {USER: TOKEN}}

    again = ScriptedAlyx().on(f"GET /sessions/{EID}", reply(200, {"id": EID}))
    connect(again, password=None).get(f"sessions/{EID}")
    assert again.calls() == [f"GET /sessions/{EID}"]
    assert again.requests[0].headers["authorization"] == f"Token {TOKEN}"


def test_the_token_file_is_private_whatever_the_umask_and_a_broad_mode_is_narrowed(
    token_file: Path,
) -> None:
    previous = os.umask(0)
    try:
        cache_token(token_file)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert [p.name for p in token_file.parent.iterdir()] == [token_file.name]  # no temp left

    token_file.chmod(0o644)
    assert TokenCache(token_file).get(BASE, USER) == TOKEN
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600


def test_tokens_are_kept_per_server_and_user(token_file: Path) -> None:
    cache = TokenCache(token_file)
    cache.put(BASE, USER, "a" * 40)
    cache.put(BASE, "other", "b" * 40)
    cache.put("https://alyx.example.org", USER, "c" * 40)
    assert cache.get(BASE, USER) == "a" * 40
    assert cache.get("https://alyx.example.org", USER) == "c" * 40
    cache.drop(BASE, USER)
    assert cache.get(BASE, USER) is None
    assert cache.get(BASE, "other") == "b" * 40
    token_file.write_text("not json")
    assert cache.get(BASE, USER) is None  # a malformed cache costs one login, nothing more


def test_an_invalid_token_is_replaced_once_and_the_call_repeated(
    connect: Callable[..., AlyxClient], token_file: Path
) -> None:
    cache_token(token_file, "f" * 40)
    invalid = reply(403, fixture("error.403-invalid-token.json"))
    alyx = ScriptedAlyx().on("GET /subjects/algernon", invalid, reply(200, {"nickname": "x"}))
    assert connect(alyx).get("/subjects/algernon") == {"nickname": "x"}
    assert alyx.calls() == ["GET /subjects/algernon", "POST /auth-token", "GET /subjects/algernon"]
    assert [r.headers.get("authorization") for r in alyx.requests] == [
        f"Token {'f' * 40}",
        None,
        f"Token {TOKEN}",
    ]
    assert TokenCache(token_file).get(BASE, USER) == TOKEN


def test_a_token_refused_again_after_login_is_an_error_not_a_loop(
    connect: Callable[..., AlyxClient],
) -> None:
    alyx = ScriptedAlyx().on("GET /users/test_user", reply(403, {"detail": "Invalid token."}))
    with pytest.raises(AlyxRefused) as caught:
        connect(alyx).get("/users/test_user")
    once = ["POST /auth-token", "GET /users/test_user"]
    assert alyx.calls() == once * 2
    assert str(caught.value) == "Alyx refused GET /users/test_user (403): Invalid token."


def test_no_password_and_no_cached_token_names_the_setting(
    connect: Callable[..., AlyxClient],
) -> None:
    alyx = ScriptedAlyx()
    with pytest.raises(AlyxLoginNeeded) as caught:
        connect(alyx, password=None).get("/sessions")
    message = str(caught.value)
    assert "alyx.password" in message and "LABLEDGER_ALYX__PASSWORD" in message
    assert "\n" not in message and isinstance(caught.value, InvalidSettings)
    assert alyx.requests == []


def test_a_refused_cached_token_without_password_names_the_setting(
    connect: Callable[..., AlyxClient], token_file: Path
) -> None:
    cache_token(token_file, "f" * 40)
    alyx = ScriptedAlyx().on("GET /sessions", reply(403, fixture("error.403-invalid-token.json")))
    with pytest.raises(AlyxLoginNeeded, match=r"refused the cached token .* alyx\.password"):
        connect(alyx, password=None).get("/sessions")
    assert TokenCache(token_file).get(BASE, USER) is None  # not tried again next run


def test_wrong_credentials_are_refused_with_the_settings_to_check(
    connect: Callable[..., AlyxClient],
) -> None:
    alyx = ScriptedAlyx().on(
        "POST /auth-token", reply(400, fixture("auth-token.400-bad-credentials.json"))
    )
    client = connect(alyx)
    with pytest.raises(AlyxLoginRefused) as caught:
        client.get("/sessions")
    assert str(caught.value) == (
        f"Alyx at {client.base_url} refused the login of test_user (400: Unable to log in with "
        "provided credentials.); check alyx.username and alyx.password (or "
        "LABLEDGER_ALYX__PASSWORD); the work stays pending"
    )
    assert caught.value.keeps_pending and not caught.value.retryable
    with pytest.raises(AlyxLoginRefused):  # a refused login is not tried again in this run
        client.get("/subjects/algernon")
    assert alyx.calls() == ["POST /auth-token"]


def test_threads_sharing_a_client_log_in_once(connect: Callable[..., AlyxClient]) -> None:
    alyx = ScriptedAlyx().on("GET /labs", reply(200, []))
    client = connect(alyx)
    threads = [threading.Thread(target=client.get, args=("/labs",)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert alyx.calls().count("POST /auth-token") == 1
    assert alyx.calls().count("GET /labs") == 8


# -- calls, endpoints, pagination ----------------------------------------------------------------


def test_each_method_sends_json_and_returns_the_parsed_reply(
    connect: Callable[..., AlyxClient], token_file: Path
) -> None:
    cache_token(token_file)
    alyx = (
        ScriptedAlyx()
        .on("POST /sessions", reply(201, {"id": EID}))
        .on(f"PUT /sessions/{EID}", reply(200, {"id": EID, "n": 1}))
        .on(f"PATCH /datasets/{EID}", reply(200, {"tags": ["t"]}))
        .on("GET /check-protected", reply(200, fixture("check-protected.200.json")))
        .on(f"DELETE /sessions/{EID}", reply(204))
    )
    client = connect(alyx)
    assert client.post("/sessions", {"subject": "algernon"}, retry=False) == {"id": EID}
    assert client.put(f"/sessions/{EID}", {"n": 1}) == {"id": EID, "n": 1}
    assert client.patch(f"{BASE}/datasets/{EID}", {"tags": ["t"]}) == {"tags": ["t"]}
    request = fixture("check-protected.request.json")
    assert client.get_json_body("check-protected", request) == fixture("check-protected.200.json")
    sent = alyx.requests
    assert [r.method for r in sent] == ["POST", "PUT", "PATCH", "GET"]
    assert json.loads(sent[0].content) == {"subject": "algernon"}
    assert json.loads(sent[3].content) == request
    assert all(r.headers["content-type"] == "application/json" for r in sent)


def test_full_urls_must_lie_under_the_base_url(
    connect: Callable[..., AlyxClient], token_file: Path
) -> None:
    TokenCache(token_file).put(f"{BASE}/alyx", USER, TOKEN)
    alyx = ScriptedAlyx().on(f"GET /alyx/sessions/{EID}", reply(200, {}))
    client = connect(alyx, base_url=f"{BASE}/alyx/")
    client.get(f"/sessions/{EID}")
    client.get(f"https://alyx.local/alyx/sessions/{EID}")  # a proxy's scheme is tolerated
    assert [str(r.url) for r in alyx.requests] == [f"{BASE}/alyx/sessions/{EID}"] * 2
    for foreign in (f"http://elsewhere/alyx/sessions/{EID}", f"{BASE}/alyxx/sessions/{EID}"):
        with pytest.raises(ValueError, match="not under the Alyx base URL"):
            client.get(foreign)


def test_list_follows_next_across_three_pages(
    connect: Callable[..., AlyxClient], token_file: Path
) -> None:
    cache_token(token_file)
    items = [{"name": f"type{i}"} for i in range(5)]

    def page(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params.get("offset", 0))
        following = offset + 2 < len(items)
        # the server names its own scheme: only the query of `next` is used
        next_url = f"https://alyx.local/dataset-types?limit=2&offset={offset + 2}&x=1"
        return reply(
            200,
            {
                "count": len(items),
                "next": next_url if following else None,
                "previous": None,
                "results": items[offset : offset + 2],
            },
        )

    alyx = ScriptedAlyx().on("GET /dataset-types", page)
    assert connect(alyx).list("/dataset-types", {"x": 1}) == items
    assert [str(r.url) for r in alyx.requests] == [
        f"{BASE}/dataset-types?x=1",
        f"{BASE}/dataset-types?limit=2&offset=2&x=1",
        f"{BASE}/dataset-types?limit=2&offset=4&x=1",
    ]


def test_list_accepts_a_bare_list(connect: Callable[..., AlyxClient], token_file: Path) -> None:
    cache_token(token_file)
    alyx = ScriptedAlyx().on("GET /water-type", reply(200, [{"name": "Water"}]))
    assert connect(alyx).list("water-type") == [{"name": "Water"}]


def test_timeouts_are_explicit_on_every_request(
    connect: Callable[..., AlyxClient], token_file: Path
) -> None:
    cache_token(token_file)
    alyx = ScriptedAlyx().on("GET /labs", reply(200, []))
    client = connect(alyx, connect_timeout=2.0, read_timeout=3.0)
    assert client.timeout == httpx.Timeout(connect=2.0, read=3.0, write=3.0, pool=3.0)
    client.get("/labs")
    assert alyx.requests[0].extensions["timeout"] == {
        "connect": 2.0,
        "read": 3.0,
        "write": 3.0,
        "pool": 3.0,
    }


# -- errors: one line each, in the server's words ------------------------------------------------

ERROR_FORMS = [
    (
        "sessions.create.400-unknown-subject.json",
        "POST /sessions",
        AlyxNeedsOperator,
        "Alyx has no subject nobody; create it on Alyx, or correct the folder name (the work "
        "stays pending); Alyx refused POST /sessions (400): subject: Object with nickname=nobody "
        "does not exist.",
    ),
    (
        "sessions.create.400-unknown-references.json",
        "POST /sessions",
        AlyxNeedsOperator,
        "Alyx has no user ghost; set alyx.username (or --users / --user) to an Alyx user (the "
        "work stays pending); Alyx refused POST /sessions (400): users: Object with "
        "username=ghost does not exist.; procedures: Object with name=Nope does not exist.; lab: "
        "Object with name=nolab does not exist.; projects: O…",
    ),
    (
        "weighings.400-negative-weight.json",
        "POST /weighings",
        AlyxRefused,
        "Alyx refused POST /weighings (400): weight: Ensure this value is greater than or equal "
        "to 0.",
    ),
    (
        "register-file.400-unknown-subject.json",
        "POST /register-file",
        AlyxNeedsOperator,
        "Alyx has no subject nobody; create it on Alyx, or correct the folder name (the work "
        'stays pending); Alyx refused POST /register-file (400): A subject with nickname "nobody" '
        "does not exist.",
    ),
    (
        "register-file.400-unknown-repository.json",
        "POST /register-file",
        AlyxNeedsOperator,
        "Alyx has no such data repository; set alyx.repository (or --repository) to one it knows "
        "(the work stays pending); Alyx refused POST /register-file (400): The specified "
        "repository does not exist.",
    ),
    (
        "register-file.403-protected.json",
        "POST /register-file",
        AlyxRefused,
        "Alyx refused POST /register-file (403): One or more datasets is protected "
        "(2 files checked)",
    ),
    (
        "register-file.403-cannot-patch.json",
        "POST /register-file",
        AlyxRefused,
        "Alyx refused POST /register-file (403): Dataset 7ea2541d-94e1-4392-b683-9ec15c2df1a6 "
        "is protected, cannot patch",
    ),
    (
        "sessions.read.404.json",
        f"GET /sessions/{EID}",
        AlyxRefused,
        f"Alyx refused GET /sessions/{EID} (404): No Session matches the given query.",
    ),
    (
        "error.403-no-credentials.json",
        "GET /sessions",
        AlyxNeedsOperator,
        "Alyx refused GET /sessions (403): Authentication credentials were not provided.; the "
        "token was not accepted: check alyx.username and alyx.password (the work stays pending)",
    ),
    (
        "sessions.list.400-bad-number.json",
        "GET /sessions",
        AlyxRefused,
        "Alyx refused GET /sessions (400): number: Enter a number.",
    ),
    (
        "register-file.500-no-dataset-type.json",
        "POST /register-file",
        AlyxServerError,
        'Alyx failed on POST /register-file (500): No dataset type found for filename "'
        '_ibl_trials.table.pqt"',
    ),
    (
        "register-file.500-unauthenticated-without-created-by.json",
        "POST /register-file",
        AlyxServerError,
        'Alyx failed on POST /register-file (500): null value in column "labmember_id" of '
        'relation "actions_session_users" violates not-null constraint DETAIL: Failing row '
        "contains (5, ca107fe1-8010-415d-9fe0-45e00f5e12df, null).",
    ),
]


@pytest.mark.parametrize(("name", "route", "kind", "expected"), ERROR_FORMS)
def test_each_error_form_becomes_one_line_in_the_servers_words(
    connect: Callable[..., AlyxClient],
    token_file: Path,
    sleeps: Sleeps,
    name: str,
    route: str,
    kind: type[AlyxError],
    expected: str,
) -> None:
    cache_token(token_file)
    body = fixture(name)
    alyx = ScriptedAlyx().on(route, reply(body["status_code"], body))
    client = connect(alyx)
    method, endpoint = route.split(" ")
    with pytest.raises(kind) as caught:
        if method == "GET":
            client.get(endpoint)
        else:
            client.post(endpoint, {}, retry=endpoint == "/register-file")
    error = caught.value
    assert str(error) == expected
    assert len(str(error)) <= 300 and "\n" not in str(error)
    assert (error.status, error.body, error.retryable) == (body["status_code"], body, False)
    assert isinstance(error, LabledgerError)
    assert len(alyx.requests) == 1 and sleeps == []  # final errors are not retried


def test_the_protected_reply_is_recognisable(connect: Callable[..., AlyxClient]) -> None:
    body = fixture("register-file.403-protected.json")
    alyx = ScriptedAlyx().on("POST /register-file", reply(403, body))
    with pytest.raises(AlyxRefused) as caught:
        connect(alyx).post("/register-file", {}, retry=True)
    assert caught.value.protected_details == body["details"]
    assert protected_details_of(fixture("check-protected.200-protected.json")) is not None
    assert protected_details_of(fixture("check-protected.200.json")) is None
    assert protected_details_of(fixture("register-file.403-cannot-patch.json")) is None


NGINX_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body></html>"
)


def test_an_html_reply_shows_its_status_and_first_line(
    connect: Callable[..., AlyxClient], token_file: Path
) -> None:
    cache_token(token_file)
    alyx = ScriptedAlyx().on("GET /sessions", httpx.Response(502, text=NGINX_502))
    with pytest.raises(AlyxNotJson) as caught:
        connect(alyx, max_attempts=1).get("/sessions")
    assert str(caught.value) == "Alyx sent a reply that is not JSON to GET /sessions (502): " + (
        "502 Bad Gateway"
    )
    assert caught.value.retryable and caught.value.status == 502

    portal = ScriptedAlyx().on("GET /sessions", httpx.Response(200, text="Welcome &amp; log in"))
    with pytest.raises(AlyxNotJson, match=r"\(200\): Welcome & log in; check that alyx.base_url"):
        connect(portal).get("/sessions")


def test_a_redirect_is_not_followed_and_names_the_setting(
    connect: Callable[..., AlyxClient], token_file: Path
) -> None:
    cache_token(token_file)
    moved = httpx.Response(301, headers={"location": "https://alyx.local/sessions"})
    alyx = ScriptedAlyx().on("GET /sessions", moved)
    with pytest.raises(AlyxRefused, match=r"redirected GET /sessions \(301\) to https://alyx"):
        connect(alyx).get("/sessions")
    assert len(alyx.requests) == 1


# -- retries --------------------------------------------------------------------------------------


def test_429_waits_retry_after_in_seconds(
    connect: Callable[..., AlyxClient], token_file: Path, sleeps: Sleeps
) -> None:
    cache_token(token_file)
    throttled = reply(429, {"detail": "Request was throttled."}, **{"Retry-After": "7"})
    alyx = ScriptedAlyx().on("GET /sessions", throttled, reply(200, []))
    assert connect(alyx).get("/sessions") == []
    assert len(alyx.requests) == 2
    assert len(sleeps) == 1 and 7 <= sleeps[0] <= 8  # plus up to 1 s of jitter


def test_429_waits_retry_after_as_an_http_date(
    connect: Callable[..., AlyxClient], token_file: Path, sleeps: Sleeps
) -> None:
    cache_token(token_file)
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    throttled = reply(429, {"detail": "Request was throttled."}, **{"Retry-After": when})
    alyx = ScriptedAlyx().on("GET /sessions", throttled, reply(200, []))
    connect(alyx).get("/sessions")
    assert len(sleeps) == 1 and 27 <= sleeps[0] <= 31


def test_retry_after_forms() -> None:
    now = datetime(2026, 11, 21, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("120", now) == 120
    assert retry_after_seconds("Sat, 21 Nov 2026 12:00:30 GMT", now) == 30
    assert retry_after_seconds("Sat, 21 Nov 2026 11:00:00 GMT", now) == 0  # already past
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None, now) is None


def test_503_then_success_is_retried_after_a_short_backoff(
    connect: Callable[..., AlyxClient], token_file: Path, sleeps: Sleeps
) -> None:
    cache_token(token_file)
    alyx = ScriptedAlyx().on("GET /sessions", reply(503, {"detail": "maintenance"}), reply(200, []))
    assert connect(alyx).get("/sessions") == []
    assert len(alyx.requests) == 2 and len(sleeps) == 1 and 0.25 <= sleeps[0] <= 0.5


def test_register_file_declared_idempotent_is_retried(
    connect: Callable[..., AlyxClient], token_file: Path, sleeps: Sleeps
) -> None:
    cache_token(token_file)
    created = reply(201, fixture("register-file.201.json"))
    alyx = ScriptedAlyx().on("POST /register-file", reply(503, {"detail": "busy"}), created)
    client = connect(alyx)
    assert client.post("/register-file", {}, retry=True) == fixture("register-file.201.json")
    assert len(alyx.requests) == 2 and len(sleeps) == 1


def test_max_attempts_exhausted_gives_a_retryable_error(
    connect: Callable[..., AlyxClient], token_file: Path, sleeps: Sleeps
) -> None:
    cache_token(token_file)
    alyx = ScriptedAlyx().on("GET /sessions", reply(503, {"detail": "maintenance"}))
    with pytest.raises(AlyxServerError) as caught:
        connect(alyx, max_attempts=3).get("/sessions")
    assert str(caught.value) == (
        "Alyx is unavailable for GET /sessions (503) after 3 attempts: maintenance"
    )
    assert caught.value.retryable and len(alyx.requests) == 3 and len(sleeps) == 2

    throttled = reply(429, fixture_throttled(), **{"Retry-After": "1"})
    alyx = ScriptedAlyx().on("GET /sessions", throttled)
    with pytest.raises(AlyxThrottled, match=r"\(429\) after 2 attempts: Request was throttled"):
        connect(alyx, max_attempts=2).get("/sessions")


def fixture_throttled() -> dict[str, Any]:
    return {"detail": "Request was throttled. Expected available in 1 seconds.", "status_code": 429}


def test_backoff_grows_with_jitter_and_is_capped_by_max_wait(
    connect: Callable[..., AlyxClient], token_file: Path, sleeps: Sleeps
) -> None:
    cache_token(token_file)
    alyx = ScriptedAlyx().on("GET /sessions", reply(502, {"detail": "bad gateway"}))
    with pytest.raises(AlyxServerError):
        connect(alyx, max_attempts=8, max_wait=1.5).get("/sessions")
    assert len(sleeps) == 7
    assert 0.25 <= sleeps[0] <= 0.5 and 0.5 <= sleeps[1] <= 1.0
    assert all(0.75 <= wait <= 1.5 for wait in sleeps[2:])


def test_a_retry_after_longer_than_max_wait_gives_up_at_once(
    connect: Callable[..., AlyxClient], token_file: Path, sleeps: Sleeps
) -> None:
    cache_token(token_file)
    throttled = reply(429, fixture_throttled(), **{"Retry-After": "600"})
    alyx = ScriptedAlyx().on("GET /sessions", throttled)
    with pytest.raises(AlyxThrottled, match=r"asks to wait 600 s, more than alyx\.max_wait"):
        connect(alyx, max_wait=60).get("/sessions")
    assert sleeps == [] and len(alyx.requests) == 1


def test_an_idempotent_call_is_retried_after_a_refused_connection(
    connect: Callable[..., AlyxClient], token_file: Path, sleeps: Sleeps
) -> None:
    cache_token(token_file)
    alyx = ScriptedAlyx().on(
        f"PUT /sessions/{EID}", httpx.ConnectError, httpx.ConnectError, reply(200, {"id": EID})
    )
    assert connect(alyx).put(f"/sessions/{EID}", {}) == {"id": EID}
    assert len(alyx.requests) == 3 and len(sleeps) == 2


def test_a_hung_server_costs_one_timeout_per_run(
    connect: Callable[..., AlyxClient], token_file: Path, sleeps: Sleeps
) -> None:
    """A read timeout is not retried, and every later call of the run fails at once: the work
    is queued after one timeout instead of one per call and attempt."""
    cache_token(token_file)
    alyx = ScriptedAlyx().on(f"PUT /sessions/{EID}", httpx.ReadTimeout, reply(200, {"id": EID}))
    client = connect(alyx)
    with pytest.raises(AlyxNoReply):
        client.put(f"/sessions/{EID}", {})
    with pytest.raises(AlyxUnreachable) as later:
        client.get("/subjects/algernon")
    assert "not sent" in str(later.value) and later.value.keeps_pending
    assert len(alyx.requests) == 1 and sleeps == []


def test_a_create_is_sent_once_on_503(
    connect: Callable[..., AlyxClient], token_file: Path, sleeps: Sleeps
) -> None:
    cache_token(token_file)
    alyx = ScriptedAlyx().on("POST /weighings", reply(503, {"detail": "maintenance"}), reply(201))
    with pytest.raises(AlyxServerError) as caught:
        connect(alyx).post("/weighings", fixture("weighings.request.json"), retry=False)
    assert str(caught.value) == "Alyx is unavailable for POST /weighings (503): maintenance"
    assert caught.value.retryable and len(alyx.requests) == 1 and sleeps == []


@pytest.mark.parametrize("failure", [httpx.ReadTimeout, httpx.RemoteProtocolError])
def test_a_create_without_reply_is_no_reply_and_not_sent_again(
    connect: Callable[..., AlyxClient],
    token_file: Path,
    sleeps: Sleeps,
    failure: type[httpx.RequestError],
) -> None:
    cache_token(token_file)
    alyx = ScriptedAlyx().on("POST /sessions", failure, reply(201, {"id": EID}))
    with pytest.raises(AlyxNoReply) as caught:
        connect(alyx).post("/sessions", {"subject": "algernon"}, retry=False)
    assert "POST /sessions" in str(caught.value)
    assert "labledger looks it up on Alyx before sending it again" in str(caught.value)
    assert caught.value.retryable and len(alyx.requests) == 1 and sleeps == []


def test_a_create_that_could_not_connect_is_unreachable(
    connect: Callable[..., AlyxClient], token_file: Path, sleeps: Sleeps
) -> None:
    cache_token(token_file)
    alyx = ScriptedAlyx().on("POST /water-administrations", httpx.ConnectError)
    with pytest.raises(AlyxUnreachable) as caught:
        connect(alyx).post("/water-administrations", {}, retry=False)
    assert str(caught.value).startswith(
        f"Alyx at {BASE} is unreachable (scripted failure) for POST /water-administrations; "
    )
    assert "nothing was sent" in str(caught.value)
    assert caught.value.retryable and len(alyx.requests) == 1 and sleeps == []


# -- secrets --------------------------------------------------------------------------------------


def _texts(error: BaseException) -> str:
    return "\n".join(
        [str(error), repr(error), *traceback.format_exception(error), str(error.__cause__)]
    )


def test_password_and_token_never_appear_in_errors_reprs_or_logs(
    connect: Callable[..., AlyxClient],
    token_file: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    failures: list[BaseException] = []
    echo = reply(400, {"password": [f"{PASSWORD} is not your password"], "status_code": 400})
    alyx = ScriptedAlyx().on("POST /auth-token", echo)
    client = connect(alyx)
    with pytest.raises(AlyxRefused) as refused:
        client.get("/sessions")
    failures.append(refused.value)
    assert "***" in str(refused.value)

    def leak_token(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"proxy says {request.headers['authorization']}", request=request)

    def leak_in_body(request: httpx.Request) -> httpx.Response:
        detail = f"bad header {request.headers['authorization']}"
        return reply(500, {"detail": detail, "status_code": 500})

    def leak_in_html(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text=f"<h1>{request.headers['authorization']}</h1>")

    alyx = (
        ScriptedAlyx()
        .on("GET /a", leak_token)
        .on("GET /b", leak_in_body)
        .on("GET /c", leak_in_html)
        .on("POST /d", httpx.ReadTimeout)
    )
    client = connect(alyx, max_attempts=1)
    calls: list[Callable[[], object]] = [
        lambda: client.get("/a"),
        lambda: client.get("/b"),
        lambda: client.get("/c"),
        lambda: client.post("/d", {"password": PASSWORD}, retry=False),
    ]
    for call in calls:
        with pytest.raises(AlyxError) as caught:
            call()
        failures.append(caught.value)
    with pytest.raises(AlyxLoginNeeded) as needed:
        connect(ScriptedAlyx(), password=None, base_url="http://other.local").get("/x")
    failures.append(needed.value)

    shown = "\n".join(_texts(error) for error in failures)
    shown += repr(client) + repr(client._tokens) + caplog.text
    assert "Token ***" in shown
    assert PASSWORD not in shown and TOKEN not in shown


# -- real sockets ---------------------------------------------------------------------------------


@pytest.fixture
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("all_proxy", raising=False)


def _real_client(base_url: str, token_file: Path, sleeps: Sleeps, **settings: Any) -> AlyxClient:
    TokenCache(token_file).put(base_url, USER, TOKEN)
    values = {"base_url": base_url, "connect_timeout": 2.0, "read_timeout": 0.3, **settings}
    return AlyxClient(
        AlyxSettings.model_validate(values), USER, sleep=sleeps, token_file=token_file
    )


@pytest.mark.usefixtures("no_proxy")
def test_a_closed_port_is_unreachable_quickly(token_file: Path, sleeps: Sleeps) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again when the block ends: nobody listens
    base_url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    with (
        _real_client(base_url, token_file, sleeps, max_attempts=2) as client,
        pytest.raises(AlyxUnreachable) as caught,
    ):
        client.get("/sessions")
    assert time.monotonic() - started < 2
    assert str(caught.value).startswith(
        f"Alyx at {base_url} is unreachable (connection refused) for GET /sessions after 2 "
    )
    assert len(sleeps) == 1


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A server on 127.0.0.1 that accepts connections and reads, but never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.05)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            accepted.append(connection)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=2)
        for connection in accepted:
            connection.close()
        listener.close()


@pytest.mark.usefixtures("no_proxy")
def test_a_server_that_never_answers_gives_no_reply_after_the_read_timeout(
    silent_server: str, token_file: Path, sleeps: Sleeps
) -> None:
    started = time.monotonic()
    with (
        _real_client(silent_server, token_file, sleeps) as client,
        pytest.raises(AlyxNoReply) as caught,
    ):
        client.post("/sessions", {"subject": "algernon"}, retry=False)
    elapsed = time.monotonic() - started
    assert 0.25 <= elapsed < 2
    assert str(caught.value).startswith(
        "Alyx did not answer POST /sessions within 0.3 s (read timeout); it may have been done"
    )
    assert sleeps == []


# -- reference data -------------------------------------------------------------------------------


def _served_in_pages(name: str, size: int) -> Callable[[httpx.Request], httpx.Response]:
    results = fixture(name)["results"]

    def page(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params.get("offset", 0))
        end = offset + size
        following = f"{request.url.copy_with(query=None)}?limit={size}&offset={end}"
        return reply(
            200,
            {
                "count": len(results),
                "next": following if end < len(results) else None,
                "previous": None,
                "results": results[offset:end],
            },
        )

    return page


def test_fetch_reference_data_writes_a_cache_that_loads_offline(
    connect: Callable[..., AlyxClient], token_file: Path, tmp_path: Path
) -> None:
    cache_token(token_file)
    alyx = (
        ScriptedAlyx()
        .on("GET /dataset-types", _served_in_pages("dataset-types.list.200.json", 50))
        .on("GET /data-formats", reply(200, fixture("data-formats.list.200.json")))
        .on("GET /labs", reply(200, fixture("labs.list.200.json")))
    )
    cache_dir = tmp_path / "reference"
    client = connect(alyx)
    fetched = fetch_reference_data(client, cache_dir)
    assert alyx.calls().count("GET /dataset-types") == 3
    assert len(fetched.dataset_types) == 114 and len(fetched.data_formats) == 29
    assert load_reference_data(cache_dir) == fetched == load_default_reference_data()
    for name in (DATASET_TYPES_FILE, DATA_FORMATS_FILE):  # the packaged files' very format
        assert (cache_dir / name).read_bytes() == (PACKAGE_DIR / name).read_bytes()
    assert fetch_labs(client) == ["cortexlab"]
    # fetched again, unchanged: the cache files are left as they are (no fsync, no rename)
    before = {name: (cache_dir / name).stat().st_ino for name in (DATASET_TYPES_FILE,)}
    fetch_reference_data(client, cache_dir)
    assert {name: (cache_dir / name).stat().st_ino for name in before} == before


def test_write_if_changed_writes_only_what_changed(tmp_path: Path) -> None:
    target = tmp_path / "cache" / "labs.json"
    assert write_if_changed(target, '["cortexlab"]', mode=0o644)  # missing: written
    inode = target.stat().st_ino
    assert not write_if_changed(target, '["cortexlab"]', mode=0o644)
    assert target.stat().st_ino == inode
    assert write_if_changed(target, '["cortexlab", "mainenlab"]', mode=0o644)
    assert target.read_text() == '["cortexlab", "mainenlab"]'
    assert target.stat().st_mode & 0o777 == 0o644


def test_a_malformed_list_does_not_replace_a_good_cache(
    connect: Callable[..., AlyxClient], token_file: Path, tmp_path: Path
) -> None:
    cache_token(token_file)
    cache_dir = tmp_path / "reference"
    cache_dir.mkdir()
    good = (PACKAGE_DIR / DATASET_TYPES_FILE).read_bytes()
    (cache_dir / DATASET_TYPES_FILE).write_bytes(good)
    alyx = (
        ScriptedAlyx()
        .on("GET /dataset-types", reply(200, [{"name": "x", "filename_pattern": ""}]))
        .on("GET /data-formats", reply(200, [{"name": "bad", "file_extension": "npy"}]))
    )
    with pytest.raises(LabledgerError, match="data-formats list"):
        fetch_reference_data(connect(alyx), cache_dir)
    assert (cache_dir / DATASET_TYPES_FILE).read_bytes() == good
    assert not (cache_dir / DATA_FORMATS_FILE).exists()


NEEDS_OPERATOR_ROWS = [
    ("users: Object with username=ghost does not exist.", "Alyx has no user ghost"),
    ("created_by: Object with username=ghost does not exist.", "Alyx has no user ghost"),
    ("lab: Object with name=nolab does not exist.", "Alyx has no lab nolab; set lab"),
    ("subject: Object with nickname=nobody does not exist.", "Alyx has no subject nobody"),
    ('A subject with nickname "nobody" does not exist.', "Alyx has no subject nobody"),
    ("The specified repository does not exist.", "set alyx.repository"),
    ("LabMember matching query does not exist.", "set alyx.username"),
    (
        "A base session for ZM_1085 on 2026-11-21 does not exist",
        "the session ZM_1085 on 2026-11-21 is not on Alyx yet",
    ),
    ("location: Object with name=nowhere does not exist.", None),
    ("water_type: Object with name=Gin does not exist.", None),
    ("weight: Ensure this value is greater than or equal to 0.", None),
    (
        "procedures: Object with name=Nope does not exist.; "
        "lab: Object with name=x does not exist.",
        "Alyx has no lab x",
    ),
]
"""Each row of the table of names the operator fixes (the work waits) against the refusals of
a request's own content (closed: asked again, or `retry` once fixed on Alyx)."""


@pytest.mark.parametrize(("server_says", "fix"), NEEDS_OPERATOR_ROWS)
def test_which_refusals_wait_for_the_operator(server_says: str, fix: str | None) -> None:
    found = needs_operator(server_says)
    if fix is None:
        assert found is None
    else:
        assert found is not None and fix in found
