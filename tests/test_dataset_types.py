"""Dataset types and data formats: the type-matching table row by row, formats by extension, the
real Alyx 3.6.1 lists,
agreement with ONE's `get_dataset_type`, served-list parsing and the packaged copy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from one.registration import get_dataset_type

from labledger.adapters.alyx.reference_data import (
    DATA_FORMATS_FILE,
    DATASET_TYPES_FILE,
    load_default_reference_data,
    load_reference_data,
)
from labledger.domain.dataset_types import (
    Accepted,
    DataFormat,
    DatasetType,
    ReferenceData,
    Rejected,
    classify,
    match_data_formats,
    match_dataset_type,
)
from labledger.domain.errors import LabledgerError
from tests.fixture_paths import ALYX_FIXTURES, PACKAGED_REFERENCE

PACKAGE_DIR = PACKAGED_REFERENCE


def _served(name: str) -> object:
    return json.loads((ALYX_FIXTURES / name).read_text(encoding="utf-8"))


SERVED = ReferenceData.from_served(
    _served("dataset-types.list.200.json"), _served("data-formats.list.200.json")
)
NPY = (DataFormat("npy", ".npy"),)

# -- dataset types ---------------------------------------------------------------------------------

OBJ_ATTR = DatasetType("obj.attr", "")
FOO_BAR = DatasetType("foo.bar", "*FOO.b?r*")
FOO_BOR = DatasetType("foo.bor", "foo.bor*")
README = DatasetType("README", "")

TABLE_4_1 = [
    ("_ns_obj.attr_clock.extra.npy", (OBJ_ATTR,), ["obj.attr"], "object.attribute of an ALF name"),
    ("FOO.BIR.JSON", (FOO_BAR,), ["foo.bar"], "pattern, case-insensitive"),
    ("README.md", (README,), ["README"], "stem of a non-ALF name"),
    ("OBJ.ATTR.npy", (OBJ_ATTR,), [], "blank pattern is case-sensitive"),
    ("obj.attr", (OBJ_ATTR,), [], "invalid ALF name: stem obj"),
    ("foo.bor", (FOO_BAR, FOO_BOR), ["foo.bar", "foo.bor"], "several"),
]


@pytest.mark.parametrize(
    ("basename", "types", "expected", "why"), TABLE_4_1, ids=[row[-1] for row in TABLE_4_1]
)
def test_table_4_1(
    basename: str, types: tuple[DatasetType, ...], expected: list[str], why: str
) -> None:
    assert [found.name for found in match_dataset_type(basename, types)] == expected


def test_blank_pattern_is_whitespace_too() -> None:
    assert match_dataset_type("obj.attr.npy", [DatasetType("obj.attr", "  ")]) == [
        DatasetType("obj.attr", "  ")
    ]


REAL_EXAMPLES = [
    ("_ibl_trials.probabilityLeft.npy", ["trials.probabilityLeft"]),
    ("_iblrig_leftCamera.times.npy", ["camera.times"]),
    ("_ibl_trials.table.pqt", []),
    ("_iblrig_taskData.raw.jsonable", []),
    ("wheel.position.npy", []),
]


@pytest.mark.parametrize(("basename", "expected"), REAL_EXAMPLES, ids=[b for b, _ in REAL_EXAMPLES])
def test_alyx_3_6_1_types(basename: str, expected: list[str]) -> None:
    assert [found.name for found in match_dataset_type(basename, SERVED.dataset_types)] == expected


ONE_CROSS_CHECK = [
    *(name for name, _ in REAL_EXAMPLES),
    "_ibl_trials.goCue_times.npy",
    "_spikeglx_ephysData_g0_t0.imec0.ap.cbin",
    "spikes.times.npy",
    "clusters.metrics.pqt",
    "_iblrig_leftCamera.raw.mp4",
    "imaging.frames.tif",
    "mpci.times.npy",
    "unknown.npy",
    "STRAßE.x.npy",
]


@pytest.mark.parametrize("basename", ONE_CROSS_CHECK)
def test_same_dataset_type_as_one(basename: str) -> None:
    """ONE 3.6.1's `get_dataset_type` (shared with Alyx 3.6.1) decides the same on the real list."""
    types = [{"name": t.name, "filename_pattern": t.filename_pattern} for t in SERVED.dataset_types]
    ours = [found.name for found in match_dataset_type(basename, SERVED.dataset_types)]
    try:
        assert ours == [get_dataset_type(basename, types).name]
    except ValueError as error:
        assert len(ours) != 1
        assert ("Multiple" in str(error)) == (len(ours) > 1)


def test_case_is_folded_like_one() -> None:
    """`str.casefold`, as ONE: ß folds to ss, which `str.lower` would not do."""
    street = DatasetType("street.name", "strasse.*")
    assert match_dataset_type("STRAßE.name.npy", [street]) == [street]
    assert get_dataset_type("STRAßE.name.npy", [street]).name == "street.name"


# -- data formats ----------------------------------------------------------------------------------

FORMAT_EXAMPLES = [
    ("_ibl_trials.table.pqt", ["parquet"]),
    ("x.y.tar.bz2", ["bzip2"]),
    ("spikes.times.npy", ["npy"]),
    ("a.b.sparse_npz", ["sparse npz"]),
    ("raw.ephys.NPY", []),
    ("README", []),
    (".npy", []),
    ("obj.attr.", []),
    ("obj.attr.npy~", []),
]


@pytest.mark.parametrize(
    ("basename", "expected"), FORMAT_EXAMPLES, ids=[b for b, _ in FORMAT_EXAMPLES]
)
def test_data_format_by_last_suffix(basename: str, expected: list[str]) -> None:
    assert [found.name for found in match_data_formats(basename, SERVED.data_formats)] == expected


def test_extension_less_never_matches_the_empty_extension() -> None:
    """`notData` and `unknown` have extension ''; Alyx would find both and answer 500."""
    assert sorted(f.name for f in SERVED.data_formats if not f.file_extension) == [
        "notData",
        "unknown",
    ]
    assert match_data_formats("README", SERVED.data_formats) == []
    rejected = classify("README", SERVED.dataset_types, SERVED.data_formats)
    assert isinstance(rejected, Rejected)
    assert rejected.code == "invalid-name"


# -- classify ------------------------------------------------------------------------------------


def test_accepted() -> None:
    verdict = SERVED.classify("alf/#2024-01-02#/_ibl_trials.probabilityLeft.npy")
    assert isinstance(verdict, Accepted)
    assert (verdict.dataset_type, verdict.data_format) == ("trials.probabilityLeft", "npy")
    assert (verdict.rel_path.collection, verdict.rel_path.revision) == ("alf", "2024-01-02")
    camera = SERVED.classify("raw_video_data/_iblrig_leftCamera.times.npy")
    assert isinstance(camera, Accepted)
    assert camera.dataset_type == "camera.times"


REJECTIONS = [
    (
        "my data/spikes.times.npy",
        SERVED.dataset_types,
        SERVED.data_formats,
        "invalid-name",
        '"my data"',
    ),
    ("alf/spikes.npy", SERVED.dataset_types, SERVED.data_formats, "invalid-name", '"spikes.npy"'),
    ("alf/spikes.times.zzz", SERVED.dataset_types, SERVED.data_formats, "no-data-format", '".zzz"'),
    (
        "alf/spikes.times.npy",
        SERVED.dataset_types,
        (DataFormat("npy", ".npy"), DataFormat("numpy", ".npy")),
        "several-data-formats",
        "npy, numpy",
    ),
    (
        "alf/_ibl_trials.table.pqt",
        SERVED.dataset_types,
        SERVED.data_formats,
        "no-dataset-type",
        '"_ibl_trials.table.pqt"',
    ),
    (
        "foo.bor.npy",
        (FOO_BAR, FOO_BOR, DatasetType("foo.bor", "")),
        NPY,
        "several-dataset-types",
        'foo.bar (pattern "*FOO.b?r*"), foo.bor (pattern "foo.bor*"), '
        "foo.bor (by object.attribute)",
    ),
]


@pytest.mark.parametrize(
    ("rel", "types", "formats", "code", "names"),
    REJECTIONS,
    ids=[r[3] + ": " + r[0] for r in REJECTIONS],
)
def test_rejections(
    rel: str,
    types: tuple[DatasetType, ...],
    formats: tuple[DataFormat, ...],
    code: str,
    names: str,
) -> None:
    verdict = classify(rel, types, formats)
    assert isinstance(verdict, Rejected)
    assert verdict.code == code
    assert names in verdict.reason
    assert "\n" not in verdict.reason
    assert rel in verdict.reason or code == "invalid-name"


# -- served lists --------------------------------------------------------------------------------


def test_from_served_accepts_envelope_and_bare_list() -> None:
    types = _served("dataset-types.list.200.json")
    formats = _served("data-formats.list.200.json")
    assert isinstance(types, dict) and isinstance(formats, dict)
    assert ReferenceData.from_served(types["results"], formats["results"]) == SERVED
    assert (len(SERVED.dataset_types), len(SERVED.data_formats)) == (114, 29)


def test_from_served_null_pattern_and_extension_are_empty() -> None:
    data = ReferenceData.from_served(
        [{"name": "a.b", "filename_pattern": None}], [{"name": "x", "file_extension": None}]
    )
    assert data == ReferenceData((DatasetType("a.b", ""),), (DataFormat("x", ""),))


MALFORMED = [
    ("not a list", [], "dataset-types list", "got str"),
    ({"count": 1}, [], "dataset-types list", '"results"'),
    (_served("dataset-types.list-limit2.200.json"), [], "dataset-types list", "only one page"),
    ({"count": 3, "next": None, "results": []}, [], "dataset-types list", "count says 3"),
    ([1], [], "dataset-types list", "item 0 is not a JSON object"),
    ([{"filename_pattern": "*"}], [], "dataset-types list", 'no "name"'),
    ([], [{"name": "npy", "file_extension": "npy"}], "data-formats list", '"npy"'),
    ([], [{"name": "tgz", "file_extension": ".tar.gz"}], "data-formats list", '".tar.gz"'),
    ([], None, "data-formats list", "got NoneType"),
]


@pytest.mark.parametrize(
    ("types", "formats", "names", "why"), MALFORMED, ids=[m[-1] for m in MALFORMED]
)
def test_from_served_malformed_names_the_list(
    types: object, formats: object, names: str, why: str
) -> None:
    with pytest.raises(LabledgerError) as caught:
        ReferenceData.from_served(types, formats)
    assert str(caught.value).startswith(names)
    assert why in str(caught.value)


# -- packaged copy and cache directory -----------------------------------------------------------


def test_packaged_copy_equals_the_served_lists() -> None:
    packaged = load_default_reference_data()
    assert packaged == SERVED
    assert (len(packaged.dataset_types), len(packaged.data_formats)) == (114, 29)


@pytest.mark.parametrize(
    ("packaged", "served", "fields"),
    [
        (
            DATASET_TYPES_FILE,
            "dataset-types.list.200.json",
            {"id", "name", "filename_pattern", "description"},
        ),
        (
            DATA_FORMATS_FILE,
            "data-formats.list.200.json",
            {"id", "name", "file_extension", "description"},
        ),
    ],
)
def test_packaged_files_keep_the_served_shape_trimmed(
    packaged: str, served: str, fields: set[str]
) -> None:
    ours = json.loads((PACKAGE_DIR / packaged).read_text(encoding="utf-8"))
    theirs = _served(served)
    assert isinstance(theirs, dict)
    assert {key: ours[key] for key in ("count", "next", "previous")} == {
        key: theirs[key] for key in ("count", "next", "previous")
    }
    assert ours["results"] == [{key: item[key] for key in fields} for item in theirs["results"]]


def test_cache_directory_takes_precedence_file_by_file(tmp_path: Path) -> None:
    refreshed = {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [{"name": "x.y", "filename_pattern": ""}],
    }
    (tmp_path / DATASET_TYPES_FILE).write_text(json.dumps(refreshed), encoding="utf-8")
    data = load_reference_data(tmp_path)
    assert data.dataset_types == (DatasetType("x.y", ""),)
    assert data.data_formats == SERVED.data_formats  # absent from the cache: packaged


def test_no_or_empty_cache_directory_is_the_packaged_copy(tmp_path: Path) -> None:
    assert load_reference_data(None) == SERVED
    assert load_reference_data(tmp_path) == SERVED
    assert load_reference_data(tmp_path / "missing") == SERVED


@pytest.mark.parametrize(
    ("content", "why"),
    [("{not json", "cannot read"), ('{"results": 3}', '"results"'), ("[{}]", 'no "name"')],
)
def test_malformed_cache_file_is_named(tmp_path: Path, content: str, why: str) -> None:
    (tmp_path / DATA_FORMATS_FILE).write_text(content, encoding="utf-8")
    with pytest.raises(LabledgerError) as caught:
        load_reference_data(tmp_path)
    message = str(caught.value)
    assert str(tmp_path / DATA_FORMATS_FILE) in message
    assert why in message
    assert "\n" not in message
