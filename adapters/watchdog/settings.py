"""The `watchdog:` settings section: clabe 0.14.1's WatchdogSettings, read the way labledger reads
every setting (only this section of the file, LABLEDGER_WATCHDOG__* variables, one-line errors).

clabe reads a YAML file without a `watchdog:` section whole and unprefixed environment
variables; here the shared loader reads only the section and only prefixed variables.
Keys that aind-watchdog-service 0.1.9 silently ignores are still accepted, so an existing clabe
configuration loads, but each one gives a warning naming it and none is written.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, time
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ...domain.errors import InvalidSettings
from ...domain.manifest import TransferOptions
from ...domain.manifest_request import PLATFORMS
from ..filesystem.user_dirs import expand_user

DEFAULT_METADATA_URL = "http://aind-metadata-service/api/v2/project_names"
"""Where clabe 0.14.1 fetches the valid project names (a JSON list of strings)."""

IGNORED_KEYS: dict[str, str] = {
    "force_cloud_sync": "the v2 upload API has no equivalent; it is dropped",
    "capsule_id": "the v1 Code Ocean trigger is gone; it is dropped (use upload_tasks instead)",
    "mount": "the v1 Code Ocean trigger is gone; it is dropped (use upload_tasks instead)",
    "script": "its runner was removed in 0.1.2 (it ran arbitrary code); it is never run, dropped",
    "s3_bucket": "labledger writes it into transfer_service_args upload_jobs[].s3_bucket instead",
    "job_config": "under that name; labledger sends it as job_type, its new name: rename it",
}
"""Settings key -> what labledger does instead: one warning each."""

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class WatchdogSettings(BaseModel):
    """How to hand sessions to aind-watchdog-service and where the service is.

    `executable` and `config` win over the WATCHDOG_EXE and WATCHDOG_CONFIG variables that clabe
    uses, which are read only when the setting is absent (see `adapters.watchdog.service_config`).
    """

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    # -- the service ---------------------------------------------------------------------------
    executable: Path | None = None  # default: $WATCHDOG_EXE
    config: Path | None = None  # the service's WatchConfig YAML; default: $WATCHDOG_CONFIG
    staging_dir: Path | None = None  # default: .labledger-staging beside flag_dir (same disk)
    metadata_service_url: str = DEFAULT_METADATA_URL
    metadata_timeout: float = Field(default=5.0, gt=0, description="seconds")
    stall_after_minutes: float = Field(default=120.0, gt=0)  # in flag_dir longer = stalled
    restart_check_seconds: float = Field(default=3.0, ge=0)  # a started service must live this long
    start_service: bool = True  # `transfer` starts a stopped service first, as clabe's does

    # -- clabe 0.14.1 WatchdogSettings ---------------------------------------------------------
    destination: str | None = None  # staging share root; each subject gets its own folder
    schedule_time: time | None = None  # None: the service starts the copy at once
    project_name: str | None = None
    platform: str | None = None  # an ADTS platform abbreviation, e.g. "behavior"
    transfer_endpoint: str | None = None  # must be set; an explicit null copies without upload
    delete_modalities_source_after_success: bool = False
    extra_identifying_info: dict[str, Any] | None = None
    upload_tasks: dict[str, dict[str, Any]] | None = None  # "{{ destination }}" is resolved
    job_type: str = "default"
    data_description_tags: list[str] | None = None
    extra_modality_data: dict[str, list[str]] | None = None  # absolute paths only
    # a session's collection (name or glob) -> AIND modality, None: left out; over the IBL table
    collection_modalities: dict[str, str | None] | None = None
    subject_ids: dict[str, str] | None = None  # nickname -> AIND subject id (no "_" allowed)
    subject_id_replace: dict[str, str] | None = None  # text -> replacement, for other subjects
    user_email: str | None = None  # required: ADTS >= 2.2 refuses jobs without one
    checksum_mode_override: Literal["no_check", "file_size", "crc32"] | None = None
    s3_bucket: Literal["private", "open", "default"] | None = None

    # -- accepted, ignored by aind-watchdog-service 0.1.9, warned (IGNORED_KEYS) --------------
    force_cloud_sync: bool | None = None
    capsule_id: str | None = None
    mount: str | None = None
    script: Any = None
    job_config: str | None = None

    @field_validator("schedule_time", mode="before")
    @classmethod
    def _quoted_time(cls, value: object) -> object:
        """An unquoted 20:00:00 arrives as the base-60 number 72000; refuse, show the fix."""
        if isinstance(value, bool) or not isinstance(value, int | float | datetime):
            return value
        if isinstance(value, datetime):
            raise ValueError(
                f"give a time of day only, quoted, e.g. '{value:%H:%M:%S}' (the date is ignored)"
            )
        digits, number = [], int(value)
        while True:
            number, digit = divmod(number, 60)
            digits.append(digit)
            if not number:
                break
        written = ":".join(f"{d:02d}" for d in reversed(digits))
        raise ValueError(
            f"YAML read an unquoted time as the number {value}; write it quoted: '{written}'"
        )

    @field_validator("platform", mode="before")
    @classmethod
    def _platform_string(cls, value: object) -> object:
        """0.1.2 took a platform object; 0.1.9 rejects one: the abbreviation string is needed."""
        if isinstance(value, dict):
            example = value.get("abbreviation", "behavior")
            raise ValueError(f"write the platform abbreviation as a string, e.g. '{example}'")
        return value

    @field_validator("platform")
    @classmethod
    def _known_platform(cls, value: str | None) -> str | None:
        if value is not None and value not in PLATFORMS:
            raise ValueError(f"not a platform abbreviation; use one of {', '.join(PLATFORMS)}")
        return value

    @field_validator("transfer_endpoint", mode="before")
    @classmethod
    def _null_endpoint(cls, value: object) -> object:
        """An environment variable cannot be null: LABLEDGER_WATCHDOG__TRANSFER_ENDPOINT=null."""
        return None if isinstance(value, str) and value.strip().lower() == "null" else value

    @field_validator("transfer_endpoint", "metadata_service_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("user_email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not _EMAIL.match(value):
            raise ValueError("must be an e-mail address like jdoe@example.org")
        return value

    @field_validator(
        "extra_identifying_info",
        "upload_tasks",
        "extra_modality_data",
        "collection_modalities",
        "subject_ids",
        "subject_id_replace",
        "script",
        mode="before",
    )
    @classmethod
    def _json_text(cls, value: object) -> object:
        """A mapping given as text (a variable pydantic-settings could not decode, any `script`
        variable, a quoted value in the file): read it as JSON, or say what is wanted."""
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise ValueError('give a JSON object, e.g. {"rig": "rig-01"}') from None

    @field_validator("data_description_tags", mode="before")
    @classmethod
    def _split_tags(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("executable", "config", "staging_dir")
    @classmethod
    def _expand_user(cls, value: Path | None) -> Path | None:
        return None if value is None else expand_user(value)

    @model_validator(mode="after")
    def _job_config_alias(self) -> Self:
        """`job_config` is an old name of `job_type`: honoured unless they disagree."""
        if self.job_config is None:
            return self
        if "job_type" in self.model_fields_set and self.job_type != self.job_config:
            raise ValueError(
                f"job_config ({self.job_config}) and job_type ({self.job_type}) disagree; "
                "keep job_type only"
            )
        self.job_type = self.job_config
        return self

    def ignored_key_warnings(self) -> list[str]:
        """One warning per key aind-watchdog-service 0.1.9 would ignore, naming it."""
        return [
            f"watchdog.{key} is ignored by aind-watchdog-service 0.1.9: {instead}"
            for key, instead in IGNORED_KEYS.items()
            if key in self.model_fields_set
        ]

    def transfer_options(self) -> TransferOptions:
        """The settings a manifest is made of; a missing one is a one-line error naming it."""
        missing = [
            key
            for key, value in (
                ("destination", self.destination),
                ("project_name", self.project_name),
                ("user_email", self.user_email),
            )
            if not value
        ]
        if "transfer_endpoint" not in self.model_fields_set:
            missing.append("transfer_endpoint")
        if missing:
            first = missing[0]
            raise InvalidSettings(
                f"watchdog.{first} is not set{_and_more(missing)}; add it to the watchdog: "
                f"section of the settings file or set LABLEDGER_WATCHDOG__{first.upper()}"
                + (" (null copies without uploading)" if first == "transfer_endpoint" else "")
            )
        assert self.destination and self.project_name and self.user_email  # checked above
        return TransferOptions(
            destination=self.destination,
            project_name=self.project_name,
            user_email=self.user_email,
            transfer_endpoint=self.transfer_endpoint,
            platform=self.platform,
            schedule_time=self.schedule_time,
            job_type=self.job_type,
            s3_bucket=self.s3_bucket or "default",
            delete_modalities_source_after_success=self.delete_modalities_source_after_success,
            extra_identifying_info=self.extra_identifying_info,
            upload_tasks=self.upload_tasks,
            data_description_tags=tuple(self.data_description_tags or ()),
            extra_modality_data=self.extra_modality_data or {},
            checksum_mode_override=self.checksum_mode_override,
            collection_modalities=self.collection_modalities or {},
            subject_ids=self.subject_ids or {},
            subject_id_replace=self.subject_id_replace or {},
        )


def _and_more(missing: list[str]) -> str:
    return f" (nor {', '.join(missing[1:])})" if len(missing) > 1 else ""
