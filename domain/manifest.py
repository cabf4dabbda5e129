"""The watchdog manifest of one session, built from what the ledger knows and rendered to bytes.

aind-watchdog-service 0.1.9 copies what a manifest names, POSTs its upload request, and never
de-duplicates. So the same session and settings must always give the same bytes (modalities and
schemas sorted, keys in a fixed order: clabe's sets made them vary), and the ledger tells one
emission from another by the sha256 of those bytes. Pure: the modality table, the settings and the
acquisition time are passed in; nothing here reads a file or the clock.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from .manifest_errors import InvalidManifest as InvalidManifest
from .manifest_errors import NothingToTransfer as NothingToTransfer
from .manifest_request import PLATFORMS, upload_request
from .manifest_sources import manifest_sources, posix, rooted
from .manifest_sources import schema_files as schema_files
from .manifest_yaml import Quoted, dump_manifest
from .subject_ids import aind_subject_id
from .transfer_options import TransferOptions as TransferOptions  # adapters import it here

NAME_TIME_FORMAT = "%Y-%m-%d_%H-%M-%S"
_DATA_NAME = re.compile(r"^(?P<label>[\w.-]+?)_(?P<when>\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2})$")


def data_name(subject: str, acquired: datetime, platform: str | None = None) -> str:
    """The AIND data name `[platform_]subject_YYYY-MM-DD_HH-MM-SS` (the name of the S3 asset too).

    The transfer service names the cloud asset the same way, so the staging folder and the asset
    agree. The name carries the acquisition time to the second: sync rebuilds the manifest of a
    pending intent from the intent's name alone (see `acquired_from_name`).
    """
    label = f"{platform}_{subject}" if platform else subject
    return f"{label}_{acquired.strftime(NAME_TIME_FORMAT)}"


def acquired_from_name(name: str) -> datetime:
    """The acquisition time (naive wall clock) written in an AIND data name."""
    match = _DATA_NAME.match(name)
    if match is None:
        raise InvalidManifest(
            f'manifest name "{name}" is not an AIND data name <label>_YYYY-MM-DD_HH-MM-SS; '
            "emit it again with `labledger transfer --force`"
        )
    return datetime.strptime(match["when"], NAME_TIME_FORMAT)


@dataclass(frozen=True)
class SessionContent:
    """What the ledger knows of a session that a manifest needs."""

    key: str
    """`lab/subject/date/number`, for messages."""
    subject: str
    folder: str
    """The session folder as the scan recorded it (absolute, POSIX separators)."""
    files: tuple[str, ...]
    """Every file the ledger knows in it (discovered or rejected), relative POSIX paths."""


@dataclass(frozen=True)
class Manifest:
    """A manifest ready to write: its name, its content and what the operator should know."""

    name: str
    document: dict[str, Any]
    warnings: tuple[str, ...] = ()

    @property
    def file_name(self) -> str:
        """`manifest_<name>.yml`: the service's created-event filter needs `manifest` + .yml."""
        return f"manifest_{self.name}.yml"

    def render(self) -> bytes:
        """The file's bytes (see `domain.manifest_yaml`)."""
        return dump_manifest(self.document)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.render()).hexdigest()


def posix_destination(root: str, subject: str) -> str:
    """`<root>/<subject>` as a POSIX string, whatever separators the settings used.

    A UNC root `\\\\server\\share` becomes `//server/share`, which Windows and the service read
    as the same share; writing it POSIX keeps backslashes out of every string of the manifest.
    """
    path = PureWindowsPath(root).as_posix() if "\\" in root else root
    return str(PurePosixPath(path) / subject)


def build_manifest(
    session: SessionContent,
    acquired: datetime,
    options: TransferOptions,
    modalities: Mapping[str, str],
    name: str | None = None,
    service_platform: str = "win32",
) -> Manifest:
    """The manifest of `session`, acquired at `acquired` (naive local wall clock).

    `modalities` maps each AIND modality abbreviation to its name (from aind-data-schema-models).
    `name` is given when rebuilding the manifest of a recorded intent; otherwise the AIND data
    name of the subject's AIND id (`domain.subject_ids`). `service_platform` is `sys.platform`
    of the host running the service: it decides which paths are absolute, how the service's
    copies land (`domain.collection_modalities.landing_clash`) and some warnings.
    """
    if options.platform is not None and options.platform not in PLATFORMS:
        raise InvalidManifest(
            f'watchdog.platform "{options.platform}" is not a platform abbreviation of the '
            f"transfer service; use one of {', '.join(sorted(PLATFORMS))}"
        )
    subject = aind_subject_id(session.subject, options.subject_ids, options.subject_id_replace)
    name = name or options.name or data_name(subject, acquired, options.platform)
    if not re.fullmatch(r"[\w.-]+", name):
        raise InvalidManifest(
            f'manifest name "{name}" is not usable as a folder and file name; '
            "use letters, digits, '.', '_' and '-' only"
        )
    sources = manifest_sources(
        session.key,
        session.folder,
        session.files,
        options.collection_modalities,
        options.extra_modality_data,
        modalities,
        service_platform,
    )
    if not rooted(options.destination):
        raise InvalidManifest(
            f'destination "{options.destination}" is relative, and the service would copy the '
            "session into its own working folder; give the staging share's absolute path "
            "(watchdog.destination, or --destination)"
        )
    destination = (
        posix(options.destination)
        if options.destination_as_given
        else posix_destination(options.destination, subject)
    )
    document = _document(
        name,
        subject,
        acquired,
        options,
        destination,
        sources.modalities,
        sources.schemas,
        modalities,
    )
    warnings = [*sources.warnings, *_option_warnings(options, service_platform)]
    return Manifest(name=name, document=document, warnings=tuple(warnings))


def _document(
    name: str,
    subject: str,
    acquired: datetime,
    options: TransferOptions,
    destination: str,
    modality_paths: dict[str, list[str]],
    schemas: list[str],
    modalities: Mapping[str, str],
) -> dict[str, Any]:
    """The manifest's keys in the order of the service's documented example."""
    document: dict[str, Any] = {
        "name": name,
        "subject_id": Quoted(subject),
        "acquisition_datetime": Quoted(acquired.isoformat(timespec="seconds")),
    }
    if options.schedule_time is not None:
        document["schedule_time"] = Quoted(options.schedule_time.isoformat(timespec="seconds"))
    document["transfer_endpoint"] = options.transfer_endpoint  # null kept: absent means upload
    if options.platform is not None:
        document["platform"] = options.platform
    document.update(
        {
            "project_name": options.project_name,
            "upload_notification_email": options.user_email,
            "destination": destination,
            "modalities": modality_paths,
            "schemas": schemas,
            "transfer_service_args": upload_request(
                name,
                subject,
                acquired,
                options,
                destination,
                list(modality_paths),
                modalities,
            ),
            "transfer_service_job_type": options.job_type,
            "delete_modalities_source_after_success": (
                options.delete_modalities_source_after_success
            ),
        }
    )
    if options.extra_identifying_info is not None:
        document["extra_identifying_info"] = dict(options.extra_identifying_info)
    if options.checksum_mode_override is not None:
        document["checksum_mode_override"] = options.checksum_mode_override
    return document


def _option_warnings(options: TransferOptions, service_platform: str) -> list[str]:
    """What the operator should know before the service acts on these settings."""
    warnings = []
    endpoint = options.transfer_endpoint
    if endpoint is None:
        warnings.append(
            "watchdog.transfer_endpoint is null: the service copies the data but uploads nothing"
        )
    elif "-dev" in endpoint.split("://", 1)[-1].split("/", 1)[0]:
        warnings.append(f"watchdog.transfer_endpoint {endpoint} is a development service")
    if options.delete_modalities_source_after_success:
        risks = []
        if endpoint is None:
            risks.append("nothing is uploaded (transfer_endpoint is null)")
        if options.checksum_mode_override == "no_check":
            risks.append("copies are not checked (checksum_mode_override: no_check)")
        if service_platform.startswith("linux"):
            risks.append("the service on Linux copies with rsync and checks nothing")
        if risks:
            warnings.append(
                "watchdog.delete_modalities_source_after_success deletes the session's modality "
                f"folders after the copy although {'; '.join(risks)}"
            )
    return warnings
