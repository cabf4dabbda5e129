"""Load the dataset-type and data-format lists: from a cache directory, else the packaged copy.

Files are classified before anything is sent to Alyx (so rejections are explained), which
needs these lists even offline. The package ships the lists an Alyx 3.6.1 server serves; a cache
directory holding lists refreshed from the lab's server (`dataset_types.json`,
`data_formats.json`, as served) takes precedence, file by file. `fetch_reference_data` fills that
directory from the server, in the packaged files' own format.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ...domain.dataset_types import (
    ReferenceData,
    parse_served_data_formats,
    parse_served_dataset_types,
)
from ...domain.errors import LabledgerError
from ..filesystem.atomic import write_if_changed

if TYPE_CHECKING:
    from .client import AlyxClient

DATASET_TYPES_FILE = "dataset_types.json"
DATA_FORMATS_FILE = "data_formats.json"
_PACKAGE = f"{__package__}.reference"

KEPT_FIELDS = {
    DATASET_TYPES_FILE: ("id", "name", "filename_pattern", "description"),
    DATA_FORMATS_FILE: ("id", "name", "file_extension", "description"),
}
"""The fields of each item kept in the packaged and cached lists (the rest is never read)."""

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


def fetch_reference_data(client: AlyxClient, cache_dir: Path) -> ReferenceData:
    """The server's dataset types and data formats, also written to `cache_dir` for offline use.

    Both lists are parsed before anything is written, so a malformed reply never replaces a good
    cache; each file is replaced atomically, in the packaged files' format, so that
    `load_reference_data(cache_dir)` reads them back.
    """
    served = {
        DATASET_TYPES_FILE: client.list("/dataset-types"),
        DATA_FORMATS_FILE: client.list("/data-formats"),
    }
    from .errors import AlyxOddReply  # httpx: only a command that talks to Alyx loads it

    for name, items in served.items():
        if not items:  # every Alyx has them: an empty list would reject every file
            endpoint = "/" + name.removesuffix(".json").replace("_", "-")
            raise AlyxOddReply(
                200,
                f"Alyx answered GET {endpoint} with an empty list; check alyx.base_url points "
                "at the lab's Alyx",
            )
    reference = ReferenceData.from_served(served[DATASET_TYPES_FILE], served[DATA_FORMATS_FILE])
    for name, items in served.items():
        write_if_changed(cache_dir / name, _as_packaged(items, KEPT_FIELDS[name]), mode=0o644)
    return reference


def fetch_labs(client: AlyxClient) -> list[str]:
    """The names of the labs Alyx knows (GET /labs), to check `lab` settings against."""
    names = [lab.get("name") for lab in client.list("/labs")]
    if not all(isinstance(name, str) for name in names):
        raise LabledgerError("Alyx answered GET /labs with an item that has no name")
    return [str(name) for name in names]


def _as_packaged(items: list[dict[str, Any]], fields: tuple[str, ...]) -> str:
    """A complete single-page envelope, as the packaged files in reference/ are written."""
    kept = [{key: item.get(key) for key in fields} for item in items]
    envelope = {"count": len(kept), "next": None, "previous": None, "results": kept}
    return json.dumps(envelope, indent=1, ensure_ascii=False) + "\n"
