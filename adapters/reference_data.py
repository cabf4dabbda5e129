"""Load the dataset-type and data-format lists: from a cache directory, else the packaged copy.

Files are classified before anything is sent to Alyx (so rejections are explained, C-7), which
needs these lists even offline. The package ships the lists an Alyx 3.6.1 server serves; a cache
directory holding lists refreshed from the lab's server (`dataset_types.json`,
`data_formats.json`, as served) takes precedence, file by file.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TypeVar

from labledger.domain.dataset_types import (
    ReferenceData,
    parse_served_data_formats,
    parse_served_dataset_types,
)
from labledger.domain.errors import LabledgerError

DATASET_TYPES_FILE = "dataset_types.json"
DATA_FORMATS_FILE = "data_formats.json"
_PACKAGE = "labledger.adapters.reference"

_T = TypeVar("_T")


def load_default_reference_data() -> ReferenceData:
    """The packaged lists (Alyx 3.6.1: 114 dataset types, 29 data formats)."""
    return load_reference_data(None)


def load_reference_data(directory: Path | None) -> ReferenceData:
    """The lists in `directory` where present, else the packaged ones.

    A file that is present but unreadable or malformed is an error naming it, never a silent fall
    back: a stale list would make files look unknown or wrongly typed.
    """
    types_source = _source(directory, DATASET_TYPES_FILE)
    formats_source = _source(directory, DATA_FORMATS_FILE)
    return ReferenceData(
        dataset_types=_parse(types_source, parse_served_dataset_types),
        data_formats=_parse(formats_source, parse_served_data_formats),
    )


def _source(directory: Path | None, name: str) -> Traversable:
    if directory is not None:
        cached = directory / name
        if cached.is_file():
            return cached
    return resources.files(_PACKAGE) / name


def _parse(source: Traversable, parse: Callable[[object], _T]) -> _T:
    try:
        served = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise LabledgerError(f"{source}: cannot read the reference list ({error})") from None
    try:
        return parse(served)
    except LabledgerError as error:
        raise LabledgerError(f"{source}: {error}") from None
