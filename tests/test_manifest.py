"""The manifest a session gets: names, modalities, schemas, quoting, the request, fixed bytes.

Every manifest built here is read back with yaml.safe_load and validated by the real
`aind_watchdog_service.models.ManifestConfig` (and the service's own `IngestedManifest`, which
requires `name`), through `accepted_by_service`, which the other transfer tests use too.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterable
from datetime import datetime, time
from pathlib import Path
from typing import Any, Protocol, cast

import pytest
import yaml
from aind_data_schema_models.data_name_patterns import DataRegex  # type: ignore[import-untyped]
from aind_data_schema_models.modalities import Modality  # type: ignore[import-untyped]
from aind_data_transfer_service.configs.platforms_v1 import (  # type: ignore[import-untyped]
    Platform,
)
from aind_watchdog_service.models import ManifestConfig
from aind_watchdog_service.models.manifest_config import IngestedManifest

from labledger.adapters.watchdog.modalities import modality_names
from labledger.domain.manifest import (
    InvalidManifest,
    NothingToTransfer,
    SessionContent,
    TransferOptions,
    acquired_from_name,
    build_manifest,
    data_name,
    posix_destination,
    schema_files,
)
from labledger.domain.manifest_request import PLATFORMS, resolve_placeholder

ACQUIRED = datetime(2026, 11, 21, 11, 16, 17)
FOLDER = "/data/cortexlab/Subjects/algernon/2026-11-21/001"
FILES = (
    "alf/licks.times.npy",
    "behavior/raw.bin",
    "behavior/sub/trial.csv",
    "behavior-videos/cam0.avi",
    "Behavior/not-a-modality.txt",
    "notes.txt",
    "session.json",
    "rig.json",
    "alf/nested.json",
)
SESSION = SessionContent("cortexlab/algernon/2026-11-21/001", "algernon", FOLDER, FILES)
OPTIONS = TransferOptions(
    destination="/mnt/vast/staging",
    project_name="Example Project",
    user_email="jdoe@example.org",
    transfer_endpoint="http://aind-data-transfer-service/api/v2/submit_jobs",
)


def accepted_by_service(content: bytes) -> ManifestConfig:
    """The manifest as aind-watchdog-service 0.1.9 reads it; fails if it would be refused."""
    data = yaml.safe_load(content)
    with pytest.warns(UserWarning, match="Manually setting name is discouraged"):
        manifest = ManifestConfig(**data)
    ingested = IngestedManifest(**data, checksum_mode="crc32")
    assert ingested.name == data["name"] == manifest.name, "the service needs the name written"
    assert manifest.modalities, "the service refuses a manifest without modalities"
    assert set(manifest.modalities) <= set(modality_names())
    assert manifest.transfer_service_args is not None
    assert manifest.transfer_service_args.user_email, "ADTS >= 2.2 needs an e-mail"
    assert "\\" not in content.decode(), "paths are written POSIX"
    return manifest


class TableEntry(Protocol):
    """An entry of an AIND lookup table (`Modality.ALL`, `Platform.ALL`)."""

    @property
    def name(self) -> str: ...
    @property
    def abbreviation(self) -> str | None: ...


def _defaults(table: Iterable[object]) -> list[Callable[[], TableEntry]]:
    """A lookup table's model classes, each of which gives every field a default (typed as
    their base class, whose fields have none, a bare call would look incomplete)."""
    return cast("list[Callable[[], TableEntry]]", list(table))


def build(**changes: Any) -> Any:
    """The manifest of `SESSION` (or `session=`) with these options changed, for a service on
    Linux as the session's POSIX folder says (or `service_platform=`)."""
    session = changes.pop("session", SESSION)
    platform = changes.pop("service_platform", "linux")
    return build_manifest(
        session,
        ACQUIRED,
        dataclasses.replace(OPTIONS, **changes),
        modality_names(),
        service_platform=platform,
    )


def test_default_manifest_is_accepted_and_names_the_aind_data_name() -> None:
    manifest = build()
    accepted = accepted_by_service(manifest.render())
    assert manifest.name == "algernon_2026-11-21_11-16-17"
    assert manifest.file_name == "manifest_algernon_2026-11-21_11-16-17.yml"
    assert accepted.subject_id == "algernon" and accepted.acquisition_datetime == ACQUIRED
    assert accepted.destination == "/mnt/vast/staging/algernon"  # destination per subject
    assert accepted.modalities == {
        "behavior": [f"{FOLDER}/behavior"],
        "behavior-videos": [f"{FOLDER}/behavior-videos"],
    }
    assert accepted.schemas == [f"{FOLDER}/rig.json", f"{FOLDER}/session.json"]
    assert accepted.schedule_time is None and accepted.platform is None
    assert accepted.transfer_endpoint == OPTIONS.transfer_endpoint


@pytest.mark.parametrize("platform", [None, "behavior", "multiplane-ophys"])
def test_name_is_what_the_service_computes_itself(platform: str | None) -> None:
    """The staging folder gets the name the model (and the S3 prefix) would compute."""
    computed = ManifestConfig(
        subject_id="algernon",
        acquisition_datetime=ACQUIRED,
        platform=platform,
        project_name="p",
        destination="/d",
    ).name
    ours = data_name("algernon", ACQUIRED, platform)
    assert ours == computed
    assert acquired_from_name(ours) == ACQUIRED  # the service's name, as just asserted
    manifest = build(platform=platform)
    request = accepted_by_service(manifest.render()).transfer_service_args
    assert request is not None
    assert request.upload_jobs[0].s3_prefix == manifest.name == computed


def test_a_name_that_is_no_data_name_is_refused() -> None:
    assert re.match(DataRegex.DATA.value, build(platform="behavior").name)
    with pytest.raises(InvalidManifest, match="not an AIND data name"):
        acquired_from_name("algernon_2026-11-21T111621Z")  # clabe's session_name form


def test_schedule_time_is_quoted_so_yaml_cannot_read_a_number() -> None:
    """Unquoted, 20:00:00 is the integer 72000 (20:00 UTC); quoted it is local 20:00."""
    assert yaml.safe_load("schedule_time: 20:00:00")["schedule_time"] == 72000
    for value, text in ((time(20, 0), "'20:00:00'"), (time(8, 30), "'08:30:00'")):
        content = build(schedule_time=value).render()
        assert f"schedule_time: {text}\n" in content.decode()
        assert yaml.safe_load(content)["schedule_time"] == text.strip("'")
        assert accepted_by_service(content).schedule_time == value
    assert "schedule_time" not in build().document  # null: run at once


def test_acquisition_time_and_subject_are_quoted_strings() -> None:
    numeric = dataclasses.replace(SESSION, subject="100001")
    content = build(session=numeric).render().decode()
    assert "subject_id: '100001'\n" in content
    assert "acquisition_datetime: '2026-11-21T11:16:17'\n" in content
    assert yaml.safe_load(content)["subject_id"] == "100001"


def test_modality_folders_go_as_they_are_and_the_rest_is_named_as_left_out() -> None:
    manifest = build()
    assert list(manifest.document["modalities"]) == ["behavior", "behavior-videos"]
    left_out = [w for w in manifest.warnings if "not transferred" in w]
    assert len(left_out) == 3, left_out
    assert "Behavior/ is not transferred: it is no AIND modality" in left_out[0]  # case matters
    assert "alf/ is not transferred: processed ALF data is left out" in left_out[1]
    assert "top-level file notes.txt not transferred" in left_out[2]
    assert schema_files(FILES) == ["rig.json", "session.json"]  # top level only


def test_no_folder_under_a_modality_is_a_clear_error() -> None:
    bare = dataclasses.replace(SESSION, files=("alf/licks.times.npy", "session.json"))
    with pytest.raises(NothingToTransfer, match="no sub-folder that is an AIND modality"):
        build(session=bare)


def test_same_session_gives_the_same_bytes_whatever_the_order() -> None:
    """clabe built modalities and schemas from sets; here re-emission is byte-identical."""
    shuffled = dataclasses.replace(SESSION, files=tuple(reversed(FILES)))
    extra = {"behavior": ["/data/extra/b.csv", "/data/extra/a.csv"]}
    first = build(extra_modality_data=extra, data_description_tags=("b", "a"))
    again = build(session=shuffled, extra_modality_data=extra, data_description_tags=("a", "b"))
    assert first.render() == again.render() and first.sha256 == again.sha256
    accepted = accepted_by_service(first.render())
    assert accepted.modalities["behavior"] == [
        f"{FOLDER}/behavior",
        "/data/extra/a.csv",
        "/data/extra/b.csv",
    ]


def test_upload_tasks_get_the_destination_structurally_even_from_a_unc_share() -> None:
    """`{{ destination }}` replaced inside the parsed tasks, with a POSIX path."""
    tasks = {"custom_task": {"job_settings": {"input_dir": "{{ destination }}/behavior"}}}
    manifest = build(
        destination="\\\\allen\\aind\\scratch",
        upload_tasks=tasks,
        data_description_tags=("example-tag",),
        platform="behavior",
        s3_bucket="open",
    )
    accepted = accepted_by_service(manifest.render())
    root = f"//allen/aind/scratch/algernon/{manifest.name}"
    assert accepted.destination == "//allen/aind/scratch/algernon"
    request = accepted.transfer_service_args
    assert request is not None
    job = json.loads(request.upload_jobs[0].model_dump_json())
    assert job["tasks"]["custom_task"]["job_settings"] == {"input_dir": f"{root}/behavior"}
    metadata = job["tasks"]["gather_preliminary_metadata"]["job_settings"]
    assert metadata == {
        "metadata_dir": root,
        "data_description_settings": {"tags": ["example-tag"]},
    }
    assert job["tasks"]["modality_transformation_settings"]["behavior"]["job_settings"] == {
        "input_source": f"{root}/behavior"
    }
    assert job["platform"] == {"name": "Behavior platform", "abbreviation": "behavior"}
    assert job["s3_bucket"] == "open" and job["user_email"] == "jdoe@example.org"
    assert tasks["custom_task"]["job_settings"]["input_dir"].startswith("{{")  # not mutated


def test_resolve_placeholder_reaches_every_string() -> None:
    value = {"a": ["{{ destination }}/x", 3, {"b": "y {{ destination }}"}], "c": None}
    assert resolve_placeholder(value, "/r") == {"a": ["/r/x", 3, {"b": "y /r"}], "c": None}


@pytest.mark.parametrize(
    ("root", "expected"),
    [
        ("/mnt/vast/staging", "/mnt/vast/staging/algernon"),
        ("/mnt/vast/staging/", "/mnt/vast/staging/algernon"),
        ("\\\\allen\\aind\\scratch", "//allen/aind/scratch/algernon"),
        ("D:\\staging", "D:/staging/algernon"),
    ],
)
def test_posix_destination(root: str, expected: str) -> None:
    assert posix_destination(root, "algernon") == expected


def test_null_endpoint_is_written_explicitly_and_warned() -> None:
    """A dropped null would bring back the production endpoint at load."""
    manifest = build(transfer_endpoint=None, delete_modalities_source_after_success=True)
    assert "transfer_endpoint: null\n" in manifest.render().decode()
    assert accepted_by_service(manifest.render()).transfer_endpoint is None
    assert any("uploads nothing" in w for w in manifest.warnings)
    assert any("deletes the session's modality folders" in w for w in manifest.warnings)


def test_development_endpoint_is_warned() -> None:
    dev = "http://aind-data-transfer-service-dev/api/v2/submit_jobs"
    assert any("development service" in w for w in build(transfer_endpoint=dev).warnings)
    assert all("not transferred" in w for w in build().warnings)  # only what is left out


def test_unknown_platform_and_extra_modality_are_refused() -> None:
    with pytest.raises(InvalidManifest, match="platform"):
        build(platform="Behavior")
    with pytest.raises(InvalidManifest, match="extra_modality_data"):
        build(extra_modality_data={"video": ["/x"]})


def test_no_legacy_key_and_no_key_outside_the_model_is_written() -> None:
    manifest = build(
        schedule_time=time(20, 0),
        platform="behavior",
        extra_identifying_info={"rig": "rig-01"},
        checksum_mode_override="crc32",
    )
    keys = set(yaml.safe_load(manifest.render()))
    assert keys <= set(ManifestConfig.model_fields)
    assert not keys & {"processor_full_name", "force_cloud_sync", "capsule_id", "mount", "script"}
    assert "s3_bucket" not in keys
    accepted_by_service(manifest.render())


def test_platform_table_is_the_transfer_services() -> None:
    assert {p().abbreviation: p().name for p in _defaults(Platform.ALL)} == PLATFORMS


def test_modality_table_comes_from_aind_data_schema_models() -> None:
    expected = {
        "BARseq", "EM", "EMG", "ISI", "MAPseq", "MRI", "SPIM", "STPT", "behavior",
        "behavior-videos", "brightfield", "confocal", "ecephys", "fMOST", "fib", "icephys",
        "merfish", "one-photon", "pophys", "scRNAseq", "slap2",
    }  # fmt: skip
    assert set(modality_names()) == expected  # the service's abbreviations
    assert modality_names() == {m().abbreviation: m().name for m in _defaults(Modality.ALL)}


def test_rendered_manifest_is_plain_yaml_without_anchors(tmp_path: Path) -> None:
    content = build(platform="behavior").render().decode()
    assert "&id" not in content and "*id" not in content
    path = tmp_path / "m.yml"
    path.write_text(content)
    assert yaml.safe_load(path.read_text()) == yaml.safe_load(content)
