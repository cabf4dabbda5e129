"""Dataset types and data formats looked up through an index built once, not tried one by one.

A scan classifies every file against every dataset type Alyx serves (more than a hundred
shell patterns): trying `fnmatch` against each one was a seventh of a 10,000-file scan. The
index gives exactly the same matches, in the same order, as that loop (`match_dataset_type`
stays the rule and the tests compare the two), by trying each pattern only on names that
contain what the pattern spells out literally:

- a pattern whose literal tail holds a dot (`*spikes.times*.npy` ends in `.npy`) can only
  match names with that last suffix, so patterns are grouped by it;
- of the rest, a pattern is tried only on names containing its longest literal run;
- what is left is matched with the very regular expression `fnmatch.fnmatchcase` uses, compiled
  when first needed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from fnmatch import translate
from functools import cache
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from .errors import InvalidALFPath
from .file_paths import parse_filename

if TYPE_CHECKING:
    from .dataset_types import DataFormat, DatasetType

_Candidate = tuple[int, str, str]
"""A patterned dataset type: (position in the list, longest literal run, folded pattern)."""


class ReferenceIndex:
    """Lookups of dataset types and data formats by name, equal to the plain loops over them."""

    def __init__(self, types: Sequence[DatasetType], formats: Sequence[DataFormat]) -> None:
        self.types = tuple(types)
        self._by_name: dict[str, list[int]] = {}
        by_suffix: dict[str, list[_Candidate]] = {}
        anywhere: list[_Candidate] = []
        for position, dataset_type in enumerate(self.types):
            if not dataset_type.filename_pattern.strip():
                self._by_name.setdefault(dataset_type.name, []).append(position)
                continue
            pattern = dataset_type.filename_pattern.casefold()
            runs = literal_runs(pattern)
            candidate = (position, max(runs, key=len), pattern)
            tail = runs[-1]
            if "." in tail:
                by_suffix.setdefault(tail[tail.rfind(".") :], []).append(candidate)
            else:
                anywhere.append(candidate)
        self._anywhere = anywhere
        self._by_suffix = {
            suffix: sorted([*found, *anywhere]) for suffix, found in by_suffix.items()
        }
        self._formats: dict[str, list[DataFormat]] = {}
        for data_format in formats:
            self._formats.setdefault(data_format.file_extension, []).append(data_format)

    def dataset_types(self, basename: str, key: str | None = None) -> list[DatasetType]:
        """What `match_dataset_type(basename, types)` gives; `key` is the name's
        `object.attribute` (or stem) when the caller has parsed it already."""
        folded = basename.casefold()
        dot = folded.rfind(".")
        candidates = self._by_suffix.get(folded[dot:], self._anywhere) if dot >= 0 else None
        found = [
            position
            for position, literal, pattern in (self._anywhere if candidates is None else candidates)
            if literal in folded and _matcher(pattern)(folded)
        ]
        if self._by_name:
            named = self._by_name.get(name_key(basename) if key is None else key)
            if named:
                found = sorted([*found, *named])
        return [self.types[position] for position in found]

    def data_formats(self, basename: str) -> list[DataFormat]:
        """What `match_data_formats(basename, formats)` gives."""
        suffix = suffix_of(basename)
        return list(self._formats.get(suffix, ())) if suffix else []


def literal_runs(pattern: str) -> list[str]:
    """The runs of characters `pattern` matches only literally, in order, split where a
    wildcard or a character class stands: `*spikes.times*.npy` gives ['', 'spikes.times',
    '.npy']. Scanned as `fnmatch.translate` scans: a `[` with no closing `]` is literal."""
    runs = [""]
    index, end = 0, len(pattern)
    while index < end:
        char = pattern[index]
        index += 1
        if char in "*?":
            runs.append("")
        elif char == "[":
            close = index
            if close < end and pattern[close] == "!":
                close += 1
            if close < end and pattern[close] == "]":
                close += 1
            while close < end and pattern[close] != "]":
                close += 1
            if close >= end:
                runs[-1] += char
            else:
                runs.append("")
                index = close + 1
        else:
            runs[-1] += char
    return runs


@cache
def _matcher(pattern: str) -> Callable[[str], object]:
    """The regular expression `fnmatch.fnmatchcase` matches `pattern` with, compiled the first
    time a name gets past the literal checks (a scan compiles only the patterns its files need)."""
    return re.compile(translate(pattern)).match


def name_key(basename: str) -> str:
    """What a blank-pattern type's name is compared with: object.attribute, or the stem."""
    try:
        return parse_filename(basename).object_attribute
    except InvalidALFPath:
        return PurePosixPath(basename).stem


def suffix_of(basename: str) -> str:
    """`PurePosixPath(basename).suffix`, without building a path for a plain file name."""
    if not basename or "/" in basename:
        return PurePosixPath(basename).suffix
    dot = basename.rfind(".")
    return basename[dot:] if 0 < dot < len(basename) - 1 else ""
