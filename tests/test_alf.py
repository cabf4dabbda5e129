"""ALF parsing: ONE-api's example tables of file names and session paths, one-line errors naming
the part, agreement with ONE-api 3.6.1 on every path both accept, and the deliberate differences
(ONE truncates folder names, takes any folder above `Subjects` as the lab, sends collections,
revisions and file names unchecked)."""

from __future__ import annotations

import datetime
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from types import SimpleNamespace
from typing import TypeVar, cast

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from one.alf.exceptions import ALFInvalid
from one.alf.path import (
    filename_parts,
    full_path_parts,
    get_session_path,
    rel_path_parts,
    session_path_parts,
)
from one.registration import RegistrationClient

from labledger.domain.alf import (
    FileName,
    RelPath,
    SessionRef,
    parse_filename,
    parse_rel_path,
    parse_session_path,
    resolve_lab,
)
from labledger.domain.errors import InvalidALFPath
from tests.fixture_paths import ALYX_FIXTURES

T = TypeVar("T")
FILE_KEYS = ("namespace", "object", "attribute", "timescale", "extra", "extension")


def _as_dict(parts: object) -> dict[str, str | None]:
    """ONE's parts asked for `as_dict`: a dict (what ONE's unannotated functions return depends
    on that argument, which a type checker cannot follow)."""
    return cast("dict[str, str | None]", parts)


def _as_tuple(parts: object) -> tuple[str | None, ...]:
    """ONE's parts not asked for `as_dict`: a tuple."""
    return cast("tuple[str | None, ...]", parts)


def _one(parts: object) -> dict[str, str]:
    """ONE's parts (`as_dict`) with None (absent) as ''."""
    return {key: value or "" for key, value in _as_dict(parts).items()}


def _ours_file(name: FileName) -> dict[str, str]:
    return {key: getattr(name, key) for key in FILE_KEYS}


def _ours_session(ref: SessionRef) -> dict[str, str]:
    return {
        "lab": ref.lab or "",
        "subject": ref.subject,
        "date": ref.date.isoformat(),
        "number": ref.number,
    }


def _ours_rel(rel: RelPath) -> dict[str, str]:
    return {"collection": rel.collection, "revision": rel.revision, **_ours_file(rel.filename)}


def _raises(call: Callable[[], object]) -> str:
    """The message of the InvalidALFPath `call` raises; it must be one line."""
    with pytest.raises(InvalidALFPath) as caught:
        call()
    message = str(caught.value)
    assert "\n" not in message
    return message


# -- file names ------------------------------------------------------------------------------------

VALID_FILENAMES = [
    ("spikes.times.npy", ("", "spikes", "times", "", "", "npy")),
    ("_ibl_trials.goCue_times_bpod.csv", ("ibl", "trials", "goCue_times", "bpod", "", "csv")),
    (
        "_ns_obj.times_timescale.extra.foo.ext",
        ("ns", "obj", "times", "timescale", "extra.foo", "ext"),
    ),
    ("obj.attr_with_underscore.npy", ("", "obj", "attr", "with_underscore", "", "npy")),
    ("obj.stimOn_intervals.npy", ("", "obj", "stimOn_intervals", "", "", "npy")),
    ("obj.intervals_bpod.npy", ("", "obj", "intervals", "bpod", "", "npy")),
    ("channels._phy_ids.csv", ("", "channels", "_phy_ids", "", "", "csv")),
    ("obj.attr.extra-1.npy", ("", "obj", "attr", "", "extra-1", "npy")),
    ("a.b.c", ("", "a", "b", "", "", "c")),
    ("Obj.Attr.NPY", ("", "Obj", "Attr", "", "", "NPY")),
    ("obj.1attr.npy", ("", "obj", "1attr", "", "", "npy")),
    ("bad_name.x.y.z", ("", "bad_name", "x", "", "y", "z")),
    ("__ns_obj.attr.npy", ("", "ns_obj", "attr", "", "", "npy")),
    ("_name_space_obj.attr.npy", ("name", "space_obj", "attr", "", "", "npy")),
    (
        "_spikeglx_ephysData_g0_t0.imec0.lf.bin",
        ("spikeglx", "ephysData_g0_t0", "imec0", "", "lf", "bin"),
    ),
]


@pytest.mark.parametrize(("name", "parts"), VALID_FILENAMES, ids=[n for n, _ in VALID_FILENAMES])
def test_filename_examples_split_like_one(name: str, parts: tuple[str, ...]) -> None:
    expected = dict(zip(FILE_KEYS, parts, strict=True))
    assert _ours_file(parse_filename(name)) == expected
    assert _one(filename_parts(name, as_dict=True)) == expected


INVALID_FILENAMES = [
    ("foo.npy", "object.attribute.extension", "no attribute"),
    ("_ns_obj.attr", "object.attribute.extension", "no extension"),
    ("obj-1.attr.npy", '"obj-1"', "hyphen in object"),
    ("obj.attr.ext-1", '"ext-1"', "hyphen in extension"),
    ("obj..attr.npy", "attribute is empty", "empty attribute"),
    (".obj.attr.npy", "object is missing", "empty object"),
    ("obj.attr..npy", "empty", "empty extra"),
    ("obj.attr.x y.npy", '"x y"', "space in extra"),
    ("obj.attr.é.np y", '"np y"', "space in extension"),
    ("obj.é.npy", '"é"', "non-ASCII attribute"),
    ("my file.times.npy", '"my file"', "space in object"),
]


@pytest.mark.parametrize(
    ("name", "names", "why"), INVALID_FILENAMES, ids=[w for _, _, w in INVALID_FILENAMES]
)
def test_invalid_filenames_name_the_part(name: str, names: str, why: str) -> None:
    message = _raises(lambda: parse_filename(name))
    assert f'file name "{name}"' in message
    assert names in message
    assert filename_parts(name, assert_valid=False)[1] is None  # ONE refuses these too


# -- session paths ---------------------------------------------------------------------------------

JAN_2 = datetime.date(2024, 1, 2)
VALID_SESSIONS = [
    ("cortexlab/Subjects/SW_001/2024-01-02/001", SessionRef("cortexlab", "SW_001", JAN_2, "001")),
    ("SW_001/2024-01-02/001", SessionRef(None, "SW_001", JAN_2, "001")),
    ("SW_001/2024-01-02/1", SessionRef(None, "SW_001", JAN_2, "1")),
    ("/data/Subjects/SW_001/2024-01-02/001", SessionRef("data", "SW_001", JAN_2, "001")),
    ("/mnt/s0/lab/Subjects/S1.a-b/2024-01-02/001/", SessionRef("lab", "S1.a-b", JAN_2, "001")),
    (
        "C:\\data\\lab\\Subjects\\ZM_1085\\2024-01-02\\002",
        SessionRef("lab", "ZM_1085", JAN_2, "002"),
    ),
    ("/d//Souris_é/./2024-01-02/000", SessionRef(None, "Souris_é", JAN_2, "000")),
]


@pytest.mark.parametrize(("path", "ref"), VALID_SESSIONS, ids=[p for p, _ in VALID_SESSIONS])
def test_session_path_examples(path: str, ref: SessionRef) -> None:
    assert parse_session_path(path) == ref


def test_session_path_objects() -> None:
    assert parse_session_path(PurePosixPath("/data/lab/Subjects/S1/2024-01-02/001")).lab == "lab"
    windows = PureWindowsPath(r"D:\lab\Subjects\S1\2024-01-02\003")
    assert parse_session_path(windows) == SessionRef("lab", "S1", JAN_2, "003")
    # a POSIX folder may contain a backslash: it is a character of the name, not a separator
    _raises(lambda: parse_session_path(PurePosixPath("/d/a\\S1/2024-01-02/001")))


def test_session_ref_paths() -> None:
    ref = SessionRef("cortexlab", "SW_001", JAN_2, "1")
    assert ref.alyx_path == "SW_001/2024-01-02/1"
    assert ref.key == "cortexlab/SW_001/2024-01-02/1"
    assert SessionRef(None, "SW_001", JAN_2, "001").key == "SW_001/2024-01-02/001"


INVALID_SESSIONS = [
    ("/d/S1/2024-01-02/0001", '"0001"', "1 to 3 digits, e.g. 001", "number 0001"),
    ("/d/S1/2024-01-02/1234", '"1234"', "1 to 3 digits", "number 1234"),
    ("/d/S1/2024-01-02/١٢٣", '"١٢٣"', "digits 0-9", "non-ASCII digits"),
    ("/d/S1/2024-01-02/001/alf", 'folder "alf" inside a session', "not a session", "inside"),
    ("/d/Subjects/S1", 'the subject folder "S1"', "e.g. algernon/2026-11-21/001", "subject"),
    ("/d/Subjects/S1/2024-01-02", 'the date folder "2024-01-02"', "subject/YYYY-MM-DD/NNN", "date"),
    ("/d/lab/Subjects", 'the folder "Subjects" holding', "not a session folder", "Subjects"),
    ("/d/my subject/2024-01-02/001", '"my subject"', '"_", "-" or "." only', "space in subject"),
    ("/d/S+1/2024-01-02/001", '"S+1"', '"_", "-" or "." only', "plus in subject"),
    ("/d/S1/2024-13-45/001", '"2024-13-45"', "not a real calendar date", "impossible date"),
    ("/d/S1/2024-1-2/001", '"2024-1-2"', "YYYY-MM-DD", "short date"),
    ("/2024-01-02/001", '"2024-01-02"', "no subject folder", "missing subject"),
    ("2024-01-02/001", '"2024-01-02"', "no subject folder", "missing subject, relative"),
    ("001", '"001"', "no date folder", "number only"),
    ("", '""', "empty", "empty"),
    ("/data/Subjects/2024-01-02/001", '"Subjects"', "subject folder is missing", "Subjects"),
    ("/Subjects/S1/2024-01-02/001", '"Subjects"', "no lab folder", "Subjects at root"),
    ("Subjects/S1/2024-01-02/001", '"Subjects"', "no lab folder", "Subjects, relative"),
    ("/x/my-lab/Subjects/S1/2024-01-02/001", '"my-lab"', 'or "_" only', "hyphen in lab"),
    ("C:\\Subjects\\S1\\2024-01-02\\001", '"C:"', "lab", "drive above Subjects"),
    ("/d/../2024-01-02/001", '".."', "parent folder", "dot-dot subject"),
]


@pytest.mark.parametrize(
    ("path", "names", "rule", "why"), INVALID_SESSIONS, ids=[w for *_, w in INVALID_SESSIONS]
)
def test_invalid_session_paths_name_the_folder(path: str, names: str, rule: str, why: str) -> None:
    message = _raises(lambda: parse_session_path(path))
    assert names in message
    assert rule in message
    if path:
        assert path in message


def test_a_subject_folder_is_named_as_one_with_the_form_of_a_session_folder() -> None:
    """`scan …/Subjects/algernon` once said: session folder "algernon" ... (ALF \\d{1,3})."""
    path = "examples/cortexlab/Subjects/algernon"
    assert _raises(lambda: parse_session_path(path)) == (
        f'{path} is the subject folder "algernon", not a session folder (subject/YYYY-MM-DD/NNN, '
        "e.g. algernon/2026-11-21/001); pass the session folder itself"
    )


def test_number_error_is_the_documented_line() -> None:
    assert _raises(lambda: parse_session_path("/d/S1/2024-01-02/0001")) == (
        'session folder "0001" in /d/S1/2024-01-02/0001: a session number is 1 to 3 digits, '
        "e.g. 001; rename the folder"
    )


# -- resolve_lab: is the folder above Subjects a lab? ----------------------------------------------

DATA_LAB = parse_session_path("/data/Subjects/SW_001/2024-01-02/001")
NO_LAB = parse_session_path("/data/SW_001/2024-01-02/001")


def test_path_lab_accepted_when_configured_or_known() -> None:
    assert resolve_lab(DATA_LAB, "data").lab == "data"
    assert resolve_lab(DATA_LAB, None, {"data", "cortexlab"}).lab == "data"
    assert resolve_lab(DATA_LAB, "cortexlab", ["data"]).lab == "data"


def test_no_path_lab_takes_the_configured_one() -> None:
    assert resolve_lab(NO_LAB, "cortexlab") == SessionRef("cortexlab", "SW_001", JAN_2, "001")
    assert resolve_lab(NO_LAB, None).lab is None


def test_unknown_path_lab_says_how_to_set_the_lab() -> None:
    message = _raises(lambda: resolve_lab(DATA_LAB, None, ("cortexlab",)))
    assert '"data"' in message
    assert "--lab" in message
    assert "settings" in message
    assert "cortexlab" in message  # the labs Alyx knows


def test_path_and_configuration_disagree() -> None:
    message = _raises(lambda: resolve_lab(DATA_LAB, "cortexlab", ("cortexlab",)))
    assert '"data"' in message
    assert '"cortexlab"' in message
    assert "disagrees" in message


# -- relative paths: collections, revisions, file names --------------------------------------------

VALID_REL_PATHS = [
    ("spikes.times.npy", "", ""),
    ("alf/probe00/spikes.times.npy", "alf/probe00", ""),
    ("alf/probe00/#2024-01-02#/spikes.times.npy", "alf/probe00", "2024-01-02"),
    ("#v1.0-rc#/_ibl_trials.table.pqt", "", "v1.0-rc"),
    ("raw_video_data/_iblrig_leftCamera.raw.mp4", "raw_video_data", ""),
]


@pytest.mark.parametrize(
    ("rel", "collection", "revision"), VALID_REL_PATHS, ids=[r for r, _, _ in VALID_REL_PATHS]
)
def test_rel_paths(rel: str, collection: str, revision: str) -> None:
    parsed = parse_rel_path(rel)
    assert (parsed.collection, parsed.revision, parsed.name) == (
        collection,
        revision,
        rel[-len(parsed.name) :],
    )
    assert parsed.filename == parse_filename(parsed.name)
    assert parsed.as_posix() == rel
    assert _ours_rel(parsed) == _one(rel_path_parts(rel, as_dict=True))


INVALID_REL_PATHS = [
    ("my data/spikes.times.npy", '"my data"', "collection folder", "space in collection"),
    ("raw+video/x.y.npy", '"raw+video"', "collection folder", "plus in collection"),
    ("a#b/x.y.npy", '"a#b"', "#name#", "hash in collection"),
    ("#v1#/alf/x.y.npy", '"#v1#"', "directly contain", "revision above a collection"),
    ("#a#/#b#/x.y.npy", '"#a#"', "only one", "two revisions"),
    ("#v 1#/x.y.npy", '"#v 1#"', "revision name", "space in revision"),
    ("alf//x.y.npy", '"alf//x.y.npy"', "empty folder", "empty folder"),
    ("../x.y.npy", '".."', "not a folder name", "parent folder"),
    ("./x.y.npy", '"."', "not a folder name", "current folder"),
    ("/alf/x.y.npy", '"/alf/x.y.npy"', "relative", "absolute"),
    ("alf/", '"alf/"', "not a folder", "folder"),
    ("", "empty", "file", "empty"),
    ("alf/spikes.npy", '"spikes.npy"', "object.attribute.extension", "bad file name"),
    ("alf/obj-1.attr.npy", '"obj-1"', r"(ALF \w+)", "hyphen in object"),
]


@pytest.mark.parametrize(
    ("rel", "names", "rule", "why"), INVALID_REL_PATHS, ids=[w for *_, w in INVALID_REL_PATHS]
)
def test_invalid_rel_paths_name_the_part(rel: str, names: str, rule: str, why: str) -> None:
    message = _raises(lambda: parse_rel_path(rel))
    assert names in message
    assert rule in message


# -- agreement with ONE on every path both accept ------------------------------------------------

SAFE = "abcXYZ019_"
EDGE = "aZéß中ж09٣_-. #+"
DATE_SHAPED = re.compile(r"\d{4}-\d{2}-\d{2}")


def _text(alphabet: str, max_size: int = 6) -> st.SearchStrategy[str]:
    return st.text(alphabet=alphabet, min_size=1, max_size=max_size)


folder_names = st.one_of(_text(SAFE), _text(SAFE + ".-"), _text(EDGE)).filter(
    lambda name: name not in (".", "..")
)
numbers = st.one_of(st.from_regex(r"[0-9]{1,4}", fullmatch=True), _text(EDGE, 3))
dates = st.one_of(
    st.dates(min_value=datetime.date(1000, 1, 1)).map(datetime.date.isoformat),
    st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", fullmatch=True),
    _text(EDGE, 10),
)
namespaces = st.one_of(st.just(""), _text("abZ09"), _text(EDGE, 3))
objects = st.one_of(_text(SAFE), _text(EDGE))
attributes = st.one_of(
    st.from_regex(r"(_[a-z]{1,3}_)?[a-zA-Z0-9]{1,5}(_times|_intervals)?", fullmatch=True),
    _text(EDGE, 5),
)
optional_parts = st.one_of(st.just(""), _text(SAFE), _text(EDGE, 4))


@st.composite
def filenames(draw: st.DrawFn) -> str:
    namespace = draw(namespaces)
    name = f"_{namespace}_" if namespace else ""
    name += f"{draw(objects)}.{draw(attributes)}"
    timescale = draw(optional_parts)
    name += f"_{timescale}" if timescale else ""
    for extra in draw(st.lists(optional_parts, max_size=2)):
        name += f".{extra}"
    return f"{name}.{draw(objects)}"


@st.composite
def alf_paths(draw: st.DrawFn) -> tuple[str, str]:
    """(session folder, path relative to it), from parts that may break the rules."""
    root = draw(st.sampled_from(["/data", "/mnt/s0/Data", "rel"]))
    lab = draw(st.none() | folder_names)
    subject = draw(folder_names)
    assume(not DATE_SHAPED.fullmatch(subject))  # ONE misreads those: see the test below
    session = "/".join(
        [root, *([lab, "Subjects"] if lab else []), subject, draw(dates), draw(numbers)]
    )
    folders = draw(st.lists(folder_names, max_size=2))
    revision = draw(st.none() | folder_names)
    rel = "/".join([*folders, *([f"#{revision}#"] if revision else []), draw(filenames())])
    return session, rel


def _try(call: Callable[[], T]) -> T | None:
    try:
        return call()
    except InvalidALFPath:
        return None


def _one_full(path: str) -> dict[str, str] | None:
    try:
        return _one(full_path_parts(path, as_dict=True))
    except ALFInvalid:
        return None


def test_same_parts_as_one_on_every_path_both_accept() -> None:
    compared: Counter[str] = Counter()

    @settings(max_examples=300, deadline=None)
    @given(alf_paths())
    def check(paths: tuple[str, str]) -> None:
        session, rel = paths
        name = rel.rsplit("/", 1)[-1]
        ours_session = _try(lambda: parse_session_path(session))
        ours_rel = _try(lambda: parse_rel_path(rel))
        ours_file = _try(lambda: parse_filename(name))
        assert (ours_rel is None) or (ours_file is not None)

        one_session = _one(session_path_parts(session, as_dict=True, assert_valid=False))
        if ours_session and one_session["subject"]:
            compared["session"] += 1
            assert _ours_session(ours_session) == one_session
        one_rel = _one(rel_path_parts(rel, as_dict=True, assert_valid=False))
        if ours_rel and one_rel["object"]:
            compared["rel"] += 1
            assert _ours_rel(ours_rel) == one_rel
        one_file = _one(filename_parts(name, as_dict=True, assert_valid=False))
        if ours_file and one_file["object"]:
            compared["file"] += 1
            assert _ours_file(ours_file) == one_file
        one_full = _one_full(f"{session}/{rel}")
        if ours_session and ours_rel and one_full:
            compared["full"] += 1
            assert {**_ours_session(ours_session), **_ours_rel(ours_rel)} == one_full

    check()
    # the generator must give both parsers real work, not only rejections
    assert min(compared[key] for key in ("session", "rel", "file", "full")) >= 20, compared


def test_one_misreads_a_date_shaped_subject() -> None:
    """Excluded from the property test: ONE's unanchored search reads the subject folder as the
    date and the date folder as the number; labledger reads the folders as they are."""
    path = "/data/2024-01-01/2024-01-02/001"
    assert session_path_parts(path) == (None, "data", "2024-01-01", "202")
    assert parse_session_path(path) == SessionRef(None, "2024-01-01", JAN_2, "001")


# -- deliberate differences ----------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """ONE accepts `one(tmp_path)` returning `one_returns`; labledger raises naming `names`."""

    quirk: str
    case: str
    one: Callable[[Path], object]
    one_returns: object
    labledger: Callable[[], object]
    names: str


def _session(path: str) -> tuple[str, ...]:
    return tuple(value or "" for value in session_path_parts(path))


def _folders(path: str) -> tuple[str, str]:
    parts = _as_dict(full_path_parts(path, as_dict=True))
    return parts["collection"] or "", parts["revision"] or ""


def _walk(tmp_path: Path, rel: str) -> list[str]:
    """What ONE's `RegistrationClient.find_files` (used by `register_session`) would register
    in a session folder holding only `rel`, with the Alyx 3.6.1 types and formats."""
    session = tmp_path / "S1" / "2024-01-02" / "001"
    (session / rel).parent.mkdir(parents=True)
    (session / rel).write_bytes(b"")
    types = json.loads((ALYX_FIXTURES / "dataset-types.list.200.json").read_text())["results"]
    formats = json.loads((ALYX_FIXTURES / "data-formats.list.200.json").read_text())["results"]
    # find_files reads only these two attributes of its client (no server, no login)
    client = SimpleNamespace(dtypes=types, file_extensions=[f["file_extension"] for f in formats])
    return [
        path.relative_to(session).as_posix()
        for path in RegistrationClient.find_files(cast(RegistrationClient, client), session)
    ]


def _lab(path: str, configured: str | None) -> SessionRef:
    return resolve_lab(parse_session_path(path), configured, ("cortexlab",))


DELIBERATE_DIFFERENCES = [
    Difference(
        "ONE reads a session path loosely",
        "subject with a space is truncated",
        lambda _: _session("/d/my subject/2024-01-02/001"),
        ("", "subject", "2024-01-02", "001"),
        lambda: parse_session_path("/d/my subject/2024-01-02/001"),
        "my subject",
    ),
    Difference(
        "ONE reads a session path loosely",
        "subject with a plus is truncated",
        lambda _: _session("/d/S+1/2024-01-02/001"),
        ("", "1", "2024-01-02", "001"),
        lambda: parse_session_path("/d/S+1/2024-01-02/001"),
        "S+1",
    ),
    Difference(
        "ONE reads a session path loosely",
        "number 0001 is a session folder read as 000",
        lambda _: (
            str(get_session_path("/d/S1/2024-01-02/0001")),
            _session("/d/S1/2024-01-02/0001")[3],
        ),
        ("/d/S1/2024-01-02/0001", "000"),
        lambda: parse_session_path("/d/S1/2024-01-02/0001"),
        "0001",
    ),
    Difference(
        "ONE reads a session path loosely",
        "number 1234 is read as 123",
        lambda _: _session("/d/S1/2024-01-02/1234")[3],
        "123",
        lambda: parse_session_path("/d/S1/2024-01-02/1234"),
        "1234",
    ),
    Difference(
        "ONE reads a session path loosely",
        "non-ASCII digits are a number",
        lambda _: _session("/d/S1/2024-01-02/١٢٣")[3],
        "١٢٣",
        lambda: parse_session_path("/d/S1/2024-01-02/١٢٣"),
        "١٢٣",
    ),
    Difference(
        "ONE reads a session path loosely",
        "lab with a hyphen is truncated",
        lambda _: _session("/x/my-lab/Subjects/S1/2024-01-02/001")[0],
        "lab",
        lambda: parse_session_path("/x/my-lab/Subjects/S1/2024-01-02/001"),
        "my-lab",
    ),
    Difference(
        "ONE reads a session path loosely",
        "missing subject folder: Subjects is the subject",
        lambda _: _session("/data/Subjects/2024-01-02/001"),
        ("", "Subjects", "2024-01-02", "001"),
        lambda: parse_session_path("/data/Subjects/2024-01-02/001"),
        "Subjects",
    ),
    Difference(
        "ONE takes any folder as the lab",
        "unknown lab from a Subjects parent",
        lambda _: _session("/data/Subjects/SW_001/2024-01-02/001")[0],
        "data",
        lambda: _lab("/data/Subjects/SW_001/2024-01-02/001", None),
        "data",
    ),
    Difference(
        "ONE takes any folder as the lab",
        "path lab disagrees with the configured lab",
        lambda _: _session("/mnt/s0/Data/Subjects/SW_001/2024-01-02/001")[0],
        "Data",
        lambda: _lab("/mnt/s0/Data/Subjects/SW_001/2024-01-02/001", "cortexlab"),
        "Data",
    ),
    Difference(
        "ONE sends paths unchecked",
        "collection with a space is dropped",
        lambda _: _folders("/d/S1/2024-01-02/001/my data/spikes.times.npy"),
        ("", ""),
        lambda: parse_rel_path("my data/spikes.times.npy"),
        "my data",
    ),
    Difference(
        "ONE sends paths unchecked",
        "collection with a plus is dropped",
        lambda _: _folders("/d/S1/2024-01-02/001/raw+video/x.y.npy"),
        ("", ""),
        lambda: parse_rel_path("raw+video/x.y.npy"),
        "raw+video",
    ),
    Difference(
        "ONE sends paths unchecked",
        "collection below a revision is dropped",
        lambda _: _folders("/d/S1/2024-01-02/001/#v1#/alf/x.y.npy"),
        ("", "v1"),
        lambda: parse_rel_path("#v1#/alf/x.y.npy"),
        "#v1#",
    ),
    Difference(
        "ONE sends paths unchecked",
        "two revisions: the second is dropped",
        lambda _: _folders("/d/S1/2024-01-02/001/#a#/#b#/x.y.npy"),
        ("", "a"),
        lambda: parse_rel_path("#a#/#b#/x.y.npy"),
        "#a#",
    ),
    Difference(
        "ONE sends paths unchecked",
        "parent folder as a collection",
        lambda _: _as_tuple(rel_path_parts("../x.y.npy"))[0],
        "..",
        lambda: parse_rel_path("../x.y.npy"),
        "..",
    ),
    Difference(
        "ONE sends paths unchecked",
        "empty folder kept in the collection",
        lambda _: _as_tuple(rel_path_parts("alf//x.y.npy"))[0],
        "alf/",
        lambda: parse_rel_path("alf//x.y.npy"),
        "alf//x.y.npy",
    ),
    Difference(
        "ONE sends paths unchecked",
        "file name with a trailing newline",
        lambda _: filename_parts("spikes.times.npy\n")[-1],
        "npy",
        lambda: parse_filename("spikes.times.npy\n"),
        "spikes.times.npy\\n",
    ),
    Difference(
        "ONE sends paths unchecked",
        "walk registers a file name with a hyphen in the object",
        lambda tmp: _walk(tmp, "alf/_iblrig_left-Camera.times.npy"),
        ["alf/_iblrig_left-Camera.times.npy"],
        lambda: parse_rel_path("alf/_iblrig_left-Camera.times.npy"),
        "_iblrig_left-Camera.times.npy",
    ),
    Difference(
        "ONE sends paths unchecked",
        "walk registers a collection with a space (Alyx drops it)",
        lambda tmp: _walk(tmp, "my data/_iblrig_leftCamera.times.npy"),
        ["my data/_iblrig_leftCamera.times.npy"],
        lambda: parse_rel_path("my data/_iblrig_leftCamera.times.npy"),
        "my data",
    ),
    Difference(
        "ONE's walk checks nothing",
        "walk registers an editor backup (ends with the '' extension)",
        lambda tmp: _walk(tmp, "alf/_iblrig_leftCamera.times.npy~"),
        ["alf/_iblrig_leftCamera.times.npy~"],
        lambda: parse_rel_path("alf/_iblrig_leftCamera.times.npy~"),
        "npy~",
    ),
]


@pytest.mark.parametrize(
    "row",
    DELIBERATE_DIFFERENCES,
    ids=[f"{row.quirk}: {row.case}" for row in DELIBERATE_DIFFERENCES],
)
def test_deliberate_differences(row: Difference, tmp_path: Path) -> None:
    assert row.one(tmp_path) == row.one_returns  # ONE really behaves as the row says
    message = _raises(row.labledger)
    assert f'"{row.names}"' in message
