"""Counts and sizes as a person reads them: '1 file', '2 files', '1.2 GB'."""

from __future__ import annotations

SIZE_UNITS = ("kB", "MB", "GB", "TB", "PB")
"""Decimal units, as the scan's progress bar shows transfer sizes."""


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """A count with its noun in the right number: '1 file', '2 files', '0 files'."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


def size_text(size: int) -> str:
    """A file size with its unit: '1 byte', '160 bytes', '4.2 kB', '200.0 GB'."""
    if size < 1000:
        return plural(size, "byte")
    value = float(size)
    for unit in SIZE_UNITS:
        value /= 1000
        if value < 1000 or unit == SIZE_UNITS[-1]:
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover
