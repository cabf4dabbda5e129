"""What a scan saw of each file, handed by the filesystem adapter to the ledger.

Plain values, so the adapter that walks and hashes and the ledger that decides stay apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from .alf import SessionRef


@dataclass(frozen=True)
class Observed:
    """A file that is a registrable ALF dataset."""

    rel_path: str
    collection: str
    revision: str
    name: str
    size: int
    mtime_ns: int
    md5: str
    dataset_type: str
    data_format: str


@dataclass(frozen=True)
class Refused:
    """A file that cannot be registered, with the machine code and the one-line reason."""

    rel_path: str
    collection: str
    revision: str
    name: str
    code: str
    reason: str


FileObservation = Observed | Refused


@dataclass(frozen=True)
class SessionScan:
    """Everything one scan saw of one session folder."""

    ref: SessionRef
    folder: str
    files: tuple[FileObservation, ...]
    """Files new or changed since the ledger last saw them (the only ones it must decide on)."""
    unchanged: int = 0
    """Files the scanner found exactly as the ledger knows them: counted, not re-decided."""


@dataclass(frozen=True)
class ScanSummary:
    """What one scan changed in the ledger for one session."""

    session_id: UUID
    session_key: str
    discovered: int
    """Files new or changed since the last scan."""
    rejected: int
    """Files newly rejected, or rejected for a new reason."""
    unchanged: int
