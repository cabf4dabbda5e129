"""The upload request a manifest carries (`transfer_service_args`), posted verbatim by the service.

clabe always writes one: it is the only way to send custom tasks, tags, another
bucket or the platform. It is built here as plain data, never as text, so the `{{ destination }}`
placeholder is replaced inside strings (clabe pasted it into JSON text) and the result is the
same for the same inputs.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .manifest_yaml import Quoted
from .transfer_options import TransferOptions

PLATFORMS: dict[str, str] = {
    "behavior": "Behavior platform",
    "confocal": "Confocal microscopy platform",
    "ecephys": "Electrophysiology platform",
    "exaSPIM": "ExaSPIM platform",
    "FIP": "Frame-projected independent-fiber photometry platform",
    "HCR": "Hybridization chain reaction platform",
    "HSFP": "Hyperspectral fiber photometry platform",
    "ISI": "Intrinsic signal imaging platform",
    "MERFISH": "MERFISH platform",
    "MRI": "Magnetic resonance imaging platform",
    "mesoSPIM": "MesoSPIM platform",
    "motor-observatory": "Motor observatory platform",
    "multiplane-ophys": "Multiplane optical physiology platform",
    "SLAP2": "SLAP2 platform",
    "single-plane-ophys": "Single-plane optical physiology platform",
    "SmartSPIM": "SmartSPIM platform",
}
"""Platform abbreviation -> name, as aind-data-transfer-service 2.0.2 knows them.

A table rather than an import: the transfer service is a test dependency only (it pins old
libraries); tests/test_manifest.py proves this table equals its `Platform` list. An unknown
abbreviation would silently become null in the upload request, so it is refused instead."""

DESTINATION_PLACEHOLDER = "{{ destination }}"
NOTIFY_ON = ("fail",)
"""E-mail notification types of the upload request (the transfer service's own default)."""


def resolve_placeholder(value: Any, destination: str) -> Any:
    """A copy of `value` with `{{ destination }}` replaced inside every string.

    Done in the parsed structure, never in serialised text, so a path with backslashes or quotes
    cannot make the tasks invalid.
    """
    if isinstance(value, str):
        return value.replace(DESTINATION_PLACEHOLDER, destination)
    if isinstance(value, Mapping):
        return {key: resolve_placeholder(item, destination) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [resolve_placeholder(item, destination) for item in value]
    return copy.deepcopy(value)


def upload_request(
    name: str,
    subject: str,
    acquired: datetime,
    options: TransferOptions,
    destination: str,
    abbreviations: list[str],
    modalities: Mapping[str, str],
) -> dict[str, Any]:
    """The upload request the service POSTs verbatim (ADTS SubmitJobRequestV2)."""
    root = f"{destination}/{name}"
    tasks: dict[str, Any] = {
        "modality_transformation_settings": {
            abbr: {"job_settings": {"input_source": f"{root}/{abbr}"}} for abbr in abbreviations
        },
        "gather_preliminary_metadata": {"job_settings": {"metadata_dir": root}},
    }
    tasks.update(resolve_placeholder(dict(options.upload_tasks or {}), root))
    if options.data_description_tags:
        metadata = tasks.setdefault("gather_preliminary_metadata", {})
        job_settings = metadata.setdefault("job_settings", {}) or {}
        metadata["job_settings"] = job_settings
        description = job_settings.setdefault("data_description_settings", {})
        tags = {*description.get("tags", []), *options.data_description_tags}
        description["tags"] = sorted(tags)
    platform = options.platform
    job = {
        "job_type": options.job_type,
        "user_email": options.user_email,
        "email_notification_types": list(NOTIFY_ON),
        "s3_bucket": options.s3_bucket,
        "project_name": options.project_name,
        "platform": None
        if platform is None
        else {"name": PLATFORMS[platform], "abbreviation": platform},
        "modalities": [{"name": modalities[a], "abbreviation": a} for a in abbreviations],
        "subject_id": Quoted(subject),
        "acq_datetime": Quoted(acquired.isoformat(timespec="seconds")),
        "tasks": tasks,
    }
    return {
        "dag_id": "transform_and_upload_v2",
        "user_email": options.user_email,
        "email_notification_types": list(NOTIFY_ON),
        "upload_jobs": [job],
    }
