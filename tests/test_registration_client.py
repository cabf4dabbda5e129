"""The Python API: ONE's RegistrationClient names and parameters, working through the ledger."""

from __future__ import annotations

import datetime as dt
import inspect
from pathlib import Path

import pytest
from one.registration import RegistrationClient as OneRegistrationClient

from labledger import RegistrationClient
from labledger.domain.errors import LabledgerError
from tests.alyx_server import AlyxTestServer
from tests.cli_helpers import sample_session

METHODS = [
    "create_new_session",
    "create_sessions",
    "register_session",
    "register_files",
    "check_protected_files",
    "find_files",
    "register_weight",
    "register_water_administration",
    "ensure_ISO8601",
]


@pytest.mark.parametrize("name", METHODS)
def test_ones_methods_and_parameters_exist(name: str) -> None:
    ones = inspect.signature(getattr(OneRegistrationClient, name)).parameters
    ours = inspect.signature(getattr(RegistrationClient, name)).parameters
    for parameter in ones.values():
        if parameter.kind in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL):
            continue
        assert parameter.name in ours, f"{name} lacks ONE's parameter {parameter.name}"


def test_register_session_returns_records(
    client: RegistrationClient, server: AlyxTestServer, tmp_path: Path
) -> None:
    folder = sample_session(tmp_path)
    session, records = client.register_session(folder, start_time="2026-11-21T09:30:00")
    assert session is not None and len(session["id"]) == 36
    assert records is not None and len(records) == 6 and all(records)
    assert {r["collection"] for r in records if r} == {"alf", "alf/probe00", "raw_video_data"}
    assert len(server.state.snapshot()["datasets"]) == 6


def test_register_files_single_path_and_dry(
    client: RegistrationClient, server: AlyxTestServer, tmp_path: Path
) -> None:
    folder = sample_session(tmp_path)
    client.register_session(folder, file_list=False)
    licks = folder / "alf" / "licks.times.npy"
    (body,) = client.register_files([licks], dry=True)
    assert body["filenames"] == ["alf/licks.times.npy"] and body["check_protected"] is True
    record = client.register_files(licks, versions="1.0.0")
    assert record is not None and record["revision"] == ""
    (dataset,) = server.state.snapshot()["datasets"]
    assert dataset["version"] == "1.0.0"


def test_weight_and_water(client: RegistrationClient, server: AlyxTestServer) -> None:
    weighing = client.register_weight("algernon", 25.31234, date_time="2026-11-21T10:00:00")
    assert weighing is not None and weighing["url"].startswith(server.base_url)
    client.register_water_administration("algernon", 35.10000000235, water_type="Water")
    state = server.state.snapshot()
    assert state["weighings"][0]["weight"] == 25.31
    assert state["water_administrations"][0]["water_administered"] == 35.1
    with pytest.raises(LabledgerError, match="unknown water keyword"):
        client.register_water_administration("algernon", 1.0, colour="blue")
    with pytest.raises(LabledgerError, match="must be greater than 0"):
        client.register_weight("algernon", 0)


def test_create_new_session_and_flags(
    client: RegistrationClient, server: AlyxTestServer, tmp_path: Path
) -> None:
    root = tmp_path / "cortexlab" / "Subjects"
    day = dt.date.today().isoformat()  # given, so midnight passing cannot change the folder
    folder, eid = client.create_new_session("algernon", session_root=root, date=day)
    assert folder == root / "algernon" / day / "001" and eid is not None
    second = root / "algernon" / day / "002"
    second.mkdir()
    (second / "create_me.flag").touch()
    folders, _ = client.create_sessions(root)
    assert folders == [second] and not (second / "create_me.flag").exists()
    assert sorted(s["number"] for s in server.state.snapshot()["sessions"]) == [1, 2]
