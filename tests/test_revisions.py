"""The revision table, row by row, with ONE's documented examples, and the lettering."""

from __future__ import annotations

import pytest

from labledger.domain.revisions import (
    ROWS,
    NoFreeRevision,
    Situation,
    decide,
    next_revision,
    relocated,
)

T = "2026-11-21"

# The table's rows, in order, by the situation each names.
NOT_PROTECTED = "not protected"
NEVER = "never registered"
IN_UNPROTECTED = "in an unprotected revision"
IN_PROTECTED = "in a protected revision"
ORIGINAL = "original unprotected"
DATED = "latest unprotected, dated"
UNDATED = "latest unprotected, undated"
TODAY = "latest protected, today's"
TODAY_LETTERED = "latest protected, today's lettered"
OTHER = "other protected latest"

# (row, file's current revision, Alyx info latest first, labledger's revision, ONE's revision)
EXAMPLES = [
    (NOT_PROTECTED, "", [], None, None),
    (NOT_PROTECTED, "v3", [], None, None),
    (NEVER, "", [], None, None),
    (IN_UNPROTECTED, "v3", [{"v2": True}], None, None),
    (IN_PROTECTED, "v2", [{"v2": True}, {"v2a": True}, {"": True}], "v2b", "v2b"),
    (ORIGINAL, "", [{"": False}, {"v1": True}], None, None),
    (DATED, "", [{"2020-01-01": False}, {"": True}], "2020-01-01", "2020-01-01"),
    (DATED, "", [{T: False}, {"v1": True}], T, T),
    (UNDATED, "", [{"v1": False}, {"foo": True}], T, T),
    (TODAY, "", [{T: True}, {"v1": True}], f"{T}a", f"{T}a"),
    (TODAY_LETTERED, "", [{f"{T}a": True}, {T: True}], f"{T}b", f"{T}b"),
    (TODAY_LETTERED, "", [{f"{T}A": True}, {T: True}], f"{T}B", f"{T}B"),
    (OTHER, "", [{"": True}], T, T),
    (OTHER, "", [{"2022-10-31": True}, {"": True}], T, T),
]


@pytest.mark.parametrize(("row", "revision", "info", "ours", "one"), EXAMPLES)
def test_contract_examples(
    row: str, revision: str, info: list[dict[str, bool]], ours: str | None, one: str | None
) -> None:
    listed = row != NOT_PROTECTED  # Alyx's 200 "None of the datasets are protected" lists none
    decision = decide(Situation.of(revision, info, T, listed=listed))
    assert (decision.row, decision.revision, decision.one_would) == (row, ours, one)


def test_every_row_has_an_example() -> None:
    assert {row.name for row in ROWS} == {example[0] for example in EXAMPLES}


def test_rows_are_in_contract_order() -> None:
    assert [row.name for row in ROWS] == [
        NOT_PROTECTED,
        NEVER,
        IN_UNPROTECTED,
        IN_PROTECTED,
        ORIGINAL,
        DATED,
        UNDATED,
        TODAY,
        TODAY_LETTERED,
        OTHER,
    ]


# ONE reserves only protected names, so it may pick (and overwrite) an unprotected one.
DIFFERENCES = [
    # Today's protected latest, an unprotected `Ta` there: ONE overwrites it, labledger takes `Tb`.
    (TODAY, "", [{T: True}, {f"{T}a": False}, {"": True}], f"{T}b", f"{T}a"),
    # In protected v2 with an unprotected v2a: ONE reuses v2a, labledger takes v2b.
    (IN_PROTECTED, "v2", [{"v2": True}, {"v2a": False}], "v2b", "v2a"),
    # Other protected latest, today's protected but not latest: ONE picks T (403 cannot patch).
    (OTHER, "", [{"v9": True}, {T: True}, {"": True}], f"{T}a", T),
    # Undated unprotected latest, today's unprotected: ONE overwrites it, labledger letters it.
    (UNDATED, "", [{"v1": False}, {T: False}, {"": True}], f"{T}a", T),
]


@pytest.mark.parametrize(("row", "revision", "info", "ours", "one"), DIFFERENCES)
def test_deliberate_differences_from_one(
    row: str, revision: str, info: list[dict[str, bool]], ours: str | None, one: str | None
) -> None:
    decision = decide(Situation.of(revision, info, T))
    assert (decision.row, decision.revision, decision.one_would) == (row, ours, one)
    assert decision.differs_from_one


def test_lettering() -> None:
    assert next_revision("2020-01-01", set()) == "2020-01-01a"
    assert next_revision("2020-01-01", {"2020-01-01a", "2020-01-01b"}) == "2020-01-01c"
    assert next_revision("2020-01-01", {"2020-01-01A"}, start="A") == "2020-01-01B"


def test_lettering_stops_after_z() -> None:
    reserved = {f"v{chr(c)}" for c in range(ord("a"), ord("z") + 1)}
    with pytest.raises(NoFreeRevision, match=r"va\.\.vz"):
        next_revision("v", reserved)
    assert next_revision("v", reserved - {"vz"}) == "vz"


def test_start_must_be_one_character() -> None:
    with pytest.raises(ValueError):
        next_revision("v", set(), start="ab")


def test_relocated_paths() -> None:
    assert relocated("alf/probe00", "spikes.times.npy", T) == f"alf/probe00/#{T}#/spikes.times.npy"
    assert relocated("", "spikes.times.npy", "v1") == "#v1#/spikes.times.npy"
