"""Why a manifest cannot be built: errors of their own module, so the manifest and the rules it
is built from (collections, subject ids) raise the same ones without importing each other."""

from __future__ import annotations

from .errors import LabledgerError


class InvalidManifest(LabledgerError):
    """A manifest cannot be built from these settings (a value the service would reject)."""


class NothingToTransfer(LabledgerError):
    """No sub-folder of the session goes under an AIND modality: the service would refuse it."""
