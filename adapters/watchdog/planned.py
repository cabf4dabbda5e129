"""The manifest a transfer planned: recorded whole with the intent, written as it is by `sync`.

`labledger transfer` records the manifest's text and a fingerprint of the folders it names; a
`sync` that performs the intent later (the service was down, the rig crashed) writes exactly that
text, whatever the settings say by then, so one session's settings can never reach another's
manifest. If the named folders changed in between (files added, removed or rewritten), the
manifest no longer describes what the service would copy: the emission is refused and the
operator plans it again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from ...domain.errors import LabledgerError
from ...domain.manifest import Manifest


class SessionChangedSincePlanned(LabledgerError):
    """The folders a planned manifest names changed before it was written."""


def planned_fields(manifest: Manifest) -> dict[str, str]:
    """What the transfer intent records of its manifest: the text, and the folders' fingerprint."""
    return {
        "manifest": manifest.render().decode("utf-8"),
        "sources": fingerprint(source_paths(manifest.document)),
    }


def source_paths(document: Mapping[str, Any]) -> list[str]:
    """Every path the service will copy: the modalities' folders and files, and the schemas."""
    modalities = document.get("modalities") or {}
    return sorted(
        {*(p for paths in modalities.values() for p in paths), *document.get("schemas", [])}
    )


def fingerprint(paths: Iterable[str]) -> str:
    """A sha256 over the path, size and modification time of every file below `paths` (a path
    that is gone counts as such): what the service would copy, without reading a byte."""
    digest = hashlib.sha256()
    for root in sorted(paths):
        top = Path(root)
        files = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file())
        if not top.exists():
            digest.update(f"{root}\0missing\n".encode())
        for file in files:
            stat = file.stat()
            digest.update(f"{file.as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def planned_manifest(
    details: Mapping[str, Any], key: str, folder: str
) -> tuple[Manifest, bytes] | None:
    """The manifest an intent recorded, and its exact bytes; None for an intent recorded before
    manifests were kept (it is rebuilt from the settings, as then). Refuses a session whose
    folders changed since it was planned."""
    text = str(details.get("manifest") or "")
    if not text:
        return None
    document = yaml.safe_load(text)
    if fingerprint(source_paths(document)) != details.get("sources"):
        raise SessionChangedSincePlanned(
            f"session {key} changed since `labledger transfer` planned its manifest (files "
            "added, removed or rewritten in the folders it names); plan it again with "
            f"`labledger transfer {folder}`"
        )
    return Manifest(str(details["name"]), document), text.encode("utf-8")
