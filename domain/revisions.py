"""Where a file goes when Alyx reports protected datasets: the revision table, as data.

Alyx answers a `register-file` with `check_protected: true` by 403 "One or more datasets is
protected" and, per file, the existing revisions of its dataset, latest first, `""` last, each with
its protected flag. ONE-api then picks a location per file (rows A-F of the contract, §8) and a new
revision name (`next_revision`). The rows are kept here as a table read by one function, so each
row is visible, testable on its own, and recorded by name with the decision.

Two of ONE's choices are fixed (quirks C-18, C-19): a new revision name never reuses an existing
revision, protected or not (except row D1, which reuses the latest on purpose), and lettering stops
with an error after `z`. When that gives another name than ONE would, `Decision.one_would` says
what ONE would have chosen, so the operator is told.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from .errors import LabledgerError

PROTECTED_ERROR = "One or more datasets is protected"
"""The `error` text of Alyx's 403 that starts the revision flow (§6.9.7 form 1)."""


class NoFreeRevision(LabledgerError):
    """Lettering ran past `z` (or `Z`): ONE would continue with `{`, which is no letter (C-19)."""


@dataclass(frozen=True)
class Situation:
    """What the table reads: the file's own revision, Alyx's verdict and today's local date."""

    revision: str
    """The revision folder the file is in now ('' when none)."""
    info: tuple[tuple[str, bool], ...]
    """(revision name, protected) of every existing dataset, latest first, '' last."""
    today: str
    """The client's local date, YYYY-MM-DD (quirk C-21: kept, and recorded)."""

    @classmethod
    def of(cls, revision: str, info: Sequence[dict[str, bool]], today: str) -> Situation:
        """From Alyx's `details` entry: a list of one-key mappings {revision: protected}."""
        pairs = tuple((name, bool(flag)) for entry in info for name, flag in entry.items())
        return cls(revision=revision, info=pairs, today=today)

    @property
    def protected(self) -> frozenset[str]:
        return frozenset(name for name, flag in self.info if flag)

    @property
    def existing(self) -> frozenset[str]:
        return frozenset(name for name, _ in self.info if name)

    @property
    def latest(self) -> tuple[str, bool]:
        return self.info[0]


def next_revision(base: str, reserved: Collection[str], start: str = "a") -> str:
    """`base` + the first character from `start` on whose name is not reserved.

    ONE moves to the next code point for ever (`z` -> `{`); here lettering stays within the case
    of `start` and raises NoFreeRevision after `z`/`Z` (quirk C-19).
    """
    if len(start) != 1:
        raise ValueError(f"start must be one character, not {start!r}")
    last = "Z" if start.isupper() else "z"
    letter = start
    while f"{base}{letter}" in reserved:
        if letter >= last:
            raise NoFreeRevision(
                f"every revision {base}{start}..{base}{last} exists; "
                "register into an explicit #revision# folder instead"
            )
        letter = chr(ord(letter) + 1)
    return f"{base}{letter}"


def _one_next(base: str, reserved: Collection[str], start: str = "a") -> str:
    """ONE-api's own lettering: only protected names reserved, no stop after z (for comparison)."""
    letter = start
    while f"{base}{letter}" in reserved:
        letter = chr(ord(letter) + 1)
    return f"{base}{letter}"


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text[:10])
    except ValueError:
        return False
    return len(text) >= 10


@dataclass(frozen=True)
class Row:
    """One row of the table: when it applies, and which revision it picks (None: stay)."""

    name: str
    when: str
    applies: Callable[[Situation], bool]
    ours: Callable[[Situation], str | None]
    """The revision labledger picks (C-18/C-19 fixed)."""
    one: Callable[[Situation], str | None]
    """The revision ONE-api 3.6.1 picks."""


def _free(s: Situation, base: str, start: str = "a") -> str:
    """A new name: every existing revision is reserved, not only protected ones (C-18)."""
    return next_revision(base, s.existing, start)


def _today_or_next(s: Situation) -> str:
    """Rows D2 and F take today's date; if a revision of that name exists, the next letter."""
    return _free(s, s.today) if s.today in s.existing else s.today


ROWS: tuple[Row, ...] = (
    Row(
        "A",
        "never registered: stays",
        lambda s: not s.info,
        lambda s: None,
        lambda s: None,
    ),
    Row(
        "B1",
        "already in an unprotected revision folder: stays",
        lambda s: bool(s.revision) and s.revision not in s.protected,
        lambda s: None,
        lambda s: None,
    ),
    Row(
        "B2",
        "in a protected revision folder: the next letter of that revision",
        lambda s: bool(s.revision) and s.revision in s.protected,
        lambda s: _free(s, s.revision),
        lambda s: _one_next(s.revision, s.protected),
    ),
    Row(
        "C",
        "the original is the latest and unprotected: stays (the original is re-registered)",
        lambda s: s.latest == ("", False),
        lambda s: None,
        lambda s: None,
    ),
    Row(
        "D1",
        "the latest revision is unprotected and dated: reused (that dataset is overwritten)",
        lambda s: not s.latest[1] and _is_date(s.latest[0]),
        lambda s: s.latest[0],
        lambda s: s.latest[0],
    ),
    Row(
        "D2",
        "the latest revision is unprotected, not dated: today's revision",
        lambda s: not s.latest[1],
        _today_or_next,
        lambda s: s.today,
    ),
    Row(
        "E1",
        "the latest revision is today's and protected: the next letter of today",
        lambda s: s.latest[0] == s.today,
        lambda s: _free(s, s.today),
        lambda s: _one_next(s.today, s.protected),
    ),
    Row(
        "E2",
        "the latest revision is a lettered revision of today, protected: the next letter",
        lambda s: s.today in s.latest[0] and len(s.latest[0]) > len(s.today),
        lambda s: _free(s, s.today, start=s.latest[0][-1]),
        lambda s: _one_next(s.today, s.protected, start=s.latest[0][-1]),
    ),
    Row(
        "F",
        "any other protected latest revision: today's revision",
        lambda s: True,
        _today_or_next,
        lambda s: s.today,
    ),
)


@dataclass(frozen=True)
class Decision:
    """Where one file goes, by which row, and what ONE-api would have done instead."""

    row: str
    why: str
    revision: str | None
    """The revision folder the file must be registered in; None: it stays where it is."""
    one_would: str | None

    @property
    def differs_from_one(self) -> bool:
        return self.revision != self.one_would


def decide(situation: Situation) -> Decision:
    """The first row that applies, and the revision it picks."""
    for row in ROWS:
        if row.applies(situation):
            return Decision(row.name, row.when, row.ours(situation), row.one(situation))
    raise AssertionError("row F applies to everything")  # pragma: no cover


def relocated(collection: str, filename: str, revision: str) -> str:
    """The file's new path: `collection/#revision#/filename` (B2: replaces the old #R#)."""
    return "/".join(part for part in (collection, f"#{revision}#", filename) if part)


Verdict = list[dict[str, bool]]


def protected_details(details: Sequence[dict[str, Verdict]]) -> dict[str, Verdict]:
    """Alyx's `details` list (one {filename: info} per file, in request order) as a mapping."""
    verdicts: dict[str, Verdict] = {}
    for entry in details:
        verdicts.update(entry)
    return verdicts
