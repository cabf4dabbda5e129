"""What `RegistrationClient` returns, placed as ONE places it: the server's records aligned with
the paths given, None for a path that cannot be registered (the others go on), one record for
one path, the session and weighing records as Alyx sent them, and None for work that is queued.

The side-by-side comparison with ONE's own client is tests/test_one_drop_in.py; these are the
cases where labledger decides alone (refused moves, queued work, the versions rule).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from labledger import RegistrationClient, WorkRefused
from labledger.adapters.database.event_store import open_ledger
from labledger.adapters.settings import load_settings
from labledger.domain.errors import LabledgerError
from tests.alyx_cli import alyx_env
from tests.alyx_server import AlyxTestServer
from tests.cli_helpers import SAMPLE, sample_session
from tests.doors import Door

KEY = "algernon/2026-11-21/001"


def test_a_list_with_files_that_cannot_be_registered(
    client: RegistrationClient, server: AlyxTestServer, tmp_path: Path
) -> None:
    folder = sample_session(tmp_path)
    client.register_session(folder, file_list=False)
    (folder / "alf" / "licks.times.xyz").write_text("unknown extension")
    (folder / "alf" / "nothing.known.npy").write_bytes(b"no dataset type")
    elsewhere = tmp_path / "loose.times.npy"
    elsewhere.write_bytes(b"not in a session folder")
    paths = [
        folder / "alf" / "probe00" / "spikes.times.npy",
        folder / "alf" / "licks.times.xyz",
        folder / "alf" / "licks.times.npy",
        folder / "alf" / "nothing.known.npy",
        elsewhere,
    ]

    records = client.register_files(paths)

    assert [record is not None for record in records] == [True, False, True, False, False]
    assert [(r["collection"], r["name"]) for r in records if r] == [
        ("alf/probe00", "spikes.times.npy"),
        ("alf", "licks.times.npy"),
    ]
    assert {"id", "file_records", "default", "session", "qc"} <= set(records[0])
    assert len(server.state.snapshot()["datasets"]) == 2
    left_out = [r for r in client.last_results if r.action == "left out"]
    assert len(left_out) == 3 and all(r.outcome == "failed" for r in left_out)
    assert "licks.times.xyz" in left_out[0].detail and "loose.times.npy" in left_out[2].detail


def test_one_path_returns_one_record_and_dry_runs_keep_the_order_given(
    client: RegistrationClient, tmp_path: Path
) -> None:
    folder = sample_session(tmp_path)
    client.register_session(folder, file_list=False)
    spikes, licks = (
        folder / "alf" / "probe00" / "spikes.times.npy",
        folder / "alf" / "licks.times.npy",
    )

    body = client.register_files(spikes, dry=True, default=False)
    assert isinstance(body, dict) and body["filenames"] == ["alf/probe00/spikes.times.npy"]
    assert body["default"] is False
    (both,) = client.register_files([spikes, licks], dry=True, versions=["2", "1"])
    assert both["filenames"] == ["alf/probe00/spikes.times.npy", "alf/licks.times.npy"]
    assert both["versions"] == ["2", "1"]
    assert client.register_files(folder / "alf" / "missing.times.npy", dry=True) is None

    record = client.register_files(spikes)
    assert isinstance(record, dict) and record["name"] == "spikes.times.npy"


def test_versions_one_for_all_or_one_per_file_by_position(
    client: RegistrationClient, server: AlyxTestServer, tmp_path: Path
) -> None:
    folder = sample_session(tmp_path)
    client.register_session(folder, file_list=False)
    files = [folder / "alf" / "probe00" / "spikes.times.npy", folder / "alf" / "licks.times.npy"]

    client.register_files(files, versions=["1.0.0"])
    assert {d["version"] for d in server.state.snapshot()["datasets"]} == {"1.0.0"}

    client.register_files(files, versions=["2.0.0", "1.5.0"])
    by_name = {d["name"]: d["version"] for d in server.state.snapshot()["datasets"]}
    assert by_name == {"spikes.times.npy": "2.0.0", "licks.times.npy": "1.5.0"}

    with pytest.raises(LabledgerError, match="3 versions given for 2 files"):
        client.register_files(files, versions=["1", "2", "3"])


def test_session_weighing_and_water_return_alyx_records(
    client: RegistrationClient, server: AlyxTestServer, tmp_path: Path
) -> None:
    folder = sample_session(tmp_path)
    session, records = client.register_session(folder, n_trials=400)
    assert session is not None and session["n_trials"] == 400 and session["number"] == 1
    assert records is not None and len(records) == 6 and all(records)
    assert session["data_dataset_session_related"] == records
    again, _ = client.register_session(folder, file_list=False)
    assert again is not None and again["id"] == session["id"]

    weighing = client.register_weight("algernon", 25.3, date_time="2026-11-21T10:00:00")
    assert weighing is not None and set(weighing) >= {"subject", "weight", "user", "url"}
    water = client.register_water_administration(
        "algernon", 0.8, water_type="Water", session=session["id"]
    )
    assert water is not None and water["session"] == session["id"]
    assert water["water_administered"] == 0.8


def test_a_refused_move_leaves_the_other_files_of_the_request_going(
    client: RegistrationClient, server: AlyxTestServer, tmp_path: Path
) -> None:
    """The file must move into an unprotected past revision whose folder on this rig holds other
    bytes: that file is refused (nothing is overwritten), the other file of the call registers."""
    past = (dt.date.today() - dt.timedelta(days=9)).isoformat()
    folder = sample_session(tmp_path)
    licks, spikes = (
        folder / "alf" / "licks.times.npy",
        folder / "alf" / "probe00" / "spikes.times.npy",
    )
    in_past = folder / "alf" / f"#{past}#" / "licks.times.npy"
    in_past.parent.mkdir()
    in_past.write_bytes(b"licks, past revision")
    client.register_session(folder, file_list=False)
    client.register_files([licks, in_past, spikes])
    server.state.protect_dataset(server.state.dataset_at(f"{KEY}/alf/licks.times.npy").id)
    licks.write_bytes(b"new licks")
    spikes.write_bytes(b"new spikes")

    records = client.register_files([licks, spikes])

    assert records[0] is None and records[1] is not None
    assert records[1]["name"] == "spikes.times.npy"
    assert in_past.read_bytes() == b"licks, past revision" and licks.read_bytes() == b"new licks"
    assert any("different file" in r.detail for r in client.last_results)

    alone = client.register_files(licks)
    assert alone is None, "alone, the refused move is None too: it waits for the operator"
    assert [r.outcome for r in client.last_results] == ["blocked"]
    assert licks.read_bytes() == b"new licks"


def test_refuse_protected_refuses_instead_of_moving(
    client: RegistrationClient, server: AlyxTestServer, tmp_path: Path
) -> None:
    folder = sample_session(tmp_path)
    licks = folder / "alf" / "licks.times.npy"
    client.register_session(folder, file_list=False)
    client.register_files(licks)
    server.state.protect_dataset(server.state.dataset_at(f"{KEY}/alf/licks.times.npy").id)
    licks.write_bytes(b"new licks")

    with pytest.raises(WorkRefused, match="protected"):
        client.register_files(licks, refuse_protected=True)

    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("licks*")) == [
        "alf/licks.times.npy"
    ]
    body = client.register_files(licks, refuse_protected=True, dry=True)
    assert "refuse_protected" not in body, "an option of labledger's, not sent to Alyx"


def test_an_unknown_user_raises_for_a_session_already_on_alyx(
    client: RegistrationClient, tmp_path: Path
) -> None:
    folder = sample_session(tmp_path)
    client.register_session(folder, file_list=False)
    with pytest.raises(WorkRefused, match="user jdoe does not exist"):
        client.register_session(folder, users=["jdoe"], file_list=False)


def test_create_sessions_says_why_a_session_is_not_on_alyx(
    client: RegistrationClient, tmp_path: Path
) -> None:
    root = tmp_path / "cortexlab" / "Subjects"
    good = sample_session(tmp_path)
    unknown = sample_session(tmp_path, "nosuchmouse/2026-11-21/001")
    for folder in (good, unknown):
        (folder / "create_me.flag").touch()

    folders, records = client.create_sessions(root)

    by_folder = dict(zip(folders, records, strict=True))
    assert by_folder[good] is not None and by_folder[unknown] is None
    assert (unknown / "create_me.flag").exists() and not (good / "create_me.flag").exists()
    (why,) = [w for w in client.warnings if str(unknown) in w]
    assert "nosuchmouse does not exist on Alyx" in why
    targets = {r.target for r in client.last_results}
    assert {f"cortexlab/{KEY}", "cortexlab/nosuchmouse/2026-11-21/001"} <= targets


def test_queued_work_returns_none_in_every_place(tmp_path: Path) -> None:
    """No server configured: each call records its work and returns None where ONE returns a
    record; `last_results` says the work is queued."""
    settings = load_settings(
        environ={"LABLEDGER_LAB": "cortexlab", "LABLEDGER_SQLITE_PATH": str(tmp_path / "l.db")}
    )
    client = RegistrationClient(settings=settings, ledger=open_ledger(settings))
    folder = sample_session(tmp_path)

    session, records = client.register_session(folder)
    assert session is None and records == [None] * 6
    assert client.register_files(folder / "alf" / "licks.times.npy") is None
    assert client.register_weight("algernon", 25.3) is None
    assert client.register_water_administration("algernon", 0.8) is None
    new, eid = client.create_new_session(
        "algernon", session_root=tmp_path / "cortexlab" / "Subjects"
    )
    assert new.is_dir() and eid is None
    assert client.last_results and all(r.outcome == "queued" for r in client.last_results)
    assert "no Alyx server configured" in client.last_results[0].detail


def test_work_waiting_for_the_operator_returns_none_and_stays_pending(
    client: RegistrationClient, server: AlyxTestServer, tmp_path: Path
) -> None:
    """A name or setting Alyx does not know, that the operator fixes (ONE raises): the work is
    kept, the call returns None and `last_results` says what to fix; asked again with the fix,
    the same call registers it."""
    folder = sample_session(tmp_path)
    client.register_session(folder, file_list=False)
    licks = folder / "alf" / "licks.times.npy"

    assert client.register_files(licks, repository="nowhere") is None
    assert [r.outcome for r in client.last_results] == ["blocked"]
    assert "repository" in client.last_results[0].detail
    assert client.register_files(licks, created_by="ghost") is None
    assert "ghost" in client.last_results[0].detail
    nobody = tmp_path / "cortexlab" / "Subjects" / "nobody" / "2026-11-21" / "001"
    shutil.copytree(SAMPLE, nobody)
    assert client.register_session(nobody, file_list=False) == (None, None)
    assert "nobody does not exist on Alyx" in client.last_results[0].detail

    record = client.register_files(licks)
    assert record is not None and record["name"] == "licks.times.npy"


def test_work_alyx_refuses_raises_as_in_one(
    client: RegistrationClient, server: AlyxTestServer, tmp_path: Path
) -> None:
    folder = sample_session(tmp_path)
    client.register_weight("algernon", 25.3, date_time="2026-11-21T10:00:00")
    with pytest.raises(WorkRefused, match="procedures"):
        client.register_session(folder, file_list=False, procedures="Flying")
    assert [r.action for r in client.last_results] == ["register session"], "this call's only"
    with pytest.raises(WorkRefused, match="Gin"):
        client.register_water_administration("algernon", 1.0, water_type="Gin")
    session, _ = client.register_session(folder, file_list=False)
    assert session is not None, "asked again without the refused value, it registers"


def test_calls_queued_one_after_the_other_keep_each_others_fields(
    tmp_path: Path, server: AlyxTestServer, door: Door
) -> None:
    """The README's rig script with the server down: `create_new_session` (its start time), then
    `register_session` (task protocol, trials), both queued; `labledger sync` later sends both
    calls' fields, as if each had been performed at once."""
    ledger = {"LABLEDGER_SQLITE_PATH": str(tmp_path / "shared.sqlite3")}
    offline = load_settings(environ={"LABLEDGER_LAB": "cortexlab", **ledger})
    client = RegistrationClient(settings=offline, ledger=open_ledger(offline))
    day = dt.date.today().isoformat()
    folder, _ = client.create_new_session(
        "algernon", tmp_path / "cortexlab" / "Subjects", start_time=f"{day}T09:15:00"
    )
    client.register_session(folder, task_protocol="choiceWorld", n_trials=400)

    door.env.update(alyx_env(server, tmp_path), **ledger)
    door("sync").ok()

    (session,) = server.state.snapshot()["sessions"]
    assert session["start_time"] == f"{day}T09:15:00"
    assert (session["task_protocol"], session["n_trials"]) == ("choiceWorld", 400)
