"""ONE's RegistrationClient methods that ask Alyx directly (`assert_exists`, `prepare_files`,
`check_protected_files`) and `RegistrationClient(one)`: a rig script in a fresh interpreter
against one loopback Alyx, ONE's own client against a second one holding the same data, and the
results compared; `labledger check-protected` on files the ledger has never seen; the version
rule and the choice of server as rows."""

from __future__ import annotations

import inspect
import json
import re
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from labledger import RegistrationClient
from labledger.adapters.alyx.settings import AlyxSettings
from labledger.adapters.database.event_store import open_ledger
from labledger.adapters.one_params import settings_with_server_of_one
from labledger.adapters.settings import Settings, load_settings
from labledger.domain.errors import InvalidSettings, LabledgerError
from labledger.domain.file_registration import InvalidFileOptions, versions_for
from tests.alyx_cli import alyx_env
from tests.alyx_fixtures import one_registration_client
from tests.alyx_server import TEST_PASSWORD, TEST_TOKEN, TEST_USER, AlyxTestServer
from tests.cli_helpers import SAMPLE
from tests.doors import Door

DAY = "2026-11-21"
FIRST, SECOND = f"algernon/{DAY}/001", f"algernon/{DAY}/002"

# -- the version rule and the choice of server, as rows ---------------------------------------


@pytest.mark.parametrize(
    ("count", "versions", "expected"),
    [
        (3, None, [None, None, None]),
        (3, "1.0", ["1.0", "1.0", "1.0"]),
        (3, ["1.0"], ["1.0", "1.0", "1.0"]),
        (3, ("a", None, "c"), ["a", None, "c"]),
        (1, ["a"], ["a"]),
        (0, [], []),
        (0, ["a"], []),
        (2, "", ["", ""]),
    ],
)
def test_versions_one_for_all_or_one_per_file(
    count: int, versions: Any, expected: list[str | None]
) -> None:
    assert versions_for(count, versions) == expected


@pytest.mark.parametrize(
    ("count", "versions", "given"),
    [(5, ["a", "b", "c"], 3), (3, ["a", "b"], 2), (2, [], 0), (1, ["a", "b"], 2)],
)
def test_versions_otherwise_refused_saying_what_was_given(
    count: int, versions: list[str], given: int
) -> None:
    with pytest.raises(InvalidFileOptions) as refused:
        versions_for(count, versions)
    assert str(refused.value) == (
        f"{given} versions given for {count} file{'' if count == 1 else 's'}; give one version "
        "(a string or a "
        "one-element list) for all files, or one per file"
    )


ONE_URL = "http://one.example.org:8000"

BASE = Settings(alyx_user=None)


def _with(
    *,
    url: str | None = None,
    username: str | None = None,
    user: str | None = None,
    password: str | None = None,
) -> Settings:
    alyx = AlyxSettings(
        base_url=url, username=username, password=None if password is None else SecretStr(password)
    )
    return BASE.model_copy(update={"alyx": alyx, "alyx_user": user})


@pytest.mark.parametrize(
    ("settings", "one_url", "one_user", "url", "username", "user", "says"),
    [
        # no server in the settings: ONE's server and user are taken, with a warning
        (_with(), ONE_URL, "jdoe", ONE_URL, "jdoe", "jdoe", ["uses Alyx", "alyx.password"]),
        (_with(), ONE_URL + "/", "jdoe", ONE_URL, "jdoe", "jdoe", ["user jdoe"]),
        (_with(password="pw"), ONE_URL, "jdoe", ONE_URL, "jdoe", "jdoe", ["uses Alyx"]),
        # labledger's own names win over ONE's user
        (_with(username="amy"), ONE_URL, "jdoe", ONE_URL, "amy", "amy", ["uses Alyx"]),
        (_with(user="bob"), ONE_URL, "jdoe", ONE_URL, "jdoe", "bob", ["uses Alyx"]),
        (_with(), ONE_URL, None, ONE_URL, None, None, ["set alyx.username"]),
        # a server in the settings: kept; a different ONE server is named as ignored
        (
            _with(url="https://a.org", username="amy"),
            ONE_URL,
            "jdoe",
            "https://a.org",
            "amy",
            None,
            ["is ignored"],
        ),
        (_with(url=ONE_URL, username="amy"), ONE_URL, "jdoe", ONE_URL, "amy", None, []),
        # nothing found on the ONE instance: nothing changes
        (_with(), None, "jdoe", None, None, None, []),
    ],
)
def test_server_and_user_taken_from_one_only_where_settings_name_none(
    settings: Settings,
    one_url: str | None,
    one_user: str | None,
    url: str | None,
    username: str | None,
    user: str | None,
    says: list[str],
) -> None:
    chosen, warning = settings_with_server_of_one(settings, one_url, one_user)
    assert (chosen.alyx.base_url, chosen.alyx.username, chosen.alyx_user) == (url, username, user)
    assert chosen.alyx.password == settings.alyx.password
    if not says:
        assert warning is None and chosen == settings
        return
    assert warning is not None and "\n" not in warning
    for words in says:
        assert words in warning
    if "uses Alyx" in says:
        assert "LABLEDGER_ALYX__BASE_URL" in warning
        assert ("alyx.password" in warning) == (settings.alyx.password is None)


def test_a_one_server_that_is_no_url_is_refused() -> None:
    with pytest.raises(InvalidSettings, match="does not start with http"):
        settings_with_server_of_one(_with(), "one.example.org", "jdoe")


# -- a rig script and ONE's own client, on two servers holding the same data ------------------


def shape(value: Any) -> Any:
    """Paths as text, tuples as lists, dict keys as text: what JSON can carry."""
    from pathlib import PurePath

    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, dict):
        return {str(key): shape(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [shape(item) for item in value]
    return value


def _seed(server: AlyxTestServer) -> None:
    """Two sessions on Alyx, two files of the first registered, one of them protected."""
    server.state.add_session("algernon", f"{DAY}T09:00:00", 1)
    server.state.add_session("algernon", f"{DAY}T11:00:00", 2)
    files = ["alf/licks.times.npy", "alf/probe00/spikes.times.npy"]
    with httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Token {TEST_TOKEN}"}
    ) as http:
        reply = http.post(
            "/register-file",
            json={"created_by": TEST_USER, "path": FIRST, "filenames": files, "labs": "cortexlab"},
        )
    assert reply.status_code == 201, reply.text
    server.state.protect_dataset(server.state.dataset_at(f"{FIRST}/{files[0]}").id)


def _tree(root: Path) -> dict[str, list[str]]:
    """Sample sessions 001 and 002 and a file outside any session, under `root`; the paths
    asked about, by name."""
    subjects = root / "cortexlab" / "Subjects"
    for key in (FIRST, SECOND):
        shutil.copytree(SAMPLE, subjects / key)
    (root / "loose").mkdir()
    (root / "loose" / "licks.times.npy").write_bytes(b"x")
    first, second = subjects / FIRST, subjects / SECOND
    return {
        "files": [
            str(first / "alf/licks.times.npy"),
            str(second / "alf/licks.times.npy"),
            str(first / "notes.txt"),  # no dataset type: left out by both
            str(first / "alf/probe00/spikes.times.npy"),
            str(root / "loose" / "licks.times.npy"),  # not in a session: left out by both
            str(first),  # a session folder: left out by both
            str(first / "alf/probe00/clusters.depths.npy"),  # never registered
            str(first / "alf/_ibl_trials.table.pqt"),  # no dataset type: left out by both
        ],
        "rejected": [str(first / "notes.txt")],
        "unknown": [str(subjects / f"algernon/{DAY}/003/alf/licks.times.npy")],
    }


def _calls(client: Any, ask: dict[str, list[str]]) -> dict[str, Any]:
    """The same calls on ONE's client and on labledger's (run in the rig script)."""
    files = ask["files"]
    out: dict[str, Any] = {
        "prepare": client.prepare_files(files, versions=[f"v{i}" for i in range(len(files))]),
        "prepare_one_version": client.prepare_files(files, versions=["1.0"]),
        "prepare_single": client.prepare_files(files[0]),
        "checked": client.check_protected_files(files),
        "checked_single": client.check_protected_files(files[3]),
        "exists": client.assert_exists("algernon", "subjects"),
        "exists_list": client.assert_exists(["algernon", "ZM_1085"], "subjects"),
        "exists_user": client.assert_exists("test_user", "users"),
    }
    for name, member, endpoint in (("no_subject", "nobody", "subjects"), ("no_user", "x", "users")):
        try:
            client.assert_exists(member, endpoint)
        except Exception as error:  # each side's own error is compared
            out[name] = [type(error).__name__, str(error)]
    try:
        client.check_protected_files(ask["unknown"])
    except Exception as error:
        out["unknown_session"] = [type(error).__name__, str(error)]
    return out


RIG_SCRIPT = """
import json
from typing import Any
from labledger import LabledgerError, RegistrationClient

ASK = json.loads({ask!r})
{shape}
{calls}
client = RegistrationClient()
out = _calls(client, ASK)
for name, call in (
    ("single_rejected", lambda: client.check_protected_files(ASK["rejected"][0])),
    ("two_versions", lambda: client.prepare_files(ASK["files"], versions=["a", "b"])),
    ("content_type", lambda: client.check_protected_files(ASK["files"], content_type="subject")),
):
    try:
        call()
    except LabledgerError as error:
        out[name] = [type(error).__name__, str(error)]
out["warnings"] = client.warnings
print(json.dumps(shape(out)))
"""

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _same_form(text: str, root: Path, server: AlyxTestServer) -> Any:
    """`text` with this side's folder, server address and ids replaced by placeholders."""
    text = text.replace(str(root), "<root>").replace(server.base_url, "<alyx>")
    return json.loads(UUID_RE.sub("<id>", text))


@pytest.fixture
def servers() -> Iterator[tuple[AlyxTestServer, AlyxTestServer]]:
    with AlyxTestServer() as ours, AlyxTestServer() as ones:
        _seed(ours)
        _seed(ones)
        yield ours, ones


def test_a_rig_script_asks_alyx_as_ones_client_does(
    door: Door, servers: tuple[AlyxTestServer, AlyxTestServer], tmp_path: Path
) -> None:
    ours, ones = servers
    our_ask, one_ask = _tree(tmp_path / "ours"), _tree(tmp_path / "one")
    script = RIG_SCRIPT.format(
        ask=json.dumps(our_ask),
        shape=inspect.getsource(shape),
        calls=inspect.getsource(_calls),
    )
    door.env.update(alyx_env(ours, tmp_path))
    text = door.python(script).ok().out
    got = _same_form(text, tmp_path / "ours", ours)

    one = one_registration_client(ones, tmp_path / "one_env")
    expected = _same_form(json.dumps(shape(_calls(one, one_ask))), tmp_path / "one", ones)

    for name in ("prepare", "prepare_one_version", "prepare_single", "checked", "checked_single"):
        assert got[name] == expected[name], name
    for name in ("exists", "exists_list", "exists_user"):
        assert got[name] == expected[name], name
    # what the replies say, and what ONE adds to them
    checked = got["checked"]
    assert [c["shared_path"] for c in checked] == [
        f"<root>/cortexlab/Subjects/{k}" for k in (FIRST, SECOND)
    ]
    assert checked[0]["files"] == [
        "alf/licks.times.npy",
        "alf/probe00/spikes.times.npy",
        "alf/probe00/clusters.depths.npy",
    ]  # no dataset type matches the .pqt table on this Alyx: left out by both
    assert checked[0]["status_code"] == 403 and checked[1]["status_code"] == 200
    single = got["checked_single"]
    assert (single["status_code"], single["files"]) == (200, ["alf/probe00/spikes.times.npy"])
    # Alyx recorded the same (check-protected writes the session's users): same end state
    assert ours.state.snapshot(times=False) == ones.state.snapshot(times=False)

    # the errors: ONE's classes, and labledger's, each one line
    assert expected["no_subject"][0] == "AlyxSubjectNotFound"
    assert got["no_subject"] == [
        "SubjectNotFound",
        'Alyx has no subject "nobody"; create it on Alyx, or correct the nickname',
    ]
    assert expected["no_user"][0] == "ALFError"
    assert expected["no_user"][1].strip() == 'Member "x" doesn\'t exist in users'
    assert got["no_user"][0] == "MemberNotFound"
    assert got["no_user"][1].startswith('Member "x" doesn\'t exist in users on Alyx; ')
    assert expected["unknown_session"][0] == "HTTPError"
    assert got["unknown_session"] == [
        "AlyxServerError",
        f"Alyx failed on GET /check-protected (500): A session for algernon/3 on {DAY} does not "
        "exist",
    ]

    # where labledger differs on purpose: every left-out path named, refusals in one line
    left_out = "\n".join(got["warnings"])
    for path in (our_ask["rejected"][0], "<root>/loose/licks.times.npy"):
        assert path.replace(str(tmp_path / "ours"), "<root>") in left_out
    assert "is a session folder, not a file" in left_out
    message = got["single_rejected"][1]
    assert "notes.txt" in message and "nothing was asked of Alyx" in message
    assert got["two_versions"][1].startswith("2 versions given for 8 files; give one version")
    assert "content_type 'subject' is not supported" in got["content_type"][1]
    assert all("\n" not in m for _, m in (got["single_rejected"], got["no_user"]))


def test_check_protected_command_asks_about_files_the_ledger_never_saw(
    door: Door, servers: tuple[AlyxTestServer, AlyxTestServer], tmp_path: Path
) -> None:
    ours, _ = servers
    ask = _tree(tmp_path / "ours")
    door.env.update(alyx_env(ours, tmp_path))
    first = Path(ask["files"][0]).parents[1]
    rows = door("check-protected", first / "alf/licks.times.npy", first / "notes.txt", "--json")
    assert rows.code == 0, rows.err
    (row,) = rows.ok().json()
    assert row["file"] == "alf/licks.times.npy" and row["protected"] is True
    assert row["session"] == f"cortexlab/{FIRST}" and row["row"] == "other protected latest"
    assert "left out" in rows.err and "notes.txt" in rows.err


# -- RegistrationClient(one) --------------------------------------------------------------------

ONE_SCRIPT = """
import json, warnings
from one.api import ONE
from labledger import RegistrationClient

one = ONE(base_url={url!r}, username={user!r}, password={password!r}, silent=True, mode="remote",
          cache_dir="one_cache", cache_rest=None)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    client = RegistrationClient(one)
print(json.dumps({{
    "python_warnings": [str(w.message) for w in caught],
    "where": [w.filename for w in caught],
    "warnings": client.warnings,
    "alyx": [client.settings.alyx.base_url, client.settings.alyx.username,
             client.settings.alyx_user],
    "subject": client.assert_exists("algernon", "subjects")["nickname"],
}}))
"""


def test_a_rig_script_passing_its_one_instance_reaches_ones_server(
    door: Door, tmp_path: Path
) -> None:
    """The settings name no server: ONE's server and user are used, with a warning, and
    labledger logs in with its own password (ONE's token is not used)."""
    with AlyxTestServer() as server:
        door.env["LABLEDGER_ALYX__PASSWORD"] = TEST_PASSWORD
        door.env["LABLEDGER_ALYX__TOKEN_FILE"] = str(tmp_path / "tokens.json")
        script = ONE_SCRIPT.format(url=server.base_url, user=TEST_USER, password=TEST_PASSWORD)
        report = door.python(script).ok().json()
        logins = server.requests.calls("POST", "/auth-token")
        url = server.base_url
    (warning,) = report["warnings"]
    assert report["python_warnings"] == [warning]
    assert [Path(where).name for where in report["where"]] == ["rig_script.py"]  # its own line
    assert f"uses Alyx {url} and user {TEST_USER} of the ONE instance" in warning
    assert "alyx.password" not in warning  # labledger has its own
    assert report["alyx"] == [url, TEST_USER, TEST_USER]
    assert report["subject"] == "algernon"
    assert len(logins) == 2  # ONE's login, and labledger's own
    assert TEST_PASSWORD not in json.dumps(report)


def test_a_one_instance_passed_without_a_labledger_password_says_what_to_set(
    tmp_path: Path,
) -> None:
    with AlyxTestServer() as server:
        one = one_registration_client(server, tmp_path / "one_env").one
        env = {
            "LABLEDGER_SQLITE_PATH": str(tmp_path / "l.sqlite3"),
            "LABLEDGER_ALYX__TOKEN_FILE": str(tmp_path / "tokens.json"),
            "LABLEDGER_REFERENCE_DIR": str(tmp_path / "reference"),
        }
        settings = load_settings(environ=env)
        with pytest.warns(UserWarning, match="of the ONE instance") as caught:
            client = RegistrationClient(one, settings=settings, ledger=open_ledger(settings))
        (warning,) = client.warnings
        assert [str(w.message) for w in caught] == [warning]
        assert "set alyx.password (or LABLEDGER_ALYX__PASSWORD)" in warning
        assert (client.settings.alyx.base_url, client.settings.alyx.username) == (
            server.base_url,
            TEST_USER,
        )
        assert settings.alyx.base_url is None  # the caller's settings are not changed
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            configured = load_settings(environ=env | alyx_env(server, tmp_path))
            same = RegistrationClient(one, settings=configured, ledger=open_ledger(configured))
        assert same.warnings == [] and same.settings == configured


def test_without_a_server_asking_alyx_says_which_setting_to_set(tmp_path: Path) -> None:
    env = {
        "LABLEDGER_SQLITE_PATH": str(tmp_path / "l.sqlite3"),
        "LABLEDGER_REFERENCE_DIR": str(tmp_path / "reference"),
        "LABLEDGER_LAB": "cortexlab",
    }
    settings = load_settings(environ=env)
    client = RegistrationClient(None, settings=settings, ledger=open_ledger(settings))
    licks = _tree(tmp_path)["files"][0]
    needs = r"alyx\.base_url is not set; set it \(or LABLEDGER_"
    with pytest.raises(LabledgerError, match=needs):
        client.assert_exists("algernon", "subjects")
    with pytest.raises(LabledgerError, match=needs):
        client.check_protected_files([licks])
    folders, _, _, single = client.prepare_files(licks)  # needs no server
    assert [list(map(str, files)) for files in folders.values()] == [["alf/licks.times.npy"]]
    assert single is True and client.warnings == []
