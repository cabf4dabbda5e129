"""Which AIND modality each collection of a session goes under: a decision table kept as data.

A session's top-level sub-folders are its ALF collections (`raw_behavior_data`, `raw_video_data`,
`alf`, ...), the names Alyx and ONE know, so they are never renamed. The watchdog service copies
each manifest path into `<name>/<modality>/`, and each manifest key must be an AIND modality
abbreviation. So every collection is placed under a modality, or left out, by the first row of
`RULES` that has an entry for it. Pure: the lab's mapping and the modality set are passed in.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import PurePosixPath
from typing import Literal

from .manifest_errors import InvalidManifest

SETTING = "watchdog.collection_modalities"

IBL_COLLECTIONS: dict[str, str | None] = {
    "raw_behavior_data": "behavior",  # the Bpod task (iblrig up to 7), with the microphone
    "raw_task_data_*": "behavior",  # iblrig 8: one numbered collection per task protocol
    "raw_passive_data": "behavior",  # the passive stimulus protocol after a task
    "raw_sync_data": "behavior",  # the DAQ's sync channels: AIND has no sync modality
    "raw_video_data": "behavior-videos",  # the cameras
    "raw_ephys_data*": "ecephys",  # SpikeGLX: the nidq files and probe00/, probe01/ below
    "raw_widefield_data": "one-photon",  # widefield calcium imaging, one-photon excitation
    "raw_imaging_data*": "pophys",  # the two-photon mesoscope: raw_imaging_data_00, ...
    "raw_photometry_data": "fib",  # fibre photometry
    "alf": None,  # processed data, which IBL's pipeline derives again: left out
}
"""The built-in placement of IBL's standard collections (a name, or a glob pattern), which a
lab's `watchdog.collection_modalities` overrides entry by entry; None leaves a collection out."""

Source = Literal["lab", "modality", "ibl"]
Match = Literal["name", "pattern"]

RULES: tuple[tuple[Source, Match], ...] = (
    ("lab", "name"),  # the lab's mapping names the folder
    ("modality", "name"),  # the folder is named by a modality: behavior/, ecephys/, ...
    ("lab", "pattern"),  # the first of the lab's patterns that matches, in the order written
    ("ibl", "name"),  # the built-in IBL table names the folder
    ("ibl", "pattern"),  # the first built-in pattern that matches
)
"""The decision table: the first row with an entry for a folder decides; none leaves it out."""

PATTERN_CHARACTERS = frozenset("*?[")


@dataclass(frozen=True)
class Placement:
    """Where one collection goes: its modality (None: left out) and the entry that decided."""

    folder: str
    modality: str | None
    source: Source | None = None
    """None when no row has an entry for the folder."""
    key: str | None = None
    """The name or pattern of the deciding entry."""


def is_pattern(key: str) -> bool:
    return not PATTERN_CHARACTERS.isdisjoint(key)


def check_lab_mapping(lab: Mapping[str, str | None], modalities: Collection[str]) -> None:
    """Refuse a lab's entry the service could not use, in one line naming it and the fix."""
    for key, modality in lab.items():
        if not key or "/" in key or "\\" in key:
            raise InvalidManifest(
                f'{SETTING} key "{key}" is no collection name; map a top-level folder of the '
                "session (its name or a pattern such as raw_ephys_data*), e.g. "
                "raw_ephys_data rather than raw_ephys_data/probe00"
            )
        if modality is not None and modality not in modalities:
            raise InvalidManifest(
                f'{SETTING} maps {key} to "{modality}", which is not an AIND modality '
                f"abbreviation; use one of {', '.join(sorted(modalities))}, or null to leave "
                "it out"
            )


def place(folder: str, lab: Mapping[str, str | None], modalities: Collection[str]) -> Placement:
    """Where `folder` goes: the first row of `RULES` with an entry for it decides."""
    tables: dict[Source, Mapping[str, str | None]] = {
        "lab": lab,
        "modality": {abbreviation: abbreviation for abbreviation in modalities},
        "ibl": IBL_COLLECTIONS,
    }
    for source, match in RULES:
        for key, modality in tables[source].items():
            if is_pattern(key) == (match == "pattern") and fnmatchcase(folder, key):
                return Placement(folder, modality, source, key)
    return Placement(folder, None)


def place_all(
    folders: Iterable[str], lab: Mapping[str, str | None], modalities: Collection[str]
) -> list[Placement]:
    """Every folder's placement, sorted by folder name; the lab's mapping checked first."""
    check_lab_mapping(lab, modalities)
    return [place(folder, lab, modalities) for folder in sorted(set(folders))]


def collection_table(lab: Mapping[str, str | None], modalities: Collection[str]) -> str:
    """The placement in force, in one line: the lab's entries, then the built-in ones it keeps."""
    check_lab_mapping(lab, modalities)
    entries = [*lab.items()]
    entries += [(key, modality) for key, modality in IBL_COLLECTIONS.items() if key not in lab]
    shown = [f"{key} -> {modality or 'left out'}" for key, modality in entries]
    return "; ".join([*shown, "a folder named by a modality -> that modality", "others left out"])


def left_out_reason(placement: Placement) -> str:
    """Why a collection is not transferred, and how to include it (for the operator)."""
    folder = placement.folder
    if placement.source == "lab":
        return f"{SETTING} leaves it out ({placement.key}: null)"
    if placement.source == "ibl":
        return (
            "processed ALF data is left out by default; to include it, map it to a modality "
            f"in {SETTING}, e.g. {{{folder}: behavior}}"
        )
    return (
        f"it is no AIND modality and {SETTING} does not map it; map it to a modality there, "
        f"e.g. {{{folder}: behavior}}"
    )


def landing_clash(
    modality_paths: Mapping[str, Sequence[str]],
    contents: Mapping[str, Collection[str]],
    windows: bool,
) -> tuple[str, str, str, str] | None:
    """Two paths of one modality that the service would copy onto the same file, as
    (modality, first path, second path, the name both write), or None.

    On Linux the service copies each path with rsync into `<modality>/<path's name>` (a folder
    one level deeper), so two paths clash only by name. On Windows robocopy copies a
    folder's *contents* into `<modality>/`, so the collections' files (`contents`, relative to
    each folder, as the ledger knows them) clash by relative path, without any error: the
    second copy overwrites the first. A path without known contents counts by its name.
    """
    for modality, paths in modality_paths.items():
        seen: dict[str, str] = {}
        for path in paths:
            known = contents.get(path)
            landed = known if windows and known is not None else [PurePosixPath(path).name]
            for name in sorted(landed):
                key = name.casefold() if windows else name
                first = seen.setdefault(key, path)
                if first != path:
                    return modality, first, path, name
    return None
