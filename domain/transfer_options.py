"""The settings a watchdog manifest is made of, as the domain receives them.

A module of its own because both the manifest and the upload request it carries read them: each
imports this one, and neither imports the other for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import time
from typing import Any


@dataclass(frozen=True)
class TransferOptions:
    """The settings a manifest is made of, already checked for presence (adapters do that)."""

    destination: str
    """Root on the staging share; the manifest's destination is `<root>/<subject>`."""
    project_name: str
    user_email: str
    transfer_endpoint: str | None
    """None writes an explicit `transfer_endpoint: null`: copy only (absent means upload)."""
    platform: str | None = None
    schedule_time: time | None = None
    job_type: str = "default"
    s3_bucket: str = "default"
    delete_modalities_source_after_success: bool = False
    extra_identifying_info: Mapping[str, Any] | None = None
    upload_tasks: Mapping[str, Any] | None = None
    data_description_tags: Sequence[str] = ()
    extra_modality_data: Mapping[str, Sequence[str]] = field(default_factory=dict)
    checksum_mode_override: str | None = None
    name: str | None = None
    """The manifest name given for one session (clabe's form, say); None: the AIND data name."""
    destination_as_given: bool = False
    """True: `destination` is the manifest's destination itself (given for one session), not
    the root under which each subject gets its own folder."""
    collection_modalities: Mapping[str, str | None] = field(default_factory=dict)
    """The lab's placement of collections (name or glob -> modality, None: left out), over the
    built-in IBL table (`domain.collection_modalities`)."""
    subject_ids: Mapping[str, str] = field(default_factory=dict)
    """Subject nickname -> the AIND subject id the manifest gives (`domain.subject_ids`)."""
    subject_id_replace: Mapping[str, str] = field(default_factory=dict)
    """Text replacements, in order, that make the AIND id of a subject not in `subject_ids`."""
