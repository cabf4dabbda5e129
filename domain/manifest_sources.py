"""What a manifest tells the service to copy: each modality's paths and the schemas, and what of
the session is left out.

The session's collections are placed under modalities by `collection_modalities`; the paths of
`watchdog.extra_modality_data` are added as given, once checked to be absolute (the service
would resolve a relative one against its own working directory). Pure: the session is given as
its folder and the files the ledger knows in it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

from .collection_modalities import SETTING, landing_clash, left_out_reason, place_all
from .manifest_errors import InvalidManifest, NothingToTransfer

EXTRA = "watchdog.extra_modality_data"


@dataclass(frozen=True)
class Sources:
    """The manifest's `modalities` (sorted keys, sorted paths) and `schemas`, and warnings."""

    modalities: dict[str, list[str]]
    schemas: list[str]
    warnings: tuple[str, ...]


def schema_files(files: Iterable[str]) -> list[str]:
    """The session's top-level JSON files (aind-data-schema metadata), sorted."""
    return sorted(path for path in files if "/" not in path and path.endswith(".json"))


def posix(path: str) -> str:
    return PureWindowsPath(path).as_posix() if "\\" in path else path


def is_absolute(path: str, service_platform: str) -> bool:
    """Absolute for the service's host: `D:/x` or `//server/share/x` on Windows, `/x` elsewhere."""
    if service_platform.startswith("win"):
        return PureWindowsPath(path).is_absolute()
    return PurePosixPath(path).is_absolute()


def rooted(path: str) -> bool:
    """Not relative in either path style: `/x`, `D:/x`, `//server/share` or `\\\\server\\share`.
    A destination names the staging share as the lab writes it, whatever the service's host."""
    return (
        PurePosixPath(path).is_absolute()
        or PureWindowsPath(path).is_absolute()
        or path.startswith(("//", "\\\\"))
    )


def extra_paths(
    extra: Mapping[str, Sequence[str]], modalities: Collection[str], service_platform: str
) -> dict[str, set[str]]:
    """`watchdog.extra_modality_data` as POSIX paths, each key and path checked."""
    paths: dict[str, set[str]] = {}
    for abbreviation, given in sorted(extra.items()):
        if abbreviation not in modalities:
            raise InvalidManifest(
                f'{EXTRA} key "{abbreviation}" is not an AIND modality abbreviation; use one '
                f"of {', '.join(sorted(modalities))}"
            )
        for path in given:
            if not is_absolute(path, service_platform):
                raise InvalidManifest(
                    f'{EXTRA} path "{path}" ({abbreviation}) is relative, and the service would '
                    "look for it in its own working folder; give an absolute path"
                )
        paths[abbreviation] = {posix(path) for path in given}
    return paths


def manifest_sources(
    key: str,
    folder: str,
    files: Collection[str],
    collection_modalities: Mapping[str, str | None],
    extra: Mapping[str, Sequence[str]],
    modalities: Collection[str],
    service_platform: str,
) -> Sources:
    """The paths the service copies for the session `key` at `folder` (absolute, POSIX)."""
    collections = {path.split("/", 1)[0] for path in files if "/" in path}
    placements = place_all(collections, collection_modalities, modalities)
    paths = extra_paths(extra, modalities, service_platform)
    for placement in placements:
        if placement.modality is not None:
            paths.setdefault(placement.modality, set()).add(f"{folder}/{placement.folder}")
    if not paths:
        raise NothingToTransfer(
            f"session {key} has no sub-folder that is an AIND modality or that {SETTING} maps "
            f"to one (it has {', '.join(f'{c}/' for c in sorted(collections)) or 'none'}); "
            f"map its collections in {SETTING}, e.g. {{raw_behavior_data: behavior}}"
        )
    modality_paths = {abbreviation: sorted(paths[abbreviation]) for abbreviation in sorted(paths)}
    _refuse_clash(key, folder, files, modality_paths, service_platform)
    named = {path for listed in paths.values() for path in listed}
    warnings = [
        f"{key}: {placement.folder}/ is not transferred: {left_out_reason(placement)}"
        for placement in placements
        if placement.modality is None and not _named(f"{folder}/{placement.folder}", named)
    ]
    schemas = schema_files(files)
    loose = sorted(path for path in files if "/" not in path and path not in schemas)
    if loose:
        files_ = "file" if len(loose) == 1 else "files"
        warnings.append(
            f"{key}: top-level {files_} {', '.join(loose)} not transferred (only the top-level "
            "*.json metadata files and the sub-folders are)"
        )
    return Sources(modality_paths, [f"{folder}/{schema}" for schema in schemas], tuple(warnings))


def _named(collection: str, paths: Iterable[str]) -> bool:
    """Whether `extra_modality_data` names the collection itself or something inside it."""
    return any(path == collection or path.startswith(f"{collection}/") for path in paths)


def _refuse_clash(
    key: str,
    folder: str,
    files: Collection[str],
    modality_paths: Mapping[str, Sequence[str]],
    service_platform: str,
) -> None:
    """Refuse two paths of one modality that the service would copy onto the same file."""
    windows = service_platform.startswith("win")
    contents: dict[str, list[str]] = {}
    for path in files:
        if "/" in path:
            collection, inside = path.split("/", 1)
            contents.setdefault(f"{folder}/{collection}", []).append(inside)
    clash = landing_clash(modality_paths, contents, windows)
    if clash is None:
        return
    modality, first, second, name = clash

    def shown(path: str) -> str:
        inside = path.removeprefix(f"{folder}/")
        return f"{inside}/" if path in contents else inside

    how = "copies the contents of both into" if windows else "copies both, by their name, into"
    raise InvalidManifest(
        f"session {key}: the service {how} {modality}/, where {name} of {shown(second)} would "
        f"overwrite that of {shown(first)}; place one of them under another modality (or "
        f"none) in {SETTING}, or drop one from {EXTRA}"
    )
