"""Handing sessions to the watchdog: plan a manifest from the ledger, every check made before
anything is recorded.

`labledger transfer` plans the manifest here, records the intent, and hands it to
`emission.TransferExecutor`, the same code `labledger sync` runs for an intent a crash left
pending.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

from ...domain.errors import LabledgerError
from ...domain.ledger import Ledger
from ...domain.manifest import (
    InvalidManifest,
    Manifest,
    SessionContent,
    build_manifest,
)
from ...domain.session import Session
from ...domain.subject_ids import aind_subject_id
from ...projections.words import plural
from ..database.views import Views
from .folders import check_folders
from .modalities import modality_names
from .service_config import (
    WatchConfig,
    WatchdogNotConfigured,
    read_watch_config,
    service_paths,
)
from .settings import WatchdogSettings

INTENT = "Session.ManifestRequested"


class ManifestNameTaken(LabledgerError):
    """Another session already uses this manifest name: the service would mix their data."""


class MissingSources(LabledgerError):
    """A path the manifest names is gone: the service would refuse the whole job."""


def session_content(session: Session) -> SessionContent:
    return SessionContent(
        key=session.key,
        subject=session.subject,
        folder=session.folder,
        files=tuple(sorted(session.files)),
    )


def build(
    session: Session, settings: WatchdogSettings, acquired: datetime, name: str | None = None
) -> Manifest:
    """The manifest of a session from the ledger's knowledge and the settings."""
    return build_manifest(
        session_content(session),
        acquired,
        settings.transfer_options(),
        modality_names(),
        name=name,
        service_platform=sys.platform,
    )


@dataclass(frozen=True)
class TransferPlan:
    """A manifest ready to be asked for, and where it will go."""

    manifest: Manifest
    watch: WatchConfig | None
    """None in a dry run without a configured service."""
    warnings: tuple[str, ...]


def plan_transfer(
    views: Views,
    session: Session,
    settings: WatchdogSettings,
    acquired_text: str | None,
    environ: Mapping[str, str] | None = None,
    dry_run: bool = False,
) -> TransferPlan:
    """Everything `transfer` checks before recording its intent; raises one-line errors."""
    ledger = views.ledger
    acquired, warnings = acquisition_time(ledger, session, acquired_text)
    manifest = build(session, settings, acquired)
    owner = views.manifest_owner(manifest.name)
    if owner is not None and owner != session.id:
        other = ledger.session(owner).key
        raise ManifestNameTaken(
            f"manifest name {manifest.name} is already used by session {other}; give this "
            "session's acquisition time with --acquired HH:MM:SS"
        )
    check_subject_id(views, session, settings, str(manifest.document["subject_id"]))
    check_sources(manifest, session.key)
    watch: WatchConfig | None = None
    try:
        watch = read_watch_config(service_paths(settings, environ).require_config())
    except WatchdogNotConfigured:
        if not dry_run:
            raise
    if watch is not None and not dry_run:
        check_folders(watch, settings)
    return TransferPlan(manifest, watch, (*warnings, *manifest.warnings))


def check_subject_id(
    views: Views, session: Session, settings: WatchdogSettings, subject_id: str
) -> None:
    """Refuse an AIND subject id that another subject of the ledger would get too: AIND would
    take two animals for one."""
    options = settings.transfer_options()
    if not options.subject_ids and not options.subject_id_replace:
        return  # every subject keeps its nickname, and nicknames differ
    for other in sorted({row.subject for row in views.sessions()} - {session.subject}):
        try:
            other_id = aind_subject_id(other, options.subject_ids, options.subject_id_replace)
        except InvalidManifest:
            continue  # refused when one of its sessions is transferred
        if other_id == subject_id:
            raise InvalidManifest(
                f"subjects {session.subject} and {other} would both be AIND subject "
                f"{subject_id}; give one of them its own id in watchdog.subject_ids"
            )


def acquisition_time(
    ledger: Ledger, session: Session, given: str | None
) -> tuple[datetime, list[str]]:
    """When the session was acquired (naive local wall clock, to the second), and a warning
    when it is only the session's date.

    In order: `--acquired` (a time on the session's date, or a full ISO date-time), the
    `start_time` of the latest Alyx registration the ledger recorded, else midnight.
    """
    day = session.ref.date
    if given is not None:
        return _on_day(_parse_acquired(given, day), day, f"--acquired {given}"), []
    start = _alyx_start_time(ledger, session, day)
    if start is not None:
        return start, []
    midnight = datetime.combine(day, time())
    return midnight, [
        f"{session.key}: acquisition time unknown (no --acquired, no Alyx start_time in the "
        "ledger); the manifest uses midnight. Give the real time with --acquired HH:MM:SS"
    ]


def _alyx_start_time(ledger: Ledger, session: Session, day: date) -> datetime | None:
    """The start_time of the session's latest Alyx registration request, if on its date."""
    requests = [e for e in ledger.history(session.id) if e.event == "Session.RegistrationRequested"]
    if not requests:
        return None
    start = requests[-1].details.get("fields", {}).get("start_time")
    try:
        return _on_day(_local(datetime.fromisoformat(start)), day, "start_time")
    except (TypeError, ValueError, LabledgerError):
        return None


def _parse_acquired(text: str, day: date) -> datetime:
    try:
        return _local(datetime.combine(day, time.fromisoformat(text)))
    except ValueError:
        pass
    try:
        return _local(datetime.fromisoformat(text))
    except ValueError:
        raise LabledgerError(
            f'--acquired "{text}" is neither a time (HH:MM:SS) nor an ISO date-time; '
            "give e.g. --acquired 11:16:17"
        ) from None


def _local(value: datetime) -> datetime:
    """A naive local wall-clock time, to the second (the manifest's form)."""
    if value.tzinfo is not None:
        value = value.astimezone().replace(tzinfo=None)
    return value.replace(microsecond=0)


def _on_day(value: datetime, day: date, source: str) -> datetime:
    if value.date() != day:
        raise LabledgerError(
            f"{source} gives {value.date()}, not the session's date {day}; "
            "give a time on the session's date"
        )
    return value


def check_sources(manifest: Manifest, key: str) -> None:
    """Every modality and schema path must exist, or the service refuses the job."""
    paths = [
        *(path for paths in manifest.document["modalities"].values() for path in paths),
        *manifest.document["schemas"],
    ]
    missing = [path for path in paths if not Path(path).exists()]
    if missing:
        raise MissingSources(
            f"session {key}: {plural(len(missing), 'path')} of the manifest "
            f"{'is' if len(missing) == 1 else 'are'} missing (first: "
            f"{missing[0]}); restore them (or correct watchdog.extra_modality_data if it names "
            "them), then scan the session again"
        )
