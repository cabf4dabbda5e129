"""The local Alyx 3.6.1 test server against the contract and the observed replies, and ONE-api
3.6.1's own `RegistrationClient` run end to end against it.

Replies are compared with `ALYX_FIXTURES` with the base URL substituted; generated values (ids,
urls, server timestamps) are dropped before comparing where the fixture's cannot be reproduced.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
import shutil
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import alyx_fixtures
from tests.alyx_server import (
    PROXY_HTML,
    TEST_PASSWORD,
    TEST_TOKEN,
    TEST_USER,
    AlyxState,
    AlyxTestServer,
    ApiRequest,
)
from tests.cli_helpers import SAMPLE_FILES
from tests.fixture_paths import ALYX_FIXTURES

EXAMPLE_SESSION = (
    Path(__file__).resolve().parents[1] / "examples/cortexlab/Subjects/algernon/2026-11-21/001"
)
VOLATILE = frozenset({"id", "url", "auto_datetime", "created_datetime"})
AUTH = {"Authorization": f"Token {TEST_TOKEN}"}

# The server fixtures, in case tests/conftest.py does not list tests.alyx_fixtures as a plugin.
alyx_server = alyx_fixtures.alyx_server
alyx_http = alyx_fixtures.alyx_http
one_client = alyx_fixtures.one_client


def fixture(name: str, base_url: str = "http://alyx.local") -> Any:
    """A fixture file, its `http://alyx.local` replaced by `base_url`."""
    text = (ALYX_FIXTURES / name).read_text(encoding="utf-8")
    return json.loads(text.replace("http://alyx.local", base_url))


def strip(value: Any, keys: frozenset[str] = VOLATILE) -> Any:
    """`value` without the given keys, at any depth."""
    if isinstance(value, dict):
        return {k: strip(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [strip(v, keys) for v in value]
    return value


def register(http: httpx.Client, body: dict[str, Any], **kwargs: Any) -> httpx.Response:
    return http.post("/register-file", json=body, **kwargs)


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture
def algernon(alyx_server: AlyxTestServer) -> str:
    """Session algernon/2026-11-21/001 (the observed sample session), its eid."""
    return alyx_server.state.add_session("algernon", "2026-11-21T00:00:00", 1).id


@pytest.fixture
def zm_1085(alyx_http: httpx.Client) -> str:
    """Session ZM_1085/2026-01-10/001 as `sessions.create-full.request.json` creates it."""
    reply = alyx_http.post("/sessions", json=fixture("sessions.create-full.request.json"))
    assert reply.status_code == 201
    return str(reply.json()["id"])


# -- transport ------------------------------------------------------------------------------------


def test_auth_token_form_or_json_and_bad_credentials(alyx_server: AlyxTestServer) -> None:
    url = alyx_server.url("/auth-token")
    credentials = {"username": TEST_USER, "password": TEST_PASSWORD}
    assert httpx.post(url, data=credentials).json() == fixture("auth-token.200.json")
    assert httpx.post(url, json=credentials).json() == fixture("auth-token.200.json")
    bad = httpx.post(url, data={**credentials, "password": "wrong"})
    assert bad.status_code == 400
    assert bad.json() == fixture("auth-token.400-bad-credentials.json")


def test_auth_errors(alyx_server: AlyxTestServer) -> None:
    url = alyx_server.url("/labs")
    for headers in ({}, {"Authorization": "Basic dGVzdF91c2VyOng="}):
        reply = httpx.get(url, headers=headers)
        assert (reply.status_code, reply.json()) == (403, fixture("error.403-no-credentials.json"))
    for method, path in (("GET", "/labs"), ("POST", "/register-file"), ("GET", "/check-protected")):
        reply = httpx.request(
            method, alyx_server.url(path), headers={"Authorization": "Token not-a-token"}
        )
        assert (reply.status_code, reply.json()) == (403, fixture("error.403-invalid-token.json"))
    ok = httpx.get(url, headers={**AUTH, "ONE-API-Version": "3.6.1"})
    assert ok.status_code == 200


LISTS = [
    ("/dataset-types", "dataset-types.list.200.json"),
    ("/dataset-types?limit=2", "dataset-types.list-limit2.200.json"),
    ("/data-formats", "data-formats.list.200.json"),
    ("/labs", "labs.list.200.json"),
    ("/data-repository", "data-repository.list.200.json"),
    ("/data-repository-type", "data-repository-type.list.200.json"),
    ("/projects", "projects.list.200.json"),
    ("/water-type", "water-type.list.200.json"),
    ("/subjects", "subjects.list.200.json"),
    ("/subjects/algernon", "subjects.read.200.json"),
    ("/users/test_user", "users.read.200.json"),
    ("/subjects/nobody", "subjects.read.404.json"),
    ("/users/nobody", "users.read.404.json"),
    (f"/sessions/{uuid.uuid4()}", "sessions.read.404.json"),
    ("/sessions/not-a-uuid", "sessions.read.404.json"),
    ("/tags/nope", "tags.read.404.json"),
]


def test_reference_lists_and_reads_reproduce_the_observed_replies(
    alyx_server: AlyxTestServer,
    alyx_http: httpx.Client,
) -> None:
    for path, name in LISTS:
        expected = fixture(name, alyx_server.base_url)
        reply = alyx_http.get(path)
        assert reply.status_code == int(name.split(".")[-2][:3]), path
        assert reply.json() == expected, path
        if "?" not in path:  # a `next` link would keep the slash
            assert alyx_http.get(path + "/").json() == expected, path
    counts = {
        path: alyx_http.get(path).json()["count"] for path in ("/dataset-types", "/data-formats")
    }
    assert counts == {"/dataset-types": 114, "/data-formats": 29}


def test_pagination(alyx_server: AlyxTestServer, alyx_http: httpx.Client) -> None:
    base = alyx_server.base_url
    second = alyx_http.get("/dataset-types?limit=2&offset=2").json()
    assert second["next"] == f"{base}/dataset-types?limit=2&offset=4"
    assert second["previous"] == f"{base}/dataset-types?limit=2"
    third = alyx_http.get("/dataset-types?offset=4&limit=2").json()
    assert third["previous"] == f"{base}/dataset-types?limit=2&offset=2"
    last = alyx_http.get("/dataset-types?limit=100&offset=100").json()
    assert (len(last["results"]), last["next"]) == (14, None)
    names = [t["name"] for t in alyx_http.get("/dataset-types").json()["results"]]
    paged: list[str] = []
    url: str | None = f"{base}/dataset-types?limit=50"
    while url:
        page = alyx_http.get(url).json()
        paged += [t["name"] for t in page["results"]]
        url = page["next"]
    assert paged == names
    state = alyx_server.state
    with state.lock:
        for _ in range(1200):
            state.create_weighing(
                ApiRequest("POST", "/weighings", body={"subject": "algernon", "weight": 20})
            )
    default = alyx_http.get("/weighings?subject=algernon").json()
    assert (default["count"], len(default["results"])) == (1200, 250)
    capped = alyx_http.get("/weighings?subject=algernon&limit=5000").json()
    assert len(capped["results"]) == 1000
    assert capped["next"] == f"{base}/weighings?limit=1000&offset=1000&subject=algernon"
    assert len(alyx_http.get("/weighings?limit=abc").json()["results"]) == 250


def test_api_schema_is_what_one_reads(alyx_http: httpx.Client) -> None:
    from one.webclient import RestSchemeOpenApi

    schema = RestSchemeOpenApi(alyx_http.get("/api/schema").json())
    assert {"sessions", "subjects", "users", "dataset-types", "data-formats", "weighings"} <= set(
        schema.endpoints
    )
    assert schema.actions("sessions") == ["create", "list", "partial_update", "read", "update"]
    assert {"subject", "date_range", "number"} <= set(schema.field_names("sessions", "list"))
    assert schema.url("sessions", "read") == "/sessions/{eid}"


# -- sessions -------------------------------------------------------------------------------------


def test_session_create_reproduces_the_observed_replies(alyx_http: httpx.Client) -> None:
    for request, reply_name in (
        ("sessions.create.request.json", "sessions.create.201.json"),
        ("sessions.create-full.request.json", "sessions.create-full.201.json"),
    ):
        reply = alyx_http.post("/sessions", json=fixture(request))
        assert reply.status_code == 201
        body = reply.json()
        assert body["url"].endswith(body["id"])
        assert strip(body) == strip(fixture(reply_name))


def test_session_create_validation(alyx_http: httpx.Client) -> None:
    valid = fixture("sessions.create.request.json")
    for changes, reply_name in (
        ({"location": "nowhere"}, "sessions.create.400-unknown-location.json"),
        ({"subject": "nobody"}, "sessions.create.400-unknown-subject.json"),
        (
            {"users": ["ghost"], "procedures": ["Nope"], "lab": "nolab", "projects": ["nope"]},
            "sessions.create.400-unknown-references.json",
        ),
    ):
        reply = alyx_http.post("/sessions", json={**valid, **changes})
        assert (reply.status_code, reply.json()) == (400, fixture(reply_name))
        assert list(reply.json()) == list(fixture(reply_name))  # Alyx's field order
    missing = alyx_http.post("/sessions", json={"number": "001", "start_time": "x"})
    assert missing.json() == {
        "subject": ["This field is required."],
        "start_time": [
            "Datetime has wrong format. Use one of these formats instead: "
            "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
        ],
        "status_code": 400,
    }
    assert alyx_http.get("/sessions").json()["count"] == 0


def test_sessions_are_never_deduplicated_and_list_newest_first(
    alyx_server: AlyxTestServer,
    alyx_http: httpx.Client,
) -> None:
    request = fixture("sessions.create.request.json")
    first = alyx_http.post("/sessions", json=request).json()
    second = alyx_http.post("/sessions", json=request).json()  # Alyx makes a duplicate
    alyx_http.post("/sessions", json={**request, "start_time": "2026-11-20T09:00:00"})
    lookup = "/sessions?date_range=2026-11-21%2C2026-11-21&number=001&subject=algernon"
    found = alyx_http.get(lookup).json()
    assert [s["id"] for s in found["results"]] == [second["id"], first["id"]]
    expected = fixture("sessions.list.200.json", alyx_server.base_url)
    assert strip(found["results"][0]) == strip(expected["results"][0])
    assert set(found) == set(expected)
    assert alyx_http.get(lookup.replace("algernon", "ALGERNON")).json()["count"] == 2
    everything = alyx_http.get("/sessions?date_range=2026-11-20,2026-11-21").json()["results"]
    assert [s["start_time"] for s in everything] == [
        "2026-11-21T00:00:00",
        "2026-11-21T00:00:00",
        "2026-11-20T09:00:00",
    ]
    empty = alyx_http.get(lookup.replace("algernon", "ZM_1085"))
    assert empty.json() == fixture("sessions.list.200-empty.json")
    bad = alyx_http.get("/sessions?number=abc")
    assert (bad.status_code, bad.json()) == (400, fixture("sessions.list.400-bad-number.json"))


def test_session_update_read_and_naive_utc(
    alyx_server: AlyxTestServer,
    alyx_http: httpx.Client,
    zm_1085: str,
) -> None:
    created = alyx_http.post("/sessions", json=fixture("sessions.create.request.json")).json()
    alyx_http.patch(f"/sessions/{created['id']}", json={"n_trials": 400})
    reply = alyx_http.put(
        f"/sessions/{created['id']}", json=fixture("sessions.update.request.json")
    )
    assert reply.status_code == 200
    expected = strip(fixture("sessions.update.200.json")) | {"n_trials": 400}  # not sent: stays
    assert strip(reply.json()) == expected
    register(
        alyx_http,
        fixture("register-file.named-repository.request.json")
        | {"filenames": ["alf/licks.times.npy", "alf/probe00/#2026-01-10#/spikes.times.npy"]},
    )
    alyx_http.post(
        "/water-administrations",
        json={"subject": "ZM_1085", "water_administered": 0.75, "session": zm_1085},
    )
    read = alyx_http.get(f"/sessions/{zm_1085}").json()
    observed = fixture("sessions.read.200.json")
    assert list(read) == list(observed)
    assert {tuple(d) for d in read["data_dataset_session_related"]} == {
        tuple(observed["data_dataset_session_related"][0])
    }
    assert [d["revision"] for d in read["data_dataset_session_related"]] == [
        alyx_server.state.find_datasets(zm_1085, revision="2026-01-10")[0].revision_id,
        "",
    ]
    assert {d["default_revision"] for d in read["data_dataset_session_related"]} == {"True"}
    assert [list(w) for w in read["wateradmin_session_related"]] == [
        list(observed["wateradmin_session_related"][0])
    ]
    aware = alyx_http.post(
        "/sessions",
        json={"subject": "algernon", "number": 1, "start_time": "2024-01-02T00:30:00+02:00"},
    )
    assert aware.json()["start_time"] == "2024-01-01T22:30:00"  # stored as naive UTC
    alyx_server.state.add_subject("algernon", lab="cortexlab")  # a nickname two labs share
    assert alyx_http.get("/subjects/algernon").status_code == 500


# -- register-file -------------------------------------------------------------------------------

REGISTER_VOLATILE = VOLATILE | {"session"}


def test_register_file_with_one_defaults_reproduces_the_observed_reply(
    alyx_http: httpx.Client,
    algernon: str,
) -> None:
    reply = register(alyx_http, fixture("register-file.request.json"))
    assert reply.status_code == 201
    assert all(item["session"] == algernon for item in reply.json())
    assert strip(reply.json(), REGISTER_VOLATILE) == strip(
        fixture("register-file.201.json"), REGISTER_VOLATILE
    )


def test_register_file_named_repository_comma_strings_and_server_only(
    alyx_server: AlyxTestServer,
    alyx_http: httpx.Client,
    zm_1085: str,
) -> None:
    for request, reply_name in (
        ("register-file.named-repository.request.json", "register-file.201-named-repository.json"),
        ("register-file.comma-strings.request.json", "register-file.201-comma-strings.json"),
    ):
        reply = register(alyx_http, fixture(request))
        assert reply.status_code == 201, reply.json()
        assert strip(reply.json(), REGISTER_VOLATILE) == strip(
            fixture(reply_name), REGISTER_VOLATILE
        )
    alyx_server.state.add_session("ZM_1085", "2026-11-21T00:00:00", 1)
    reply = register(alyx_http, fixture("register-file.server-only.request.json"))
    assert strip(reply.json(), REGISTER_VOLATILE) == strip(
        fixture("register-file.201-server-only.json"), REGISTER_VOLATILE
    )


BAD_REQUESTS: list[tuple[dict[str, Any], str]] = [
    ({"path": "ZM_1085/notadate"}, "register-file.400-bad-path.json"),
    ({"path": "nobody/2026-01-10/001"}, "register-file.400-unknown-subject.json"),
    ({"path": "ZM_1085/2026-11-21/001"}, "register-file.400-no-base-session.json"),
    ({"name": "nowhere"}, "register-file.400-unknown-repository.json"),
    ({"content_type": "subject"}, "register-file.400-content-type-without-object-id.json"),
    (
        {"content_type": "nosuchmodel", "object_id": str(uuid.uuid4())},
        "register-file.400-invalid-content-type.json",
    ),
    ({"filenames": ["alf/_ibl_trials.table.pqt"]}, "register-file.500-no-dataset-type.json"),
    ({"created_by": "ghost"}, "register-file.500-unknown-created-by.json"),
    ({"path": None}, "register-file.500-missing-path.json"),
]


def test_register_file_errors(
    alyx_server: AlyxTestServer,
    alyx_http: httpx.Client,
    zm_1085: str,
) -> None:
    valid: dict[str, Any] = {
        "created_by": TEST_USER,
        "path": "ZM_1085/2026-01-10/001",
        "filenames": ["alf/licks.times.npy"],
    }
    for changes, name in BAD_REQUESTS:
        reply = register(alyx_http, {**valid, **changes})
        expected = fixture(name)
        assert (reply.status_code, reply.json()) == (expected["status_code"], expected), name
    anonymous = httpx.post(
        alyx_server.url("/register-file"), json={**valid, "created_by": None}
    )  # no credentials needed; no created_by → the observed database error
    assert anonymous.status_code == 500
    assert re.fullmatch(
        r'null value in column "labmember_id" of relation "actions_session_users" violates '
        rf"not-null constraint\nDETAIL:  Failing row contains \(\d+, {zm_1085}, null\).\n",
        anonymous.json()["detail"],
    )
    with_creator = httpx.post(alyx_server.url("/register-file"), json=valid)
    assert with_creator.status_code == 201
    per_source: list[tuple[dict[str, Any], int, dict[str, str]]] = [
        (
            {"path": "ZM_1085/2026-01-10/002"},
            400,
            {"error": "A session for ZM_1085/2 on 2026-01-10 does not exist"},
        ),
        (
            {"filenames": ["alf/#v1#/sub/licks.times.npy"]},
            400,
            {
                "detail": "Invalid ALF path. There must be only 1 revision and it cannot containsub"
                " folders. A revision folder must be surrounded by pound signs (#)."
            },
        ),
        (
            {"labs": "nolab"},
            400,
            {"detail": "One or more of the specified labs do not exist."},
        ),
        (
            {"qc": "BAD"},
            400,
            {"detail": 'Invalid QC value "BAD" for dataset "alf/licks.times.npy"'},
        ),
        (
            {"filenames": ["README"]},  # no extension, two formats with ""
            500,
            {"detail": "get() returned more than one DataFormat -- it returned 2!"},
        ),
    ]
    alyx_server.state.add_dataset_type("README")
    for changes, status, body in per_source:
        reply = register(alyx_http, {**valid, **changes})
        assert reply.status_code == status, changes
        assert reply.json() == {**body, "status_code": status}


def _register_licks(http: httpx.Client, **changes: Any) -> dict[str, Any]:
    body = {
        "created_by": TEST_USER,
        "path": "algernon/2026-11-21/001",
        "filenames": ["alf/licks.times.npy"],
        "hashes": ["a" * 32],
        "filesizes": [10],
        **changes,
    }
    reply = register(http, body)
    assert reply.status_code == 201, reply.json()
    item: dict[str, Any] = reply.json()[0]
    return item


def _exists(item: dict[str, Any]) -> dict[str, bool]:
    return {r["data_repository"]: r["exists"] for r in item["file_records"]}


P1, P2, S = "cortexlab_local", "cortexlab_local2", "flatiron_cortexlab"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, {P1: False, P2: False, S: False}),
        ({"server_only": True}, {S: True}),
        ({"name": P1}, {P1: True, P2: False, S: False}),
        ({"name": P1, "exists": False}, {P1: False, P2: False, S: False}),
        ({"name": P1, "server_only": True}, {P1: True, S: True}),
        ({"name": P1, "server_only": True, "exists": False}, {P1: False, S: False}),
        ({"labs": "emptylab"}, {}),
    ],
    ids=[
        "defaults",
        "server-only",
        "name",
        "name-not-exists",
        "name-server-only",
        "all-off",
        "no-repos",
    ],
)
def test_file_records_and_exists_table(
    alyx_server: AlyxTestServer,
    alyx_http: httpx.Client,
    algernon: str,
    changes: dict[str, Any],
    expected: dict[str, bool],
) -> None:
    """File records and `exists`, row by row; the lab owns personal P1, P2 and server S."""
    alyx_server.state.add_repository(P2, personal=True)
    alyx_server.state.add_lab("emptylab")
    assert _exists(_register_licks(alyx_http, **changes)) == expected


def test_later_requests_add_records_but_never_flip_existing_ones(
    alyx_server: AlyxTestServer,
    alyx_http: httpx.Client,
    algernon: str,
) -> None:
    alyx_server.state.add_repository("elsewhere", personal=False, lab=None)
    assert _exists(_register_licks(alyx_http)) == {P1: False, S: False}
    assert _exists(_register_licks(alyx_http, name=S)) == {P1: False, S: False}  # not flipped
    named = _register_licks(alyx_http, name="elsewhere")  # a record added, new: exists
    assert _exists(named) == {P1: False, S: False, "elsewhere": True}
    patched = _register_licks(alyx_http, hashes=["b" * 32])  # only the current set recomputed
    assert _exists(patched) == {P1: False, S: False, "elsewhere": True}


def test_reregistration_rows(
    alyx_server: AlyxTestServer,
    alyx_http: httpx.Client,
    algernon: str,
) -> None:
    """Re-registration and idempotency, row by row."""
    alyx_server.state.add_user("other_user")
    first = _register_licks(alyx_http, name=S, versions="1.0", qc="PASS")
    assert (_exists(first), first["qc"]) == ({P1: False, S: True}, 10)
    record_ids = {r["id"] for r in first["file_records"]}
    same = _register_licks(alyx_http, created_by="other_user", filesizes=[11], versions=["2.0"])
    assert same["id"] == first["id"]
    assert {r["id"] for r in same["file_records"]} == record_ids
    assert _exists(same) == {P1: False, S: True}  # same hash: exists kept
    assert (same["created_by"], same["file_size"], same["qc"]) == ("other_user", 11, 0)  # replaced
    dataset = alyx_server.state.datasets[first["id"]]
    assert (dataset.version, dataset.default_dataset) == ("2.0", True)
    patched = _register_licks(alyx_http, hashes=["b" * 32])
    assert (patched["id"], _exists(patched)) == (first["id"], {P1: False, S: False})
    assert alyx_server.state.datasets[first["id"]].hash == "b" * 32
    unchanged = _register_licks(alyx_http, hashes=["b" * 32], name=S)
    assert _exists(unchanged) == {P1: False, S: False}  # same hash with a name: not flipped
    no_hash = _register_licks(alyx_http, hashes=[None], name=S)
    assert _exists(no_hash) == {P1: False, S: True}  # no hash: patched
    assert alyx_server.state.datasets[first["id"]].hash == "b" * 32  # stored hash kept
    other = _register_licks(alyx_http, filenames=["alf/sub/licks.times.npy"])
    assert other["id"] != first["id"]
    assert other["collection"] == "alf/sub"
    alyx_server.state.remove_dataset_type("licks.times")
    alyx_server.state.add_dataset_type("licks.times2", "licks.times.*")
    clash = register(
        alyx_http,
        {
            "created_by": TEST_USER,
            "path": "algernon/2026-11-21/001",
            "filenames": ["alf/licks.times.npy"],
        },
    )
    assert clash.json() == {
        "detail": 'A file record for "algernon/2026-11-21/001/alf/licks.times.npy" already '
        f'exists on repository "{P1}" for a different dataset.',
        "status_code": 400,
    }
    assert alyx_server.state.datasets[first["id"]].default_dataset is False  # written


def test_default_flag(alyx_server: AlyxTestServer, alyx_http: httpx.Client, algernon: str) -> None:
    """`default` true moves the flag; false only clears this dataset's."""
    original = _register_licks(alyx_http)
    assert _register_licks(alyx_http, default=False)["default"] is False
    assert not any(d.default_dataset for d in alyx_server.state.datasets.values())
    revised = _register_licks(alyx_http, filenames=["alf/#v1#/licks.times.npy"], default="True")
    assert (revised["revision"], revised["default"]) == ("v1", True)
    again = _register_licks(alyx_http)
    assert (again["id"], again["default"]) == (original["id"], True)
    assert alyx_server.state.datasets[revised["id"]].default_dataset is False
    relative = revised["file_records"][0]["relative_path"]
    assert relative == "algernon/2026-11-21/001/alf/#v1#/licks.times.npy"
    number_as_sent = _register_licks(alyx_http, path="algernon/2026-11-21/1")  # kept as sent
    assert number_as_sent["id"] == original["id"]
    assert "algernon/2026-11-21/1/alf/licks.times.npy" in {
        r["relative_path"] for r in number_as_sent["file_records"]
    }


# -- protection ---------------------------------------------------------------------------


def test_protection_both_403_forms_and_their_side_effects(
    alyx_server: AlyxTestServer,
    alyx_http: httpx.Client,
    algernon: str,
) -> None:
    state = alyx_server.state
    register(alyx_http, fixture("register-file.request.json"))
    tag = alyx_http.post("/tags", json=fixture("tags.create.request.json"))
    assert (tag.status_code, strip(tag.json())) == (201, strip(fixture("tags.create.201.json")))
    assert alyx_http.get("/tags/protected_tag").json() == tag.json()
    original = state.dataset_at("algernon/2026-11-21/001/alf/probe00/spikes.times.npy")
    patch = alyx_http.patch(
        f"/datasets/{original.id}", json=fixture("datasets.partial-update.request.json")
    )
    skip = VOLATILE | {"session", "data_url", "version"}
    assert strip(patch.json(), skip) == strip(fixture("datasets.partial-update.200.json"), skip)
    # form 1: checked before any dataset write
    refused = register(alyx_http, fixture("register-file.protected.request.json"))
    assert (refused.status_code, refused.json()) == (
        403,
        fixture("register-file.403-protected.json"),
    )
    assert state.find_datasets(algernon, name="spikes.times.npy") == [original]
    # ONE's second POST, the original moved into today's revision
    revised = register(alyx_http, fixture("register-file.revision.request.json"))
    assert revised.status_code == 201
    assert strip(revised.json(), REGISTER_VOLATILE) == strip(
        fixture("register-file.201-revision.json"), REGISTER_VOLATILE
    )
    listed = alyx_http.get(f"/datasets?session={algernon}&name=spikes.times.npy").json()
    observed = fixture("datasets.list.200.json")
    assert [list(item) for item in listed["results"]] == [
        list(item) for item in observed["results"]
    ]
    skip |= {"hash", "file_size", "file_records"}
    assert strip(listed, skip) == strip(observed, skip)
    assert alyx_http.get(f"/datasets?session={algernon}&protected=True").json()["count"] == 1
    # form 2: check_protected false on the protected original (flags written first)
    state.add_user("second_user")
    body = fixture("register-file.cannot-patch.request.json") | {"created_by": "second_user"}
    cannot = register(alyx_http, body)
    assert (cannot.status_code, cannot.json()) == (
        403,
        {"status_code": 403, "detail": f"Dataset {original.id} is protected, cannot patch"},
    )
    newest = state.dataset_at("algernon/2026-11-21/001/alf/probe00/#2026-11-21#/spikes.times.npy")
    assert (original.default_dataset, newest.default_dataset) == (True, False)
    assert original.created_by == TEST_USER  # not reached
    assert state.sessions[algernon].users == [TEST_USER, "second_user"]  # step 3 happened
    # form 1 after step 3 as well
    state.add_user("third_user")
    body = fixture("register-file.protected.request.json") | {"created_by": "third_user"}
    assert register(alyx_http, body).status_code == 403
    assert state.sessions[algernon].users == [TEST_USER, "second_user", "third_user"]


def test_check_protected(
    alyx_server: AlyxTestServer,
    alyx_http: httpx.Client,
    algernon: str,
    zm_1085: str,
) -> None:
    state = alyx_server.state
    request = fixture("check-protected.request.json")
    nothing = alyx_http.request("GET", "/check-protected", json=request)
    assert (nothing.status_code, nothing.json()) == (200, fixture("check-protected.200.json"))
    register(alyx_http, fixture("register-file.request.json"))
    state.protect_dataset(state.dataset_at(f"{request['path']}/{request['filenames'][0]}").id)
    with_body = alyx_http.request("GET", "/check-protected", json=request)
    assert (with_body.status_code, with_body.json()) == (
        200,
        fixture("check-protected.200-protected.json"),
    )
    query = {**request, "filenames": ",".join(request["filenames"])}
    assert alyx_http.get("/check-protected", params=query).json() == with_body.json()
    anonymous = httpx.request("GET", alyx_server.url("/check-protected"), json=request)
    assert anonymous.json() == with_body.json()  # no credentials needed
    # latest revision first (creation time, not name), "" last
    register(alyx_http, fixture("register-file.named-repository.request.json"))
    state.protect_dataset(
        state.dataset_at("ZM_1085/2026-01-10/001/alf/probe00/spikes.times.npy").id
    )
    zm_request = {"path": "ZM_1085/2026-01-10/001", "filenames": ["alf/probe00/spikes.times.npy"]}
    register(alyx_http, zm_request | {"filenames": ["alf/probe00/#2026-01-10#/spikes.times.npy"]})
    assert alyx_http.request("GET", "/check-protected", json=zm_request).json() == fixture(
        "check-protected.200-protected-with-revision.json"
    )
    for revision in ("zzz", "aaa"):
        register(
            alyx_http, zm_request | {"filenames": [f"alf/probe00/#{revision}#/spikes.times.npy"]}
        )
    details = alyx_http.request("GET", "/check-protected", json=zm_request).json()["details"]
    assert details == [
        {
            "alf/probe00/spikes.times.npy": [
                {"aaa": False},
                {"zzz": False},
                {"2026-01-10": False},
                {"": True},
            ]
        }
    ]
    # errors are 500s; it writes users and parents
    missing = alyx_http.request(
        "GET", "/check-protected", json={**zm_request, "path": "ZM_1085/2020-01-01/001"}
    )
    assert (missing.status_code, missing.json()) == (
        500,
        fixture("check-protected.500-no-base-session.json"),
    )
    ghost = alyx_http.request("GET", "/check-protected", json={**zm_request, "created_by": "x"})
    assert ghost.json() == {
        "status_code": 500,
        "detail": "LabMember matching query does not exist.",
    }
    state.add_user("reader")
    second = state.add_session("ZM_1085", "2026-01-10T12:00:00", 2, users=[])
    alyx_http.request(
        "GET",
        "/check-protected",
        json={**zm_request, "path": "ZM_1085/2026-01-10/002", "created_by": "reader"},
    )
    assert second.users == ["reader"]
    assert second.parent_session is None  # the newest of the day without parent: the base
    assert state.sessions[zm_1085].users == [TEST_USER]
    alyx_http.request("GET", "/check-protected", json=zm_request)
    assert second.users == ["reader", TEST_USER]
    assert state.sessions[zm_1085].parent_session == second.id


# -- weighings and water ---------------------------------------------------------------------------


def test_weighings(alyx_server: AlyxTestServer, alyx_http: httpx.Client) -> None:
    request = fixture("weighings.request.json")
    replies = [alyx_http.post("/weighings", json=request) for _ in range(2)]  # never de-duplicated
    assert [r.status_code for r in replies] == [201, 201]
    first = replies[0].json()
    assert strip(first) == strip(fixture("weighings.201.json"))
    assert list(first) == list(fixture("weighings.201.json"))
    assert first["url"][-36:] in alyx_server.state.weighings
    for changes, name in (
        ({"subject": "nobody"}, "weighings.400-unknown-subject.json"),
        ({"weight": -1}, "weighings.400-negative-weight.json"),
    ):
        reply = alyx_http.post("/weighings", json={**request, **changes})
        assert (reply.status_code, reply.json()) == (400, fixture(name))
    listed = alyx_http.get("/weighings?subject=algernon").json()
    assert listed["count"] == 2
    subject = alyx_http.get("/subjects/algernon").json()
    assert subject["weighings"] == listed["results"]
    defaults = alyx_http.post("/weighings", json={"subject": "ZM_1085", "weight": 20}).json()
    assert defaults["user"] == TEST_USER
    assert datetime.datetime.fromisoformat(defaults["date_time"]).tzinfo is None


def test_water_administrations(
    alyx_server: AlyxTestServer,
    alyx_http: httpx.Client,
    algernon: str,
) -> None:
    request = fixture("water-administrations.request.json") | {"session": algernon}
    reply = alyx_http.post("/water-administrations", json=request)
    expected = fixture("water-administrations.201.json") | {"session": algernon}
    assert (reply.status_code, strip(reply.json())) == (201, strip(expected))
    adlib = alyx_http.post(
        "/water-administrations", json=fixture("water-administrations.adlib.request.json")
    )
    assert strip(adlib.json()) == strip(fixture("water-administrations.201-adlib-no-session.json"))
    for changes, name in (
        ({"water_type": "Gin"}, "water-administrations.400-unknown-water-type.json"),
        ({"water_administered": -1}, "water-administrations.400-negative-volume.json"),
        (
            {"session": "00000000-0000-0000-0000-000000000000"},
            "water-administrations.400-unknown-session.json",
        ),
    ):
        bad = alyx_http.post("/water-administrations", json={**request, **changes})
        assert (bad.status_code, bad.json()) == (400, fixture(name))
    no_type = alyx_http.post(
        "/water-administrations", json={"subject": "algernon", "water_administered": 0.5}
    ).json()
    assert (no_type["water_type"], no_type["adlib"], no_type["session"]) == ("Water", False, None)
    listed = alyx_http.get("/water-administrations?subject=algernon").json()
    assert listed["count"] == 3
    assert alyx_http.get("/subjects/algernon").json()["water_administrations"] == listed["results"]
    related = alyx_http.get(f"/sessions/{algernon}").json()["wateradmin_session_related"]
    assert [(w["water_type"], w["water_administered"]) for w in related] == [
        ("Water 10% Sucrose", 0.8)
    ]


# -- snapshot -------------------------------------------------------------------------------------


def _scripted_run(state: AlyxState) -> None:
    user = state.users[TEST_USER]
    with state.lock:
        state.create_session(
            ApiRequest("POST", "/sessions", body=fixture("sessions.create.request.json"), user=user)
        )
        state.register_file(
            ApiRequest("POST", "/register-file", body=fixture("register-file.request.json"))
        )
        state.create_weighing(
            ApiRequest("POST", "/weighings", body=fixture("weighings.request.json"), user=user)
        )


def test_snapshot_is_comparable_across_runs() -> None:
    first, second = AlyxState(), AlyxState()
    _scripted_run(first)
    _scripted_run(second)
    assert first.snapshot() == second.snapshot()
    assert {d.id for d in first.datasets.values()}.isdisjoint(
        d.id for d in second.datasets.values()
    )
    snapshot = first.snapshot()
    assert set(snapshot) == {
        "sessions",
        "datasets",
        "revisions",
        "tags",
        "weighings",
        "water_administrations",
    }
    assert snapshot["sessions"][0]["key"] == "algernon/2026-11-21/001"
    assert snapshot["sessions"][0]["start_time"] == "2026-11-21T00:00:00"
    licks = next(d for d in snapshot["datasets"] if d["name"] == "licks.times.npy")
    assert licks == {
        "session": "algernon/2026-11-21/001",
        "collection": "alf",
        "name": "licks.times.npy",
        "revision": "",
        "dataset_type": "licks.times",
        "data_format": "npy",
        "hash": "16e8b933d293069c3d4427c75420f6a9",
        "file_size": 288,
        "version": "",
        "default": True,
        "qc": "NOT_SET",
        "protected": False,
        "tags": [],
        "created_by": TEST_USER,
        "file_records": [
            {
                "repository": P1,
                "relative_path": "algernon/2026-11-21/001/alf/licks.times.npy",
                "exists": False,
            },
            {
                "repository": S,
                "relative_path": "algernon/2026-11-21/001/alf/licks.times.npy",
                "exists": False,
            },
        ],
    }
    assert "date_time" not in first.snapshot(times=False)["weighings"][0]
    first.protect_dataset(first.dataset_at("algernon/2026-11-21/001/alf/licks.times.npy").id)
    assert first.snapshot() != second.snapshot()


# -- faults and the request log -------------------------------------------------------------------


def test_status_faults_answer_without_acting(
    alyx_server: AlyxTestServer,
    alyx_http: httpx.Client,
) -> None:
    faults, body = alyx_server.faults, {"subject": "algernon", "weight": 21}
    faults.status("POST", "/weighings", 500)
    reply = alyx_http.post("/weighings", json=body)
    assert (reply.status_code, reply.json()) == (
        500,
        {"detail": "Internal Server Error", "status_code": 500},
    )
    assert not alyx_server.state.weighings
    faults.status("POST", "/weighings", 502, html=True)
    proxy = alyx_http.post("/weighings", json=body)
    assert (proxy.status_code, proxy.text) == (502, PROXY_HTML)
    assert proxy.headers["content-type"].startswith("text/html")
    faults.status("POST", re.compile(r"^/weigh"), 503, retry_after=2, body={"detail": "busy"})
    busy = alyx_http.post("/weighings", json=body)
    assert (busy.status_code, busy.headers["retry-after"], busy.json()) == (
        503,
        "2",
        {"detail": "busy"},
    )
    assert not alyx_server.state.weighings
    assert alyx_http.post("/weighings", json=body).status_code == 201  # the rules are used up
    rule = faults.status("GET", "/labs", 429, retry_after=0, times=None, skip=1)
    assert [alyx_http.get("/labs").status_code for _ in range(3)] == [200, 429, 429]
    assert (rule.seen, rule.fired) == (3, 2)
    faults.clear()
    assert alyx_http.get("/labs").status_code == 200
    faults.throttle(None, "/labs", 3)
    throttled = alyx_http.get("/labs")
    assert (throttled.status_code, throttled.headers["retry-after"], throttled.json()) == (
        429,
        "3",
        {"detail": "Request was throttled. Expected available in 3 seconds.", "status_code": 429},
    )
    assert [entry.fault for entry in alyx_server.requests.calls("POST", "/weighings")] == [
        "status",
        "status",
        "status",
        None,
    ]


def test_delay_fault_times_out_the_client_and_then_acts(
    alyx_server: AlyxTestServer,
    alyx_http: httpx.Client,
) -> None:
    alyx_server.faults.delay("POST", "/weighings", 0.4)
    with pytest.raises(httpx.ReadTimeout):
        alyx_http.post("/weighings", json={"subject": "algernon", "weight": 21}, timeout=0.1)
    assert not alyx_server.state.weighings
    deadline = time.monotonic() + 5
    while not alyx_server.state.weighings and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(alyx_server.state.weighings) == 1


def test_drop_and_lose_reply_faults(alyx_server: AlyxTestServer, alyx_http: httpx.Client) -> None:
    body = {"subject": "algernon", "weight": 21}
    alyx_server.faults.drop("POST", "/weighings")
    with pytest.raises(httpx.RemoteProtocolError):
        alyx_http.post("/weighings", json=body)
    assert not alyx_server.state.weighings  # dropped before acting
    alyx_server.faults.lose_reply("POST", "/weighings")
    with pytest.raises(httpx.RemoteProtocolError):
        alyx_http.post("/weighings", json=body)
    assert len(alyx_server.state.weighings) == 1  # acted, reply lost
    assert alyx_http.post("/weighings", json=body).status_code == 201  # a blind retry: two
    assert len(alyx_server.state.weighings) == 2


def test_stop_does_not_wait_for_delayed_requests() -> None:
    server = AlyxTestServer().start()
    server.faults.delay(None, "/", 30)
    errors: list[Exception] = []

    def call() -> None:
        try:
            httpx.post(server.url("/weighings"), json={}, headers=AUTH, timeout=10)
        except httpx.HTTPError as error:
            errors.append(error)

    caller = threading.Thread(target=call)
    caller.start()
    while not server.requests.all():
        time.sleep(0.01)
    started = time.monotonic()
    server.stop()
    caller.join(timeout=5)
    assert time.monotonic() - started < 3
    assert errors and not server.state.weighings


def test_request_log(alyx_server: AlyxTestServer, alyx_http: httpx.Client) -> None:
    alyx_http.get("/sessions", params={"subject": "algernon", "number": "001"})
    alyx_http.post("/weighings", json={"subject": "algernon", "weight": 21})
    httpx.post(alyx_server.url("/auth-token"), data={"username": TEST_USER, "password": "x"})
    first, second, third = alyx_server.requests.all()
    assert (first.method, first.path, first.query, first.body, first.has_auth) == (
        "GET",
        "/sessions",
        {"subject": ["algernon"], "number": ["001"]},
        None,
        True,
    )
    assert (second.line, second.body) == ("POST /weighings", {"subject": "algernon", "weight": 21})
    assert (third.body, third.has_auth) == ({"username": TEST_USER, "password": "x"}, False)
    assert alyx_server.requests.lines() == ["GET /sessions", "POST /weighings", "POST /auth-token"]


# -- ONE-api 3.6.1 RegistrationClient end to end ---------------------------------------------------


def _sample_session(tmp_path: Path) -> Path:
    """A copy of the example session under `<tmp>/data/cortexlab/Subjects/...`."""
    target = tmp_path / "data/cortexlab/Subjects/algernon/2026-11-21/001"
    shutil.copytree(EXAMPLE_SESSION, target)
    return target


def test_one_start_up_requests(
    alyx_server: AlyxTestServer,
    one_client: Any,
    tmp_path: Path,
) -> None:
    log = alyx_server.requests.all()
    assert [entry.line for entry in log] == [
        "POST /auth-token",
        "GET /api/schema",
        "GET /dataset-types",
        "GET /data-formats",
    ]
    assert (log[0].body, log[0].has_auth) == (
        {"username": TEST_USER, "password": TEST_PASSWORD},
        False,
    )
    assert all(entry.has_auth for entry in log[1:])
    assert len(one_client.dtypes) == 114
    assert one_client.file_extensions.count("") == 2  # notData and unknown
    assert Path.home() == tmp_path / "one_home"  # ONE's parameters stay in the test's folder
    assert (tmp_path / f"one_home/.one/.127.0.0.1_{alyx_server.port}").is_file()
    assert one_client.one.alyx.cache_dir == tmp_path / "one_cache"


def test_one_create_new_session_and_update(
    alyx_server: AlyxTestServer,
    one_client: Any,
    tmp_path: Path,
) -> None:
    root = tmp_path / "data/cortexlab/Subjects"
    folder, eid = one_client.create_new_session("algernon", session_root=root, date="2026-11-21")
    assert folder == root / "algernon/2026-11-21/001"
    assert folder.is_dir()
    lookup = alyx_server.requests.calls("GET", "/sessions")[0]
    assert lookup.query == {
        "date_range": ["2026-11-21,2026-11-21"],
        "number": ["001"],
        "subject": ["algernon"],
    }
    created = alyx_server.requests.calls("POST", "/sessions")[0]
    assert created.body == fixture("sessions.create.request.json")
    assert list(created.body) == list(fixture("sessions.create.request.json"))
    assert str(eid) in alyx_server.state.sessions
    second, _ = one_client.create_new_session("algernon", session_root=root, date="2026-11-21")
    assert second.name == "002"
    session, records = one_client.register_session(
        folder, file_list=False, procedures="Behavior training/tasks", task_protocol="test_protocol"
    )
    assert records is None
    update = alyx_server.requests.calls("PUT")[0]
    assert update.path == f"/sessions/{eid}"
    assert update.body == fixture("sessions.update.request.json")
    assert strip(session) == strip(fixture("sessions.update.200.json"))
    sessions = alyx_server.state.snapshot()["sessions"]
    assert [(s["key"], s["procedures"], s["parent"]) for s in sessions] == [
        ("algernon/2026-11-21/001", ["Behavior training/tasks"], None),
        ("algernon/2026-11-21/002", [], None),
    ]


def test_one_register_session_files_and_idempotent_reregistration(
    alyx_server: AlyxTestServer,
    one_client: Any,
    tmp_path: Path,
) -> None:
    folder = _sample_session(tmp_path)
    session, records = one_client.register_session(folder)
    expected = SAMPLE_FILES
    post = alyx_server.requests.calls("POST", "/register-file")[0]
    assert post.body == {
        "created_by": TEST_USER,
        "path": "algernon/2026-11-21/001",
        "filenames": expected,
        "hashes": [md5(folder / name) for name in expected],
        "filesizes": [(folder / name).stat().st_size for name in expected],
        "name": None,
        "exists": True,
        "server_only": False,
        "default": True,
        "versions": [None] * 6,
        "check_protected": True,
        "labs": "cortexlab",
    }
    assert list(post.body) == list(fixture("register-file.request.json"))  # ONE's key order
    assert [f"{r['collection']}/{r['name']}" for r in records] == expected
    assert session["data_dataset_session_related"] == records
    state = alyx_server.state
    assert len(state.datasets) == 6
    assert {r.exists for r in state.file_records.values()} == {False}  # ONE's defaults
    before = state.snapshot()
    ids = set(state.datasets)
    again = one_client.register_files([folder / name for name in expected])
    assert [r["id"] for r in again] == [r["id"] for r in records]
    assert set(state.datasets) == ids
    assert state.snapshot() == before
    single = one_client.register_files(folder / "alf/licks.times.npy")
    assert single["name"] == "licks.times.npy"


def test_one_protected_revisions(
    alyx_server: AlyxTestServer,
    one_client: Any,
    tmp_path: Path,
) -> None:
    """The revision table on the server: a protected original, an unprotected one and a new file
    in one request, then today's protected revision, a protected revision folder and a dated
    unprotected latest revision."""
    state = alyx_server.state
    today = datetime.datetime.today().strftime("%Y-%m-%d")  # T, as ONE computes it
    folder = _sample_session(tmp_path)
    one_client.register_session(folder)
    key = "algernon/2026-11-21/001"
    probe = folder / "alf/probe00"
    original = state.dataset_at(f"{key}/alf/probe00/spikes.times.npy")
    state.protect_dataset(original.id)
    shutil.copy(probe / "spikes.clusters.npy", probe / "clusters.amps.npy")  # never registered
    files = [
        probe / "spikes.times.npy",
        folder / "alf/licks.times.npy",
        probe / "clusters.amps.npy",
    ]
    (verdict,) = one_client.check_protected_files(files)
    assert verdict["status_code"] == 403
    assert verdict["details"] == [
        {"alf/probe00/spikes.times.npy": [{"": True}]},
        {"alf/licks.times.npy": [{"": False}]},
        {"alf/probe00/clusters.amps.npy": []},
    ]
    alyx_server.requests.clear()
    records = one_client.register_files(files)
    assert [(r["collection"], r["revision"], r["default"]) for r in records] == [
        ("alf/probe00", today, True),  # protected original: today's revision
        ("alf", "", True),  # unprotected original: stays
        ("alf/probe00", "", True),  # never registered: stays
    ]
    first, second = alyx_server.requests.calls("POST", "/register-file")
    assert (first.body["check_protected"], second.body["check_protected"]) == (True, False)
    assert second.body["filenames"] == [
        f"alf/probe00/#{today}#/spikes.times.npy",
        "alf/licks.times.npy",
        "alf/probe00/clusters.amps.npy",
    ]
    assert second.body["hashes"] == first.body["hashes"]
    assert (probe / f"#{today}#/spikes.times.npy").exists()
    assert not (probe / "spikes.times.npy").exists()
    moved = state.dataset_at(f"{key}/alf/probe00/#{today}#/spikes.times.npy")
    assert (original.default_dataset, moved.default_dataset) == (False, True)
    assert state.is_protected(original) and not state.is_protected(moved)

    def register_new_spikes(content: bytes) -> dict[str, Any]:
        (probe / "spikes.times.npy").write_bytes(content)
        record: dict[str, Any] = one_client.register_files(probe / "spikes.times.npy")
        return record

    state.protect_dataset(moved.id)
    e1 = register_new_spikes(b"today's revision protected")
    assert (e1["revision"], e1["default"]) == (f"{today}a", True)
    assert (probe / f"#{today}a#/spikes.times.npy").read_bytes() == b"today's revision protected"
    state.protect_dataset(e1["id"])
    b2 = one_client.register_files(probe / f"#{today}a#/spikes.times.npy")
    assert b2["revision"] == f"{today}aa"
    assert (probe / f"#{today}aa#/spikes.times.npy").exists()
    d1 = register_new_spikes(b"dated")  # latest (Taa) unprotected and date-like: reused
    assert (d1["id"], d1["revision"]) == (b2["id"], f"{today}aa")
    assert state.datasets[d1["id"]].hash == hashlib.md5(b"dated").hexdigest()
    spikes = [d for d in state.snapshot()["datasets"] if d["name"] == "spikes.times.npy"]
    assert sorted((d["revision"], d["protected"], d["default"]) for d in spikes) == [
        ("", True, False),
        (today, True, False),
        (f"{today}a", True, False),
        (f"{today}aa", False, True),
    ]
    assert state.snapshot()["revisions"] == [today, f"{today}a", f"{today}aa"]


def test_one_retries_a_503_with_retry_after(
    alyx_server: AlyxTestServer,
    one_client: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ONE re-sends a POST answered 503 (its retries); the fault did not act, the retry did."""
    monkeypatch.setattr("one.webclient.uniform", lambda low, high: 0.0)  # no jitter sleep
    folder = _sample_session(tmp_path)
    alyx_server.state.add_session("algernon", "2026-11-21T00:00:00", 1)
    alyx_server.faults.status("POST", "/register-file", 503, retry_after=0)
    record = one_client.register_files(folder / "alf/licks.times.npy")
    posts = alyx_server.requests.calls("POST", "/register-file")
    assert [p.fault for p in posts] == ["status", None]
    assert posts[0].body == posts[1].body
    assert record["id"] in alyx_server.state.datasets


def test_one_weight_and_water(
    alyx_server: AlyxTestServer,
    one_client: Any,
    algernon: str,
) -> None:
    weighing = one_client.register_weight(
        "algernon", 25.30000001, date_time="2026-11-21T11:19:46.404043"
    )
    assert alyx_server.requests.calls("POST", "/weighings")[0].body == fixture(
        "weighings.request.json"
    )
    assert strip(weighing) == strip(fixture("weighings.201.json"))
    water = one_client.register_water_administration(
        "algernon",
        0.8,
        session=algernon,
        water_type="Water 10% Sucrose",
        date_time="2026-11-21T11:19:46.510053",
    )
    sent = alyx_server.requests.calls("POST", "/water-administrations")[0].body
    assert sent == fixture("water-administrations.request.json") | {"session": algernon}
    assert strip(water) == strip(fixture("water-administrations.201.json") | {"session": algernon})
    adlib = one_client.register_water_administration(
        "algernon", 1.0, adlib=True, date_time="2026-11-21T11:19:46.607466"
    )
    assert adlib["session"] is None
    snapshot = alyx_server.state.snapshot()
    assert snapshot["weighings"] == [
        {
            "subject": "algernon",
            "weight": 25.3,
            "user": TEST_USER,
            "date_time": "2026-11-21T11:19:46.404043",
        }
    ]
    water_admins = snapshot["water_administrations"]
    assert [(w["water_type"], w["session"], w["adlib"]) for w in water_admins] == [
        ("Water 10% Sucrose", "algernon/2026-11-21/001", False),
        ("Water", None, True),
    ]
    checks = [e.line for e in alyx_server.requests.all()][4:7]
    assert checks == ["GET /subjects/algernon", "GET /users/test_user", "POST /weighings"]
