"""The dataset-type index gives exactly what the plain loop gives (`match_dataset_type`, the rule),
in the same order: on the real Alyx lists with generated names, on generated pattern lists, and
on patterns whose wildcards and character classes are easy to get wrong."""

from __future__ import annotations

import json
from collections.abc import Callable
from fnmatch import translate
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labledger.domain.dataset_type_index import ReferenceIndex, literal_runs, suffix_of
from labledger.domain.dataset_types import (
    DataFormat,
    DatasetType,
    ReferenceData,
    classify,
    match_data_formats,
    match_dataset_type,
    parse_served_data_formats,
    parse_served_dataset_types,
)
from tests.fixture_paths import ALYX_FIXTURES, PACKAGED_REFERENCE


def _load(path: Path) -> object:
    return json.loads(path.read_text(encoding="utf-8"))


def _database_types(path: Path) -> tuple[DatasetType, ...]:
    """The dataset types of a database dump (Django fixture: each item's `fields`)."""
    items = _load(path)
    assert isinstance(items, list)
    return parse_served_dataset_types([item["fields"] for item in items])


REAL_LISTS = {
    "packaged": parse_served_dataset_types(_load(PACKAGED_REFERENCE / "dataset_types.json")),
    "served": parse_served_dataset_types(_load(ALYX_FIXTURES / "dataset-types.list.200.json")),
    "database": _database_types(ALYX_FIXTURES / "data.datasettype.json"),
}
REAL_INDEXES = {which: ReferenceIndex(types, ()) for which, types in REAL_LISTS.items()}
FORMATS = parse_served_data_formats(_load(ALYX_FIXTURES / "data-formats.list.200.json"))
PIECES = sorted(
    {
        *(run for types in REAL_LISTS.values() for t in types for run in literal_runs(t.name)),
        *(
            run
            for types in REAL_LISTS.values()
            for t in types
            for run in literal_runs(t.filename_pattern)
        ),
        *(f.file_extension for f in FORMATS),
        "_ibl_",
        "_iblrig_",
        "_spikeglx_",
        ".part0001",
        "STRAßE",
        "ß",
        "SS",
        ".",
        "..",
        "_",
        "#",
        "[",
        "]",
        "*",
        "?",
        " ",
    }
    - {""}
)


def _names(pieces: list[str]) -> st.SearchStrategy[str]:
    piece = st.sampled_from(pieces)
    cases: list[Callable[[str], str]] = [str, str.upper, str.lower, str.swapcase]
    cased = st.tuples(piece, st.sampled_from(cases)).map(lambda pair: pair[1](pair[0]))
    return st.lists(st.one_of(cased, st.text(max_size=3)), max_size=6).map("".join)


def _same(name: str, types: tuple[DatasetType, ...]) -> None:
    expected = match_dataset_type(name, types)
    assert ReferenceIndex(types, ()).dataset_types(name) == expected


@pytest.mark.parametrize("which", sorted(REAL_LISTS))
@settings(max_examples=600, deadline=None)
@given(name=_names(PIECES))
def test_real_lists_generated_names(which: str, name: str) -> None:
    types = REAL_LISTS[which]
    assert REAL_INDEXES[which].dataset_types(name) == match_dataset_type(name, types)


@settings(max_examples=150, deadline=None)
@given(order=st.permutations(REAL_LISTS["packaged"]), name=_names(PIECES))
def test_real_types_in_any_order(order: list[DatasetType], name: str) -> None:
    _same(name, tuple(order))


@pytest.mark.parametrize("which", sorted(REAL_LISTS))
def test_real_lists_on_every_type_name(which: str) -> None:
    """Each type's own name, with each extension and in upper case, matches as in the loop."""
    types = REAL_LISTS[which]
    index = ReferenceIndex(types, ())
    for dataset_type in types:
        for extension in ("", *{f.file_extension for f in FORMATS}):
            for name in (dataset_type.name + extension, f"_x_{dataset_type.name}.y{extension}"):
                for variant in (name, name.upper()):
                    assert index.dataset_types(variant) == match_dataset_type(variant, types)


PATTERN_ALPHABET = st.sampled_from(["a", "B", ".", "*", "?", "[", "]", "!", "-", "ß", "s", "x.y"])
NAME_ALPHABET = st.sampled_from(["a", "b", "B", ".", "*", "?", "[", "]", "!", "-", "ß", "SS", "x"])


@settings(max_examples=1500, deadline=None)
@given(
    patterns=st.lists(
        st.tuples(st.sampled_from(["a.b", "t", "a.b"]), st.lists(PATTERN_ALPHABET).map("".join)),
        max_size=6,
    ),
    name=st.lists(NAME_ALPHABET, max_size=8).map("".join),
)
def test_generated_patterns(patterns: list[tuple[str, str]], name: str) -> None:
    """Character classes, negations, ranges, unclosed `[`, literal `]` and case folding."""
    _same(name, tuple(DatasetType(type_name, pattern) for type_name, pattern in patterns))


TRICKY = [
    ("a[b.npy", "a[b.npy", True, "an unclosed [ is literal"),
    ("a[b.npy", "ab.npy", False, "an unclosed [ is literal, not optional"),
    ("*.np[y]", "x.npy", True, "a class ends the pattern"),
    ("*.np[!y]", "x.npy", False, "negated class"),
    ("x]y.npy", "X]Y.NPY", True, "a ] outside a class is literal"),
    ("[]]*.npy", "].npy", True, "] first in a class is a member"),
    ("[!]]*.npy", "].npy", False, "] first in a negated class"),
    ("*", "anything", True, "a lone star"),
    ("*", "", True, "a lone star matches the empty name"),
    ("?", ".", True, "? matches a dot"),
    ("*.n?y", "a.npy", True, "? in the literal tail"),
    ("*.NPY", "a.npy", True, "patterns are folded"),
    ("strasse.*", "STRAßE.name.npy", True, "ß folds to ss"),
    ("*.tar", "a.tar.bz2", False, "the tail must end the name"),
    ("*.tar*", "a.tar.bz2", True, "a star after the tail"),
    ("a.b.c", "a.b.c", True, "a pattern without wildcards"),
    ("a.b.c", "xa.b.c", False, "a pattern without wildcards is anchored"),
    ("*[.]npy", "a.npy", True, "a dot in a class"),
    ("*.[a-c]at", "x.bat", True, "a range in the tail"),
    ("*.[c-a]at", "x.bat", False, "an empty range never matches"),
    (" *.npy ", "a.npy", False, "spaces around a pattern are literal"),
    ("*ephysData*.ch", "_spikeglx_ephysData_g0.CH", True, "a short dotted tail"),
    ("imaging.times*", "imaging.times.npy", True, "no tail"),
    ("*.", "abc.", True, "a name ending with a dot"),
    ("*.", "abc", False, "no dot in the name"),
]


@pytest.mark.parametrize(
    ("pattern", "name", "matches", "why"), TRICKY, ids=[row[-1] for row in TRICKY]
)
def test_tricky_patterns(pattern: str, name: str, matches: bool, why: str) -> None:
    dataset_type = DatasetType("t.x", pattern)
    assert match_dataset_type(name, [dataset_type]) == ([dataset_type] if matches else [])
    _same(name, (dataset_type,))


def test_blank_patterns_and_patterns_keep_the_list_order() -> None:
    """Types matched by name and by pattern come back interleaved in list order."""
    types = (
        DatasetType("spikes.times", "*.npy"),
        DatasetType("spikes.times", ""),
        DatasetType("other", "spikes.*"),
        DatasetType("spikes.times", "  "),
        DatasetType("spikes", ""),
    )
    assert [
        t.filename_pattern for t in ReferenceIndex(types, ()).dataset_types("spikes.times.npy")
    ] == [
        "*.npy",
        "",
        "spikes.*",
        "  ",
    ]
    _same("spikes.times.npy", types)
    _same("spikes.npy", types)


def test_literal_runs_scan_as_translate_does() -> None:
    assert literal_runs("*spikes.times*.npy") == ["", "spikes.times", ".npy"]
    assert literal_runs("a[b") == ["a[b"]
    assert literal_runs("a[]]b") == ["a", "b"]
    assert literal_runs("x]y") == ["x]y"]
    assert translate("a[b") == "(?s:a\\[b)\\Z"


@given(name=_names(PIECES))
def test_suffix_of_is_the_path_suffix(name: str) -> None:
    assert suffix_of(name) == PurePosixPath(name).suffix


FORMAT_LISTS = [
    FORMATS,
    (DataFormat("a", ".npy"), DataFormat("b", ".npy"), DataFormat("none", "")),
]


@pytest.mark.parametrize("formats", FORMAT_LISTS, ids=["served", "duplicates"])
@given(name=_names(PIECES))
def test_data_formats_as_the_loop(formats: tuple[DataFormat, ...], name: str) -> None:
    assert ReferenceIndex((), formats).data_formats(name) == match_data_formats(name, formats)


SERVED = ReferenceData(REAL_LISTS["served"], FORMATS)
FOLDERS = st.sampled_from(["", "alf/", "alf/probe00/", "raw_video_data/", "alf/#2024-01-02#/"])


@settings(max_examples=1000, deadline=None)
@given(folder=FOLDERS, name=_names(PIECES))
def test_classify_through_the_index_gives_the_same_verdicts(folder: str, name: str) -> None:
    rel = folder + name
    assert SERVED.classify(rel) == classify(rel, SERVED.dataset_types, SERVED.data_formats)
