"""What a `register-file` request holds: options asked for per file, and ONE's body from them.

An operator asks to register files with options (repository, exists, server_only, default,
version, whether to send the md5, extra fields). The ledger keeps them in each file's intent, so a
registration performed later by `sync` sends exactly what was asked, even after a restart. Files of
one session that share their options go in one POST, keys in ONE's order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any
from uuid import UUID

from .alf import SessionRef
from .errors import LabledgerError

RESERVED_EXTRA = frozenset(
    {"path", "filenames", "hashes", "filesizes", "versions", "created_by", "check_protected"}
)
"""Body keys labledger computes itself; ONE lets extra keywords override them silently."""

PLACED = "placed_by_move"
"""A registration's field, true when a recorded move put the file into the revision the revision
table chose: it is then posted without a protection check, however the run that moved it ended."""


class InvalidFileOptions(LabledgerError):
    """Registration options that cannot be sent as asked."""


@dataclass(frozen=True)
class RegisteredReply:
    """Alyx's reply for one file of a register-file request, as the file's outcome records it."""

    dataset_id: UUID
    operation_id: str
    alyx_id: str
    revision: str
    default: bool
    file_records: list[dict[str, Any]]
    record: dict[str, Any]


@dataclass(frozen=True)
class FileOptions:
    """Options shared by the files of one POST (ONE's `register_files` keywords)."""

    created_by: str
    repository: str | None = None
    exists: bool = True
    server_only: bool = False
    default: bool = True
    refuse_protected: bool = False
    """Fail instead of moving a protected file into a new revision (not in ONE)."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Further register-file fields (labs, qc, hostname, ...), merged last as ONE does."""

    def __post_init__(self) -> None:
        clash = sorted(RESERVED_EXTRA & set(self.extra))
        if clash:
            fields = "field" if len(clash) == 1 else "fields"
            raise InvalidFileOptions(
                f"extra register-file {fields} {', '.join(clash)} would override what labledger "
                "computes from the files; drop them"
            )

    def as_fields(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_fields(cls, fields: Mapping[str, Any]) -> FileOptions:
        return cls(**fields)


@dataclass(frozen=True)
class FileRequest:
    """One file of a POST: its path in the session, md5 (None: not sent), size and version."""

    rel_path: str
    md5: str | None
    size: int
    version: str | None = None


def versions_for(count: int, versions: str | Sequence[str | None] | None) -> list[str | None]:
    """One version per file, by labledger's rule (ONE cycles a list over the input,
    rejected files included).

    None or a string: that for every file; a one-element list: its element for every file; a list
    with exactly one entry per file: by position. Anything else is refused, saying what was given.
    """
    if versions is None or isinstance(versions, str):
        return [versions] * count
    given = list(versions)
    if len(given) == 1:
        return given * count
    if len(given) != count:
        raise InvalidFileOptions(
            f"{len(given)} versions given for {count} file{'' if count == 1 else 's'}; give one "
            "version (a string or a "
            "one-element list) for all files, or one per file"
        )
    return given


def body(
    ref: SessionRef,
    files: Sequence[FileRequest],
    options: FileOptions,
    check_protected: bool = True,
) -> dict[str, Any]:
    """ONE's POST /register-file body: its keys in its order, extras merged last, then `labs`
    (the path's lab, as a string) unless the extras named the labs."""
    result: dict[str, Any] = {
        "created_by": options.created_by,
        "path": ref.alyx_path,
        "filenames": [f.rel_path for f in files],
        "hashes": [f.md5 for f in files],
        "filesizes": [f.size for f in files],
        "name": options.repository,
        "exists": options.exists,
        "server_only": options.server_only,
        "default": options.default,
        "versions": [f.version for f in files],
        "check_protected": check_protected,
    }
    result.update(options.extra)
    if ref.lab and "labs" not in options.extra:
        result["labs"] = ref.lab
    return result
