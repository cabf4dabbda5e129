"""The pure Alyx policies: session numbering, values, session fields and request bodies."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from labledger.domain.alf import SessionRef
from labledger.domain.file_registration import (
    FileOptions,
    FileRequest,
    InvalidFileOptions,
    body,
    versions_for,
)
from labledger.domain.measurements import InvalidValue, four_significant, local_time, positive
from labledger.domain.numbering import NoSessionNumber, next_number
from labledger.domain.session_fields import (
    InvalidSessionField,
    check_fields,
    create_body,
    update_body,
)
from tests.fixture_paths import ALYX_FIXTURES

REF = SessionRef("cortexlab", "algernon", dt.date(2026, 11, 21), "001")


@pytest.mark.parametrize(
    ("local", "alyx", "ledger", "expected"),
    [
        ([], [], [], ("001", False)),
        (["001", "007"], [], [], ("008", False)),  # gaps are not filled, as in ONE
        (["001", ".002", "notes"], [], [], ("002", False)),
        (["001"], [3], [], ("004", True)),  # Alyx ahead of the disk: another rig
        (["001"], [], ["005"], ("006", False)),  # allocated in the ledger, folder elsewhere
    ],
)
def test_next_number(
    local: list[str], alyx: list[int], ledger: list[str], expected: tuple[str, bool]
) -> None:
    assert next_number(local, alyx, ledger) == expected


def test_no_number_after_999() -> None:
    with pytest.raises(NoSessionNumber):
        next_number(["999"])


@pytest.mark.parametrize(
    ("value", "rounded"), [(35.10000000235, 35.1), (0.123456, 0.1235), (12345, 12340.0)]
)
def test_four_significant_figures(value: float, rounded: float) -> None:
    assert four_significant(value) == rounded


def test_positive_and_times() -> None:
    assert positive(25.31234, "weight", "g") == 25.31
    with pytest.raises(InvalidValue, match="weight 0 g must be greater than 0"):
        positive(0, "weight", "g")
    now = dt.datetime(2026, 11, 21, 10, 0, 0, 123)
    assert local_time(None, now) == "2026-11-21T10:00:00.000123"
    assert local_time(dt.date(2021, 7, 14), now) == "2021-07-14T00:00:00"
    assert local_time("2021-07-14", now) == "2021-07-14T00:00:00"
    with pytest.raises(InvalidValue, match="UTC offset"):
        local_time("2021-07-14T00:00:00Z", now)


def test_create_body_matches_ones_observed_body() -> None:
    observed = json.loads((ALYX_FIXTURES / "sessions.create.request.json").read_text())
    ours = create_body(REF, {}, "test_user")
    assert ours == observed and list(ours) == list(observed)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"subject": "other"}, "comes from the session folder"),
        ({"number": "002"}, "comes from the session folder"),
        ({"colour": "blue"}, "unknown session field 'colour'"),
        ({"start_time": "2026-11-20T23:00:00"}, "is not on the session's date"),
        ({"lab": "otherlab"}, 'does not match the lab in the path ("cortexlab")'),
        ({"n_trials": "many"}, "must be a whole number"),
    ],
)
def test_bad_session_fields(fields: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidSessionField, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_fields(REF, fields)


def test_update_changes_only_what_was_given() -> None:
    held = {
        "users": ["alice"],
        "type": "Experiment",
        "lab": "cortexlab",
        "start_time": "2026-11-21T09:30:00",
        "task_protocol": "choiceWorld",
        "n_trials": 10,
    }
    assert update_body(REF, {"task_protocol": "choiceWorld"}, held) is None
    assert update_body(REF, {"start_time": "2026-11-21T09:30:00.000"}, held) is None
    put = update_body(REF, {"n_trials": 400}, held)
    assert put == {
        "subject": "algernon",
        "users": ["alice"],
        "type": "Experiment",
        "number": "001",
        "lab": "cortexlab",
        "start_time": "2026-11-21T09:30:00",
        "n_trials": 400,
    }


def test_register_file_body_matches_ones_order() -> None:
    observed = json.loads((ALYX_FIXTURES / "register-file.request.json").read_text())
    ref = SessionRef("cortexlab", observed["path"].split("/")[0], REF.date, "001")
    files = [
        FileRequest(name, md5, size)
        for name, md5, size in zip(
            observed["filenames"], observed["hashes"], observed["filesizes"], strict=True
        )
    ]
    ours = body(ref, files, FileOptions(created_by=observed["created_by"]))
    assert list(ours) == list(observed)
    assert ours == observed


def test_extras_merge_last_but_not_over_computed_keys() -> None:
    options = FileOptions(created_by="u", extra={"labs": "otherlab", "qc": "PASS"})
    result = body(REF, [FileRequest("alf/a.b.npy", None, 1)], options)
    assert result["labs"] == "otherlab" and result["qc"] == "PASS"
    assert list(result)[-2:] == ["labs", "qc"]
    with pytest.raises(InvalidFileOptions, match="hashes"):
        FileOptions(created_by="u", extra={"hashes": []})


def test_versions_one_for_all_or_one_each() -> None:
    assert versions_for(3, "1.0") == ["1.0"] * 3
    assert versions_for(2, ["a", None]) == ["a", None]
    with pytest.raises(InvalidFileOptions, match="2 versions given for 3 files"):
        versions_for(3, ["a", "b"])
