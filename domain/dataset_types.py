"""Dataset types and data formats (as Alyx 3.6.1 and ONE 3.6.1 match them), as data and functions.

Alyx answers HTTP 500 for a file with no or several matching dataset types or data formats, and
ONE drops such files with a DEBUG log line only. `classify` gives each file a verdict
before anything is sent: accepted with its type and format, or rejected with a code and a one-line
reason, so the ledger can record a rejection event per file. The matching rules are the server's,
so a file accepted here is one Alyx accepts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cached_property
from pathlib import PurePosixPath

from .alf import RelPath, parse_rel_path
from .dataset_type_index import ReferenceIndex, name_key, suffix_of
from .errors import InvalidALFPath, LabledgerError


@dataclass(frozen=True)
class DatasetType:
    """An Alyx dataset type; an empty `filename_pattern` means "match on object.attribute"."""

    name: str
    filename_pattern: str


@dataclass(frozen=True)
class DataFormat:
    """An Alyx data format; `file_extension` is `.npy`-like, or '' (`notData`, `unknown`)."""

    name: str
    file_extension: str


@dataclass(frozen=True)
class Accepted:
    """A file Alyx will register, with the one dataset type and data format it gets."""

    rel_path: RelPath
    dataset_type: str
    data_format: str


@dataclass(frozen=True)
class Rejected:
    """A file that must not be sent; `reason` names the file and the fix in one line.

    `code` is one of "invalid-name", "no-data-format", "several-data-formats",
    "no-dataset-type", "several-dataset-types".
    """

    code: str
    reason: str


def match_dataset_type(basename: str, types: Sequence[DatasetType]) -> list[DatasetType]:
    """Every dataset type matching `basename`, by Alyx's rule; exactly one is needed to register.

    Blank pattern: the type's name must equal the file's `object.attribute` when the name is valid
    ALF, else its stem, case-sensitively. Other patterns: shell wildcards, case-insensitive. Case is
    folded with `str.casefold`, as ONE 3.6.1's `get_dataset_type` (which Alyx 3.6.1 shares) does.
    """
    key = name_key(basename)
    folded = basename.casefold()
    return [
        dataset_type
        for dataset_type in types
        if (
            dataset_type.name == key
            if not dataset_type.filename_pattern.strip()
            else fnmatchcase(folded, dataset_type.filename_pattern.casefold())
        )
    ]


def match_data_formats(basename: str, formats: Sequence[DataFormat]) -> list[DataFormat]:
    """Every data format whose extension equals the LAST suffix of `basename`.

    One rule (ONE's walk used "name ends with", its register call "suffix equals"): the
    server's. `x.y.tar.bz2` is `.bz2`. A name without a suffix matches nothing, never the empty
    extension of `notData`/`unknown`: Alyx would find two formats and answer 500.
    """
    suffix = PurePosixPath(basename).suffix
    if not suffix:
        return []
    return [data_format for data_format in formats if data_format.file_extension == suffix]


def classify(
    rel_path: str, types: Sequence[DatasetType], formats: Sequence[DataFormat]
) -> Accepted | Rejected:
    """The verdict on one file path relative to its session folder: ONE sends names unchecked,
    drops rejected files silently and sends extension-less files Alyx answers 500 for.

    In ONE's order: valid ALF path, then a known data format, then exactly one dataset type.
    (`ReferenceData.classify` gives the same verdicts through an index: use it for many files.)
    """
    return _verdict(
        rel_path,
        lambda name, key: match_dataset_type(name, types),
        lambda name: match_data_formats(name, formats),
    )


def _verdict(
    rel_path: str,
    match_types: Callable[[str, str], list[DatasetType]],
    match_formats: Callable[[str], list[DataFormat]],
) -> Accepted | Rejected:
    """`classify`, with the lookups given: the plain loops, or an index that equals them."""
    try:
        parsed = parse_rel_path(rel_path)
    except InvalidALFPath as error:
        return Rejected("invalid-name", str(error))
    found_formats = match_formats(parsed.name)
    suffix = suffix_of(parsed.name)
    if not found_formats:
        return Rejected(
            "no-data-format",
            f'file "{rel_path}": no data format on Alyx has the extension "{suffix}" (Alyx would '
            "answer 500); rename the file or ask the Alyx admin to add the data format",
        )
    if len(found_formats) > 1:
        names = ", ".join(data_format.name for data_format in found_formats)
        return Rejected(
            "several-data-formats",
            f'file "{rel_path}": several data formats on Alyx have the extension "{suffix}" '
            f"({names}; Alyx would answer 500); ask the Alyx admin to remove the duplicates",
        )
    found_types = match_types(parsed.name, parsed.filename.object_attribute)
    if not found_types:
        return Rejected(
            "no-dataset-type",
            f'file "{rel_path}": no dataset type matches "{parsed.name}" (Alyx would answer '
            "500); rename the file or add a dataset type on Alyx (POST /dataset-types)",
        )
    if len(found_types) > 1:
        listed = ", ".join(_describe(dataset_type) for dataset_type in found_types)
        return Rejected(
            "several-dataset-types",
            f'file "{rel_path}": several dataset types match "{parsed.name}": {listed} (Alyx '
            "would answer 500); rename the file or make the patterns on Alyx exclusive",
        )
    return Accepted(parsed, found_types[0].name, found_formats[0].name)


@dataclass(frozen=True)
class ReferenceData:
    """The dataset types and data formats Alyx serves, as one immutable value."""

    dataset_types: tuple[DatasetType, ...]
    data_formats: tuple[DataFormat, ...]

    @classmethod
    def from_served(cls, dataset_types_json: object, data_formats_json: object) -> ReferenceData:
        """Build from the JSON of `GET /dataset-types` and `GET /data-formats`.

        Each may be the paginated envelope `{"count", "next", "previous", "results"}` (complete:
        a first page alone is refused, it would make files look unknown) or a bare list of items.
        """
        return cls(
            dataset_types=parse_served_dataset_types(dataset_types_json),
            data_formats=parse_served_data_formats(data_formats_json),
        )

    @cached_property
    def index(self) -> ReferenceIndex:
        """The lookups `classify` makes, indexed once for these lists."""
        return ReferenceIndex(self.dataset_types, self.data_formats)

    def classify(self, rel_path: str) -> Accepted | Rejected:
        """`classify` against these lists, through their index (the same verdicts, faster)."""
        index = self.index
        return _verdict(rel_path, index.dataset_types, index.data_formats)


def parse_served_dataset_types(served: object) -> tuple[DatasetType, ...]:
    """The dataset types of a served list; LabledgerError naming the list when malformed."""
    label = "dataset-types list"
    return tuple(
        DatasetType(
            name=_text(item, "name", label, position),
            filename_pattern=_text(item, "filename_pattern", label, position, optional=True),
        )
        for position, item in enumerate(_served_items(served, label))
    )


def parse_served_data_formats(served: object) -> tuple[DataFormat, ...]:
    """The data formats of a served list; LabledgerError naming the list when malformed."""
    label = "data-formats list"
    formats = []
    for position, item in enumerate(_served_items(served, label)):
        extension = _text(item, "file_extension", label, position, optional=True)
        if extension and not (extension[:1] == "." and extension[1:] and "." not in extension[1:]):
            raise LabledgerError(
                f'{label}: item {position} has file_extension "{extension}", not "" or one dot '
                "followed by non-dot characters; refresh the reference lists from Alyx"
            )
        formats.append(
            DataFormat(name=_text(item, "name", label, position), file_extension=extension)
        )
    return tuple(formats)


def _describe(dataset_type: DatasetType) -> str:
    if dataset_type.filename_pattern.strip():
        return f'{dataset_type.name} (pattern "{dataset_type.filename_pattern}")'
    return f"{dataset_type.name} (by object.attribute)"


def _served_items(served: object, label: str) -> list[dict[str, object]]:
    items = _served_list(served, label)
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            raise LabledgerError(f"{label}: item {position} is not a JSON object")
    return items


def _served_list(served: object, label: str) -> list[dict[str, object]]:
    """The items of a bare list or of a complete paginated envelope."""
    if isinstance(served, list):
        return served
    if not isinstance(served, dict):
        raise LabledgerError(
            f"{label}: expected a JSON list or a paginated envelope, got {type(served).__name__}"
        )
    results = served.get("results")
    if not isinstance(results, list):
        raise LabledgerError(f'{label}: the envelope has no "results" list')
    if served.get("next") is not None:
        raise LabledgerError(
            f"{label}: only one page (next is {served['next']!r}); fetch every page"
        )
    count = served.get("count")
    if isinstance(count, int) and count != len(results):
        raise LabledgerError(
            f"{label}: count says {count} items but {len(results)} are listed; fetch every page"
        )
    return results


def _text(
    item: dict[str, object], key: str, label: str, position: int, *, optional: bool = False
) -> str:
    value = item.get(key)
    if value is None and optional:
        return ""
    if not isinstance(value, str):
        raise LabledgerError(f'{label}: item {position} has no "{key}" string')
    return value
