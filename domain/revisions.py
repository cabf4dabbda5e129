"""Where a file goes when Alyx reports protected datasets: the revision table, as data.

Alyx answers a `register-file` with `check_protected: true` by 403 "One or more datasets is
protected" and, per file, the existing revisions of its dataset, latest first, `""` last, each with
its protected flag. ONE-api then picks a location per file (the revision decision table) and a new
revision name (`next_revision`). The rows are kept here as a table read by one function, so each
row is visible, testable on its own, and recorded by name with the decision.

Two of ONE's choices are fixed: a new revision name never reuses an existing revision, protected
or not (except a latest revision that is unprotected and dated, which is reused on purpose), and
lettering stops with an error after `z`. When that gives another name than ONE would,
`Decision.one_would` says what ONE would have chosen, so the operator is told.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from .errors import LabledgerError

PROTECTED_ERROR = "One or more datasets is protected"
"""The `error` text of Alyx's 403 that starts the revision flow (to `check_protected: true`)."""


class NoFreeRevision(LabledgerError):
    """Lettering ran past `z` (or `Z`): ONE would continue with `{`, which is no letter."""


@dataclass(frozen=True)
class Situation:
    """What the table reads: the file's own revision, Alyx's verdict and today's local date."""

    revision: str
    """The revision folder the file is in now ('' when none)."""
    info: tuple[tuple[str, bool], ...]
    """(revision name, protected) of every existing dataset, latest first, '' last."""
    today: str
    """The client's local date, YYYY-MM-DD (as ONE uses it: kept, and recorded)."""
    listed: bool = True
    """Alyx listed the revisions of each file (its 403 "One or more datasets is protected"
    form). False when it only answered "None of the datasets are protected": then `info` is
    empty whether the file is registered or not."""

    @classmethod
    def of(
        cls, revision: str, info: Sequence[dict[str, bool]], today: str, listed: bool = True
    ) -> Situation:
        """From Alyx's `details` entry: a list of one-key mappings {revision: protected}."""
        pairs = tuple((name, bool(flag)) for entry in info for name, flag in entry.items())
        return cls(revision=revision, info=pairs, today=today, listed=listed)

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
    of `start` and raises NoFreeRevision after `z`/`Z`.
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
    """The revision labledger picks (every existing name reserved, no letter after `z`)."""
    one: Callable[[Situation], str | None]
    """The revision ONE-api 3.6.1 picks."""


def _free(s: Situation, base: str, start: str = "a") -> str:
    """A new name: every existing revision is reserved, not only the protected ones."""
    return next_revision(base, s.existing, start)


def _today_or_next(s: Situation) -> str:
    """An undated unprotected latest revision, or any other protected latest one: today's date; if
    a revision of that name exists, the next letter."""
    return _free(s, s.today) if s.today in s.existing else s.today


ROWS: tuple[Row, ...] = (
    Row(
        "not protected",
        "Alyx reports none of the files protected (registered or not): stays",
        lambda s: not s.listed,
        lambda s: None,
        lambda s: None,
    ),
    Row(
        "never registered",
        "never registered: stays",
        lambda s: not s.info,
        lambda s: None,
        lambda s: None,
    ),
    Row(
        "in an unprotected revision",
        "already in an unprotected revision folder: stays",
        lambda s: bool(s.revision) and s.revision not in s.protected,
        lambda s: None,
        lambda s: None,
    ),
    Row(
        "in a protected revision",
        "in a protected revision folder: the next letter of that revision",
        lambda s: bool(s.revision) and s.revision in s.protected,
        lambda s: _free(s, s.revision),
        lambda s: _one_next(s.revision, s.protected),
    ),
    Row(
        "original unprotected",
        "the original is the latest and unprotected: stays (the original is re-registered)",
        lambda s: s.latest == ("", False),
        lambda s: None,
        lambda s: None,
    ),
    Row(
        "latest unprotected, dated",
        "the latest revision is unprotected and dated: reused (that dataset is overwritten)",
        lambda s: not s.latest[1] and _is_date(s.latest[0]),
        lambda s: s.latest[0],
        lambda s: s.latest[0],
    ),
    Row(
        "latest unprotected, undated",
        "the latest revision is unprotected, not dated: today's revision",
        lambda s: not s.latest[1],
        _today_or_next,
        lambda s: s.today,
    ),
    Row(
        "latest protected, today's",
        "the latest revision is today's and protected: the next letter of today",
        lambda s: s.latest[0] == s.today,
        lambda s: _free(s, s.today),
        lambda s: _one_next(s.today, s.protected),
    ),
    Row(
        "latest protected, today's lettered",
        "the latest revision is a lettered revision of today, protected: the next letter",
        lambda s: s.today in s.latest[0] and len(s.latest[0]) > len(s.today),
        lambda s: _free(s, s.today, start=s.latest[0][-1]),
        lambda s: _one_next(s.today, s.protected, start=s.latest[0][-1]),
    ),
    Row(
        "other protected latest",
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
    raise AssertionError("the last row applies to everything")  # pragma: no cover


def relocated(collection: str, filename: str, revision: str) -> str:
    """The file's new path: `collection/#revision#/filename` (replacing a protected `#old#`)."""
    return "/".join(part for part in (collection, f"#{revision}#", filename) if part)


Verdict = list[dict[str, bool]]


def protected_details(details: Sequence[dict[str, Verdict]]) -> dict[str, Verdict]:
    """Alyx's `details` list (one {filename: info} per file, in request order) as a mapping."""
    verdicts: dict[str, Verdict] = {}
    for entry in details:
        verdicts.update(entry)
    return verdicts
