"""What the ledger remembers of a file from the last scan, so a re-scan skips what is unchanged."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KnownFile:
    """What the last scan recorded of a file: enough to skip hashing and re-deciding it."""

    state: str
    """'discovered' or 'rejected'."""
    size: int | None = None
    mtime_ns: int | None = None
    md5: str | None = None
    dataset_type: str | None = None
    data_format: str | None = None
    reason: str | None = None

    def same_discovery(self, size: int, mtime_ns: int, dataset_type: str, data_format: str) -> bool:
        """True when a file with this size, mtime and classification needs no new hash or event."""
        return self.state == "discovered" and (
            self.size,
            self.mtime_ns,
            self.dataset_type,
            self.data_format,
        ) == (size, mtime_ns, dataset_type, data_format)

    awaiting_registration: bool = False
    """Discovered as it is now and never registered so (a registration may be asked for: asked
    again with other options, the newer request replaces it)."""

    def same_rejection(self, reason: str) -> bool:
        return self.state == "rejected" and self.reason == reason
