"""Collections placed under AIND modalities, AIND subject ids, and what the service's own copy code
does with several paths under one modality.

The placement is a decision table (`domain.collection_modalities.RULES`): each row below names a
folder, the lab's mapping and the placement expected, and together they exercise every row of
the table and the order between them. The manifests built here are validated by the real
`ManifestConfig` (`accepted_by_service`), and the service's `RunJob.copy_to_vast` copies one.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from aind_data_schema_models.data_name_patterns import (  # type: ignore[import-untyped]
    DataRegex,
    DataRegexLegacy,
)
from aind_watchdog_service import run_job
from aind_watchdog_service.models.manifest_config import IngestedManifest
from aind_watchdog_service.models.watch_config import WatchConfig

from labledger.adapters.watchdog.modalities import modality_names
from labledger.domain.collection_modalities import (
    IBL_COLLECTIONS,
    RULES,
    collection_table,
    place,
    place_all,
)
from labledger.domain.manifest import (
    InvalidManifest,
    NothingToTransfer,
    SessionContent,
    TransferOptions,
    build_manifest,
)
from labledger.domain.subject_ids import aind_subject_id
from tests.test_manifest import accepted_by_service

ACQUIRED = datetime(2026, 11, 21, 10, 0, 0)
IBL_FILES = (
    "_ibl_experiment.description.yaml",
    "alf/_ibl_trials.table.pqt",
    "alf/probe00/spikes.times.npy",
    "raw_behavior_data/_iblrig_taskData.raw.jsonable",
    "raw_behavior_data/_iblrig_taskSettings.raw.json",
    "raw_passive_data/_iblrig_RFMapStim.raw.bin",
    "raw_video_data/_iblrig_leftCamera.raw.mp4",
    "raw_ephys_data/_spikeglx_ephysData_g0_t0.nidq.cbin",
    "raw_ephys_data/probe00/_spikeglx_ephysData_g0_t0.imec0.ap.cbin",
)
OPTIONS = TransferOptions(
    destination="/mnt/vast/staging",
    project_name="Example Project",
    user_email="jdoe@example.org",
    transfer_endpoint="http://aind-data-transfer-service/api/v2/submit_jobs",
    platform="ecephys",
)


def session(
    folder: Path | str, files: tuple[str, ...] = IBL_FILES, subject: str = "algernon"
) -> SessionContent:
    return SessionContent(f"cortexlab/{subject}/2026-11-21/001", subject, str(folder), files)


def build(content: SessionContent, service_platform: str = "linux", **changes: Any) -> Any:
    options = dataclasses.replace(OPTIONS, **changes)
    return build_manifest(
        content, ACQUIRED, options, modality_names(), service_platform=service_platform
    )


# -- the decision table, row by row -------------------------------------------------------------

PLACEMENTS: list[tuple[str, dict[str, str | None], str | None, str | None]] = [
    # folder, the lab's mapping, expected modality, the table that decided (None: nothing did)
    ("raw_behavior_data", {}, "behavior", "ibl"),
    ("raw_task_data_00", {}, "behavior", "ibl"),
    ("raw_task_data_01", {}, "behavior", "ibl"),
    ("raw_passive_data", {}, "behavior", "ibl"),
    ("raw_sync_data", {}, "behavior", "ibl"),
    ("raw_video_data", {}, "behavior-videos", "ibl"),
    ("raw_ephys_data", {}, "ecephys", "ibl"),
    ("raw_ephys_data_01", {}, "ecephys", "ibl"),
    ("raw_widefield_data", {}, "one-photon", "ibl"),
    ("raw_imaging_data_00", {}, "pophys", "ibl"),
    ("raw_photometry_data", {}, "fib", "ibl"),
    ("alf", {}, None, "ibl"),  # processed data: left out unless the lab maps it
    ("behavior", {}, "behavior", "modality"),  # a folder named by a modality keeps working
    ("behavior-videos", {}, "behavior-videos", "modality"),
    ("Behavior", {}, None, None),  # matching is case-sensitive, as the service's
    ("RAW_VIDEO_DATA", {}, None, None),
    ("spike_sorters", {}, None, None),
    ("alf", {"alf": "behavior"}, "behavior", "lab"),  # the lab's name beats the built-in one
    ("raw_video_data", {"raw_video_data": None}, None, "lab"),  # ... and can leave out
    ("behavior", {"behavior": None}, None, "lab"),  # ... beats the folder's own name
    ("behavior", {"*": "ecephys"}, "behavior", "modality"),  # which beats the lab's pattern
    ("raw_ephys_data", {"raw_*": "behavior"}, "behavior", "lab"),  # lab pattern > built-in
    ("raw_ephys_data_old", {"raw_ephys_data_old": None, "raw_*": "ecephys"}, None, "lab"),
    ("cams_left", {"cams_*": "behavior-videos", "cams_l*": "behavior"}, "behavior-videos", "lab"),
    ("raw_task_data_00", {"raw_task_data_0[0-4]": "fib"}, "fib", "lab"),
]


@pytest.mark.parametrize(("folder", "lab", "modality", "source"), PLACEMENTS)
def test_placement_row(
    folder: str, lab: dict[str, str | None], modality: str | None, source: str | None
) -> None:
    placed = place(folder, lab, modality_names())
    assert (placed.modality, placed.source) == (modality, source)


def test_the_rows_above_cover_every_rule_of_the_table() -> None:
    covered = {
        (placed.source, "pattern" if any(c in (placed.key or "") for c in "*?[") else "name")
        for placed in (place(f, lab, modality_names()) for f, lab, _, _ in PLACEMENTS)
        if placed.source is not None
    }
    assert covered == set(RULES)


def test_the_built_in_table_names_real_modalities_only() -> None:
    assert {m for m in IBL_COLLECTIONS.values() if m is not None} <= set(modality_names())
    assert IBL_COLLECTIONS["alf"] is None
    shown = collection_table({}, modality_names())
    assert "raw_ephys_data* -> ecephys" in shown and "alf -> left out" in shown


@pytest.mark.parametrize(
    ("lab", "needles"),
    [
        ({"raw_video_data": "video"}, ['maps raw_video_data to "video"', "behavior-videos"]),
        ({"raw_behavior_data": "Behavior"}, ['to "Behavior", which is not an AIND modality']),
        ({"raw_ephys_data/probe00": "ecephys"}, ["is no collection name", "raw_ephys_data"]),
        ({"": "behavior"}, ["is no collection name"]),
    ],
)
def test_a_lab_entry_the_service_cannot_use_is_refused(
    lab: dict[str, str | None], needles: list[str]
) -> None:
    with pytest.raises(InvalidManifest) as refused:
        place_all(["raw_video_data"], lab, modality_names())
    message = str(refused.value)
    assert "\n" not in message and "watchdog.collection_modalities" in message
    for needle in needles:
        assert needle in message


# -- a plain IBL session ------------------------------------------------------------------------


def test_a_plain_ibl_session_goes_whole_but_its_processed_data() -> None:
    folder = "/data/cortexlab/Subjects/algernon/2026-11-21/001"
    manifest = build(session(folder))
    accepted = accepted_by_service(manifest.render())
    assert accepted.modalities == {
        "behavior": [f"{folder}/raw_behavior_data", f"{folder}/raw_passive_data"],
        "behavior-videos": [f"{folder}/raw_video_data"],
        "ecephys": [f"{folder}/raw_ephys_data"],
    }
    assert manifest.warnings == (
        "cortexlab/algernon/2026-11-21/001: alf/ is not transferred: processed ALF data is left "
        "out by default; to include it, map it to a modality in "
        "watchdog.collection_modalities, e.g. {alf: behavior}",
        "cortexlab/algernon/2026-11-21/001: top-level file _ibl_experiment.description.yaml "
        "not transferred (only the top-level *.json metadata files and the sub-folders are)",
    )
    request = accepted.transfer_service_args
    assert request is not None
    assert [m.abbreviation for m in request.upload_jobs[0].modalities] == [
        "behavior",
        "behavior-videos",
        "ecephys",
    ]


def test_a_collection_named_in_extra_modality_data_is_not_warned_about() -> None:
    folder = "/data/cortexlab/Subjects/algernon/2026-11-21/001"
    manifest = build(session(folder), extra_modality_data={"behavior": [f"{folder}/alf"]})
    assert f"{folder}/alf" in manifest.document["modalities"]["behavior"]
    assert not any("alf/" in warning for warning in manifest.warnings)
    lab = build(session(folder), collection_modalities={"alf": "behavior"})
    assert not any("alf/" in warning for warning in lab.warnings)
    out = build(session(folder), collection_modalities={"raw_passive_data": None})
    [left_out] = [w for w in out.warnings if "raw_passive_data/" in w]
    assert left_out.endswith(
        "is not transferred: watchdog.collection_modalities leaves it out (raw_passive_data: null)"
    )


def test_only_left_out_collections_means_nothing_to_transfer() -> None:
    bare = session("/d", ("alf/a.npy", "notes/b.txt", "session.json"))
    with pytest.raises(NothingToTransfer, match="it has alf/, notes/"):
        build(bare)


@pytest.mark.parametrize(
    ("platform", "path", "absolute"),
    [
        ("linux", "/data/videos/cam0.avi", True),
        ("linux", "videos/cam0.avi", False),
        ("linux", "D:/videos/cam0.avi", False),  # a Windows path, relative on Linux
        ("win32", "D:/videos/cam0.avi", True),
        ("win32", "D:\\videos\\cam0.avi", True),
        ("win32", "\\\\rig-01\\share\\cam0.avi", True),
        ("win32", "//rig-01/share/cam0.avi", True),
        ("win32", "videos\\cam0.avi", False),
        ("win32", "/videos/cam0.avi", False),  # on the service's current drive
        ("win32", "D:videos/cam0.avi", False),
    ],
)
def test_a_relative_extra_path_is_refused(platform: str, path: str, absolute: bool) -> None:
    content = session("D:/data/algernon/2026-11-21/001" if platform == "win32" else "/data/s")
    extra = {"extra_modality_data": {"behavior-videos": [path]}}
    if absolute:
        assert build(content, platform, **extra).document["modalities"]["behavior-videos"]
        return
    with pytest.raises(InvalidManifest) as refused:
        build(content, platform, **extra)
    assert str(refused.value) == (
        f'watchdog.extra_modality_data path "{path}" (behavior-videos) is relative, and the '
        "service would look for it in its own working folder; give an absolute path"
    )


# -- several paths under one modality -----------------------------------------------------------

TWO_TASKS = (
    "raw_task_data_00/_iblrig_taskData.raw.jsonable",
    "raw_task_data_00/_iblrig_taskSettings.raw.json",
    "raw_task_data_01/_iblrig_taskData.raw.jsonable",
    "raw_task_data_01/_iblrig_taskSettings.raw.json",
)


def test_collections_that_would_overwrite_each_other_on_windows_are_refused() -> None:
    content = session("D:/data/algernon/2026-11-21/001", TWO_TASKS)
    with pytest.raises(InvalidManifest) as refused:
        build(content, "win32")
    assert str(refused.value) == (
        "session cortexlab/algernon/2026-11-21/001: the service copies the contents of both "
        "into behavior/, where _iblrig_taskData.raw.jsonable of raw_task_data_01/ would "
        "overwrite that of raw_task_data_00/; place one of them under another modality (or "
        "none) in watchdog.collection_modalities, or drop one from watchdog.extra_modality_data"
    )
    apart = build(content, "win32", collection_modalities={"raw_task_data_01": None})
    assert list(apart.document["modalities"]) == ["behavior"]
    linux = build(session("/data/s", TWO_TASKS), "linux")  # rsync keeps each folder's name
    assert len(accepted_by_service(linux.render()).modalities["behavior"]) == 2


def test_two_extra_files_of_one_name_under_one_modality_are_refused() -> None:
    extra = {"behavior-videos": ["/rig/a/cam0.avi", "/rig/b/cam0.avi"]}
    with pytest.raises(InvalidManifest, match=r"cam0\.avi of /rig/b/cam0\.avi would overwrite"):
        build(session("/data/s"), extra_modality_data=extra)


def _run_copy(manifest: Any, tmp_path: Path, watch: WatchConfig) -> Path:
    data = yaml.safe_load(manifest.render())
    ingested = IngestedManifest(**data, checksum_mode="no_check")
    assert run_job.RunJob("unused.yml", ingested, watch).copy_to_vast()
    return tmp_path / "vast" / "algernon" / str(ingested.name)


def _ibl_folder(tmp_path: Path, files: tuple[str, ...]) -> Path:
    folder = tmp_path / "data" / "algernon" / "2026-11-21" / "001"
    for rel in files:
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(rel)
    return folder


def test_the_services_copy_on_linux_keeps_each_collection_in_its_own_folder(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The service's own `copy_to_vast` (rsync) copies every path of a modality, each folder
    under its own name: nothing of the plain IBL session's collections is lost or merged."""
    folder = _ibl_folder(tmp_path, IBL_FILES + TWO_TASKS)
    manifest = build(session(folder, IBL_FILES + TWO_TASKS), destination=str(tmp_path / "vast"))
    watch = WatchConfig(flag_dir=str(tmp_path / "f"), manifest_complete=str(tmp_path / "c"))
    with caplog.at_level(logging.ERROR):
        copied = _run_copy(manifest, tmp_path, watch)
    landed = sorted(str(p.relative_to(copied)) for p in copied.rglob("*") if p.is_file())
    expected = [
        f"{modality}/{rel}"
        for modality, paths in manifest.document["modalities"].items()
        for path in paths
        for rel in (IBL_FILES + TWO_TASKS)
        if rel.startswith(f"{Path(path).name}/")
    ]
    assert landed == sorted(expected) and not caplog.records
    for rel in landed:  # each file is its own source's, none overwritten
        assert (copied / rel).read_text() == rel.split("/", 1)[1]


def test_the_services_copy_on_windows_merges_folders_which_is_why_clashes_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service's Windows branch (shutil here; robocopy behaves alike) copies a folder's
    contents into `<modality>/`: two task collections' files of one name overwrite each other,
    silently. labledger refuses that manifest for a Windows service (test above)."""
    folder = _ibl_folder(tmp_path, TWO_TASKS)
    manifest = build(session(folder, TWO_TASKS), destination=str(tmp_path / "vast"))
    monkeypatch.setattr(run_job, "PLATFORM", "windows")  # the service's own switch
    watch = WatchConfig.model_validate(
        {
            "flag_dir": str(tmp_path / "f"),
            "manifest_complete": str(tmp_path / "c"),
            "windows_copy_utility": "shutil",
            "checksum_parameters": {"mode": "no_check"},
        }
    )
    copied = _run_copy(manifest, tmp_path, watch)
    behavior = copied / "behavior"
    assert sorted(p.name for p in behavior.iterdir()) == [
        "_iblrig_taskData.raw.jsonable",
        "_iblrig_taskSettings.raw.json",
    ]
    assert (behavior / "_iblrig_taskData.raw.jsonable").read_text().startswith("raw_task_data_01")
    with pytest.raises(InvalidManifest, match="overwrite"):
        build(session(folder, TWO_TASKS), "win32")


# -- AIND subject ids ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "ids", "replace", "expected"),
    [
        ("algernon", {}, {}, "algernon"),
        ("100001", {}, {}, "100001"),
        ("ZFM-01576", {}, {"_": "-"}, "ZFM-01576"),
        ("SWC_043", {"SWC_043": "SWC-043"}, {}, "SWC-043"),
        ("SWC_043", {}, {"_": "-"}, "SWC-043"),
        ("SWC_043", {"SWC_043": "swc43"}, {"_": "-"}, "swc43"),  # the table before replacing
        ("ZM_1085", {}, {"ZM_": "ZM", "_": "-"}, "ZM1085"),  # replacements in order
        ("KS_023_b", {}, {"_": "."}, "KS.023.b"),
    ],
)
def test_aind_subject_id(
    subject: str, ids: dict[str, str], replace: dict[str, str], expected: str
) -> None:
    assert aind_subject_id(subject, ids, replace) == expected


@pytest.mark.parametrize(
    ("ids", "replace", "message"),
    [
        (
            {},
            {},
            'subject SWC_043 is no valid AIND subject_id: aind-data-schema allows no "_" in it '
            "(and the data name would be split there); map it in the watchdog settings, e.g. "
            'subject_ids: {SWC_043: SWC-043}, or subject_id_replace: {"_": "-"} for every subject',
        ),
        (
            {"SWC_043": "SWC_43"},
            {},
            'watchdog.subject_ids maps SWC_043 to "SWC_43", which is no valid AIND subject_id; '
            'use letters, digits, "." and "-" only (no "_")',
        ),
        (
            {},
            {"_": " "},
            'watchdog.subject_id_replace makes SWC_043 "SWC 043", which is no valid AIND '
            'subject_id; use letters, digits, "." and "-" only (no "_")',
        ),
        ({}, {"": "-"}, "watchdog.subject_id_replace has an empty key; give the text to replace"),
    ],
)
def test_a_subject_id_aind_refuses_is_refused_with_the_rule_and_a_mapping(
    ids: dict[str, str], replace: dict[str, str], message: str
) -> None:
    with pytest.raises(InvalidManifest) as refused:
        aind_subject_id("SWC_043", ids, replace)
    assert str(refused.value) == message


def test_the_mapped_id_is_the_manifests_subject_and_names_the_data() -> None:
    """Unmapped, `SWC_043_...` reads as platform SWC, subject 043; mapped, it parses back."""
    unmapped = re.match(DataRegexLegacy.RAW.value, "SWC_043_2026-11-21_10-00-00")
    assert unmapped is not None and unmapped["platform_abbreviation"] == "SWC"
    content = session("/data/s", subject="SWC_043")
    manifest = build(content, subject_ids={"SWC_043": "SWC-043"})
    accepted = accepted_by_service(manifest.render())
    assert accepted.subject_id == "SWC-043"
    assert manifest.name == "ecephys_SWC-043_2026-11-21_10-00-00"
    parsed = re.match(DataRegexLegacy.RAW.value, manifest.name)
    assert parsed is not None and parsed["subject_id"] == "SWC-043"
    assert parsed["platform_abbreviation"] == "ecephys"
    assert re.match(DataRegex.NO_UNDERSCORES.value, str(accepted.subject_id))
    assert accepted.destination == "/mnt/vast/staging/SWC-043"
    request = accepted.transfer_service_args
    assert request is not None
    job = request.upload_jobs[0]
    assert job.subject_id == "SWC-043" and job.s3_prefix == manifest.name
    with pytest.raises(InvalidManifest, match="subject SWC_043 is no valid AIND subject_id"):
        build(content)
