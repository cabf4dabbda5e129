"""labledger's `RegistrationClient` is a drop-in for ONE-api 3.6.1's: the same calls, on two
identical loopback Alyx servers and identical copies of the data, return the same values and leave
the same servers and the same folders (tests/drop_in.py: `Twin`, `Normaliser`).

ONE's client runs in the test process; labledger's in a fresh interpreter, built as a rig script
builds it (`RegistrationClient()`, settings from LABLEDGER_* variables, scratch HOME), kept for the
scenario. Server-side changes between calls (protecting a dataset, writing a file) are made on both
sides between steps.

What labledger does differently on purpose (README, "Where labledger differs from ONE on
purpose") is left out of these scenarios: re-running `register_session` (ONE re-sends every file
and resets the session's fields), a path given twice, a `versions` list cycled over the input,
unknown water keywords, a weighing or water record asked twice, aware datetimes, revision letters
where ONE would reuse an unprotected revision or run past `z`, a move into a dated unprotected
revision holding different bytes, a failing flag in `create_sessions`, a path without a lab, a
session of today created without a start time (labledger starts it now, ONE at midnight). Where
ONE raises: tests/test_one_drop_in_refusals.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.drop_in import LAB_ROOT, Twin, at, call, day, moment, ref, text

SAMPLE_DAY = "2026-11-21"


@pytest.fixture
def twin(tmp_path: Path) -> Iterator[Twin]:
    both = Twin(tmp_path)
    yield both
    both.close()


def _today() -> str:
    """The client's local date: ONE names new revisions by it (never hard-coded: the suite also
    runs under faketime)."""
    return dt.date.today().isoformat()


def test_register_session_with_fields_file_lists_and_none(twin: Twin) -> None:
    first = twin.session()
    second = twin.session(f"algernon/{SAMPLE_DAY}/002")
    third = twin.session(f"algernon/{SAMPLE_DAY}/003")
    known = twin.session(f"algernon/{SAMPLE_DAY}/004")  # already on Alyx, as ONE would make it
    twin.both(lambda server, _: server.state.add_session("algernon", f"{SAMPLE_DAY}T00:00:00", 4))
    twin.both(lambda server, _: server.state.add_location("rig_01"))
    twin.both(lambda server, _: server.state.add_user("operator2"))
    twin.write(f"{first}/alf/#{SAMPLE_DAY}#/licks.times.npy", b"licks in a revision folder")
    twin.step(
        call(
            "register_session",
            at(first),
            users=["test_user", "operator2"],
            start_time=moment(dt.datetime(2026, 11, 21, 9, 30, 5)),
            end_time=f"{SAMPLE_DAY}T10:45:00",
            location="rig_01",
            procedures="Behavior training/tasks",
            projects=["main"],
            n_trials=400,
            n_correct_trials=310,
            task_protocol="_iblrig_tasks_ephysChoiceWorld6.4.2",
            json={"rig": "r1", "notes": ["a", "b"]},
            narrative="went well",
            lab="cortexlab",
        ),
        call("register_session", text(second), "test_user", False),
        call(
            "register_session",
            at(third),
            file_list=[
                text(f"{third}/alf/licks.times.npy"),
                at(f"{third}/alf/_ibl_trials.table.pqt"),  # no dataset type: None
                at(f"{third}/alf/probe00/spikes.times.npy"),
            ],
        ),
        call("register_session", at(known), file_list=[at(f"{known}/alf/licks.times.npy")]),
        call("find_files", at(first)),
    )
    twin.assert_same()


def test_register_files_mixed_lists_single_paths_and_dry_bodies(twin: Twin) -> None:
    one = twin.session()
    two = twin.session(f"algernon/{SAMPLE_DAY}/002")
    twin.write(f"{one}/alf/licks.times.xyz", b"unknown extension")
    twin.write(f"{one}/alf/licks.npy", b"not an ALF name")
    licks = f"{one}/alf/licks.times.npy"
    left = f"{one}/alf/_ibl_trials.probabilityLeft.npy"
    spikes = f"{one}/alf/probe00/spikes.times.npy"
    clusters = f"{one}/alf/probe00/spikes.clusters.npy"
    depths = f"{one}/alf/probe00/clusters.depths.npy"
    camera = f"{one}/raw_video_data/_iblrig_leftCamera.times.npy"
    no_type = f"{one}/alf/_ibl_trials.table.pqt"  # valid name and format, no dataset type
    unknown = f"{one}/alf/licks.times.xyz"  # no data format .xyz
    not_alf = f"{one}/alf/licks.npy"  # not object.attribute.extension
    twin.both(lambda server, _: server.state.add_user("operator2"))
    twin.step(
        call("register_session", at(one), file_list=False),
        call("register_session", at(two), file_list=False),
        # dry: one body per session, in the order the sessions first appear, no network
        call(
            "register_files",
            [at(licks), at(f"{two}/alf/probe00/spikes.times.npy"), at(no_type), at(left)],
            dry=True,
        ),
        call(
            "register_files",
            [at(licks), at(spikes), at(depths)],
            dry=True,
            default=False,
            repository="flatiron_cortexlab",
            versions=["1.0.0", "1.1.0", None],
            max_md5_size=1000,  # the 3328-byte spikes.times gets no hash
            created_by="test_user",
            server_only=True,
            exists=False,
            qc="PASS",
        ),
        call("register_files", text(licks), dry=True, versions="2.0.0"),
        # registrable and unregistrable files mixed: None in the rejected files' slots
        call(
            "register_files",
            [at(licks), at(no_type), at(spikes), at(unknown), at(not_alf), at(left)],
        ),
        call("register_files", text(clusters)),  # a single path: a single record
        call("register_files", at(unknown)),  # a single unregistrable path: None
        call("register_files", [at(depths), at(camera)], versions="1.2.0"),
        call("register_files", [text(licks), text(left)], versions=["2.0.0"]),
        call(
            "register_files",
            [at(spikes), at(no_type), at(clusters)],
            versions=["3.0.0", "3.0.1", "3.0.2"],  # one per given file, aligned with the input
        ),
        call(
            "register_files",
            [at(depths), at(spikes)],
            default=False,
            repository="flatiron_cortexlab",
            max_md5_size=1000,
        ),
        call(
            "register_files",
            [at(f"{two}/alf/licks.times.npy"), at(f"{two}/alf/probe00/spikes.times.npy")],
            server_only=True,
            repository="cortexlab_local",
            qc="PASS",
        ),
        call(  # two sessions in one call: the records stay aligned with the input
            "register_files",
            [at(camera), at(f"{two}/alf/probe00/clusters.depths.npy"), at(unknown), at(left)],
            created_by="operator2",
            exists=False,
        ),
    )
    twin.assert_same()


def test_create_sessions_and_create_new_session(twin: Twin) -> None:
    past = dt.date.today() - dt.timedelta(days=9)
    first = twin.session("algernon/2026-11-20/001")
    other = twin.session("ZM_1085/2026-11-20/001")
    later = twin.session("algernon/2026-11-20/002")
    twin.write(f"{first}/create_me.flag", b"")
    twin.write(f"{other}/create_me.flag", b"")
    twin.write(f"{later}/register_me.flag", b"")
    twin.step(
        call("create_sessions", at(LAB_ROOT), dry=True),  # folders listed, flags kept
        call("create_sessions", text(LAB_ROOT), register_files=True),
        call("create_sessions", at(LAB_ROOT), "**/register_me.flag"),
        call("create_new_session", "algernon", at(LAB_ROOT), day(past)),
        call(
            "create_new_session",
            "algernon",
            session_root=text(LAB_ROOT),
            date=past.isoformat(),
            task_protocol="training",
            start_time=f"{past.isoformat()}T08:15:00",
        ),
        call("create_new_session", "ZM_1085", session_root=at(LAB_ROOT), date=day(past)),
        call("create_new_session", "algernon", at(LAB_ROOT), day(past), register=False),
        call(  # today: with a start time (without one, labledger starts it now on purpose)
            "create_new_session",
            "algernon",
            session_root=at(LAB_ROOT),
            date=_today(),
            start_time=f"{_today()}T07:00:00",
        ),
    )
    twin.assert_same()


def test_weighings_and_water_with_and_without_session(twin: Twin) -> None:
    session = twin.session()
    twin.both(lambda server, _: server.state.add_user("operator2"))
    twin.step(
        call("register_session", at(session), file_list=False),
        call("register_weight", "algernon", 25.31234, date_time=f"{SAMPLE_DAY}T10:00:00"),
        call(
            "register_weight",
            "algernon",
            24.9,
            moment(dt.datetime(2026, 11, 21, 18, 0, 0, 123456)),
            "test_user",
        ),
        call("register_weight", "ZM_1085", 30.0, date_time=day(dt.date(2026, 11, 20))),
        call(
            "register_water_administration",
            "algernon",
            0.123456,
            water_type="Water 10% Sucrose",
            date_time=f"{SAMPLE_DAY}T11:00:00",
        ),
        call(
            "register_water_administration",
            "algernon",
            1.0,
            date_time=f"{SAMPLE_DAY}T12:00:00",
            adlib=True,
            session=ref(0, 0, "id"),
        ),
        call(
            "register_water_administration",
            "algernon",
            35.10000000235,
            date_time=moment(dt.datetime(2026, 11, 21, 13, 0)),
            user="test_user",
            water_type="Hydrogel",
            session=ref(0, 0, "url"),
        ),
        call(  # the session as its folder
            "register_water_administration",
            "algernon",
            0.25,
            date_time=f"{SAMPLE_DAY}T14:00:00",
            session=at(session),
        ),
        call("create_new_session", "ZM_1085", at(LAB_ROOT), day(dt.date(2026, 11, 20))),
        call(  # the eid as create_new_session returns it (a UUID)
            "register_water_administration",
            "ZM_1085",
            0.5,
            date_time=day(dt.date(2026, 11, 20)),
            user="operator2",
            session=ref(8, 1),
        ),
        call("register_weight", "ZM_1085", 29.5, f"{SAMPLE_DAY}T09:00:00", user="operator2"),
    )
    twin.assert_same()


def test_check_protected_files_and_every_protected_revision_case(twin: Twin) -> None:
    today = _today()
    ses = twin.session()
    two = twin.session(f"algernon/{SAMPLE_DAY}/002")
    spikes = f"{ses}/alf/probe00/spikes.times.npy"
    licks, left = f"{ses}/alf/licks.times.npy", f"{ses}/alf/_ibl_trials.probabilityLeft.npy"
    twin.step(
        call("register_session", at(ses)),
        call("register_session", at(two), file_list=[at(f"{two}/alf/licks.times.npy")]),
    )
    twin.protect(spikes)
    twin.protect(left)
    twin.protect(f"{two}/alf/licks.times.npy")
    twin.write(spikes, b"a new spikes.times, the original protected")
    twin.write(f"{ses}/alf/probe00/clusters.amps.npy", b"never registered")
    twin.write(f"{ses}/alf/#v3#/_ibl_trials.probabilityLeft.npy", b"v3 is not protected")
    files = [
        at(spikes),  # protected original: [{"": true}] -> #today#
        at(licks),  # unprotected original: [{"": false}] -> stays
        at(f"{ses}/alf/probe00/clusters.amps.npy"),  # never registered: [] -> stays
        at(f"{ses}/alf/#v3#/_ibl_trials.probabilityLeft.npy"),  # v3 not protected -> stays
    ]
    twin.step(
        call("check_protected_files", files),
        call("check_protected_files", at(licks)),
        call(
            "check_protected_files",
            [text(licks), at(f"{two}/alf/licks.times.npy"), at(f"{ses}/notes.txt")],
            created_by="test_user",
        ),
        call("register_files", files),
    )
    twin.protect(f"{ses}/alf/probe00/#{today}#/spikes.times.npy")
    twin.write(spikes, b"the latest revision is today's and protected")
    twin.step(call("register_files", at(spikes)))  # today's protected -> #today a#
    twin.protect(f"{ses}/alf/probe00/#{today}a#/spikes.times.npy")
    in_revision = f"{ses}/alf/probe00/#{today}a#/spikes.times.npy"
    twin.step(call("register_files", [text(in_revision)]))  # in protected #today a# -> #today aa#
    twin.protect(f"{ses}/alf/probe00/#{today}aa#/spikes.times.npy")
    twin.write(spikes, b"the latest is today's plus letters, protected")
    twin.step(call("register_files", [at(spikes)]))  # today's lettered, protected -> #today b#
    twin.assert_same()


def test_unprotected_latest_revision_dated_or_not(twin: Twin) -> None:
    today, past = _today(), (dt.date.today() - dt.timedelta(days=9)).isoformat()
    ses = twin.session()
    licks = f"{ses}/alf/licks.times.npy"
    depths = f"{ses}/alf/probe00/clusters.depths.npy"
    clusters = f"{ses}/alf/probe00/spikes.clusters.npy"
    twin.write(f"{ses}/alf/#{past}#/licks.times.npy", b"licks, past revision")
    twin.write(f"{ses}/alf/probe00/#v1#/clusters.depths.npy", b"depths v1")
    twin.write(f"{ses}/alf/probe00/#{today}#/clusters.depths.npy", b"depths today")
    twin.write(f"{ses}/alf/probe00/#foo#/spikes.clusters.npy", b"clusters foo")
    twin.write(f"{ses}/alf/probe00/#v2#/spikes.clusters.npy", b"clusters v2")
    originals = ["alf/licks.times.npy", "alf/probe00/clusters.depths.npy"]
    twin.step(
        call("register_session", at(ses), file_list=False),
        call(
            "register_files",
            [at(f"{ses}/{name}") for name in [*originals, "alf/probe00/spikes.clusters.npy"]],
        ),
        call(  # revisions created in this order: past, v1, today, foo, v2
            "register_files",
            [
                at(f"{ses}/alf/#{past}#/licks.times.npy"),
                at(f"{ses}/alf/probe00/#v1#/clusters.depths.npy"),
                at(f"{ses}/alf/probe00/#{today}#/clusters.depths.npy"),
                at(f"{ses}/alf/probe00/#foo#/spikes.clusters.npy"),
                at(f"{ses}/alf/probe00/#v2#/spikes.clusters.npy"),
            ],
        ),
    )
    twin.protect(licks)
    twin.protect(f"{ses}/alf/probe00/#v1#/clusters.depths.npy")
    twin.protect(f"{ses}/alf/probe00/#foo#/spikes.clusters.npy")
    twin.remove(f"{ses}/alf/#{past}#/licks.times.npy")  # the revision's file is not on this rig
    twin.write(licks, b"moves into the past revision")
    twin.write(depths, b"depths today")  # the same bytes as the file already in #today#
    twin.write(clusters, b"v2 is not a date")
    twin.step(
        call(
            "register_files",
            [
                at(licks),  # dated: [{past: false}, {"": true}] -> #past#
                at(depths),  # dated: [{today: false}, {v1: true}, {"": false}] -> #today#
                at(clusters),  # undated: [{v2: false}, {foo: true}, {"": false}] -> #today#
            ],
        ),
        call("find_files", text(ses)),  # revision folders included
    )
    twin.assert_same()


def test_prepare_files_assert_exists_and_ensure_iso8601(twin: Twin) -> None:
    ses = twin.session()
    two = twin.session(f"algernon/{SAMPLE_DAY}/002")
    files = [
        at(f"{ses}/alf/probe00/spikes.times.npy"),
        at(f"{two}/alf/licks.times.npy"),
        at(f"{ses}/alf/licks.times.npy"),
        at(f"{ses}/notes.txt"),
    ]
    twin.step(
        call("prepare_files", files),
        call("prepare_files", files, versions="1.0"),
        call("prepare_files", files[:3], versions=["3", "2", "1"]),
        call("prepare_files", at(f"{ses}/alf/licks.times.npy")),
        call("assert_exists", "algernon", "subjects"),
        call("assert_exists", ["test_user"], "users"),
        call("ensure_ISO8601", f"{SAMPLE_DAY}T10:00:00"),
        call("ensure_ISO8601", SAMPLE_DAY),
    )
    twin.step(call("assert_exists", "nobody", "subjects"), refusals=True)
    twin.assert_same()
