"""Handing sessions to the watchdog: plan a manifest from the ledger, emit it, confirm it.

`labledger transfer` plans the manifest (every check before anything is recorded), records the
intent, and hands it to `TransferExecutor`, the same code `labledger sync` runs for an intent a
crash left pending. The executor rebuilds the manifest from the ledger, the settings and the
intent's name (which carries the acquisition time), so a rerun writes the very same bytes and
`emit_manifest` sees that the emission already happened.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from uuid import UUID

from ...domain.errors import LabledgerError
from ...domain.ledger import Ledger
from ...domain.manifest import (
    Manifest,
    SessionContent,
    acquired_from_name,
    build_manifest,
)
from ...domain.outcomes import Outcome, SyncResult
from ...domain.pending import PendingIntent
from ...domain.session import Session
from ..database.views import Views
from .followup import clock_now, observe
from .manifest_writer import ManifestNotWritten, emit_manifest
from .modalities import modality_names
from .service_config import (
    InvalidWatchConfig,
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
    check_sources(manifest, session.key)
    watch: WatchConfig | None = None
    try:
        watch = read_watch_config(service_paths(settings, environ).require_config())
    except WatchdogNotConfigured:
        if not dry_run:
            raise
    if watch is not None and not dry_run and not watch.flag_path.is_dir():
        raise ManifestNotWritten(
            f"flag_dir {watch.flag_dir} does not exist; the service creates it when it starts "
            "(`labledger watchdog restart`), or correct flag_dir in the service's config"
        )
    return TransferPlan(manifest, watch, (*warnings, *manifest.warnings))


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
    """A naive local wall-clock time, to the second (the manifest's form, §14)."""
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
    """Every modality and schema path must exist, or the service refuses the job (§8.2)."""
    paths = [
        *(path for paths in manifest.document["modalities"].values() for path in paths),
        *manifest.document["schemas"],
    ]
    missing = [path for path in paths if not Path(path).exists()]
    if missing:
        raise MissingSources(
            f"session {key}: {len(missing)} path(s) of the manifest are missing (first: "
            f"{missing[0]}); restore them, or scan the session again"
        )


class TransferExecutor:
    """Emits the manifests of pending `Session.ManifestRequested` intents; confirms transfers."""

    def __init__(
        self,
        views: Views,
        settings: WatchdogSettings,
        environ: Mapping[str, str] | None = None,
        now: Callable[[], datetime] = clock_now,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        """`warn` receives what the operator should know about the manifests sync emits (the
        `transfer` command prints those itself, before recording anything). The hand-overs to
        confirm come from the tracked views, so a sync does not read the whole log."""
        self.views = views
        self.ledger = views.ledger
        self.settings = settings
        self.environ = environ
        self.now = now
        self.warn = warn

    def claims(self, intent: PendingIntent) -> bool:
        return intent.intent == INTENT

    def perform(self, intents: Sequence[PendingIntent]) -> list[SyncResult]:
        if self.warn is not None:
            for message in self.settings.ignored_key_warnings():
                self.warn(message)
        return [self._emit(intent) for intent in intents]

    def _watch(self) -> WatchConfig:
        return read_watch_config(service_paths(self.settings, self.environ).require_config())

    def _emit(self, intent: PendingIntent) -> SyncResult:
        session = self.ledger.session(intent.aggregate_id)
        details = intent.details
        flag_dir = Path(details["flag_dir"])
        try:
            watch = self._watch()
            if not flag_dir.is_dir():
                raise WatchdogNotConfigured(f"flag_dir {flag_dir} does not exist (yet)")
        except (WatchdogNotConfigured, InvalidWatchConfig) as error:
            return SyncResult(session.key, "emit manifest", "queued", str(error))
        try:
            name = details["name"]
            manifest = build(session, self.settings, acquired_from_name(name), name=name)
            check_sources(manifest, session.key)
            if self.warn is not None:
                for message in manifest.warnings:
                    self.warn(message)
            emission = emit_manifest(
                manifest.render(),
                manifest.file_name,
                flag_dir,
                watch.complete_path,
                watch.staging_path(self.settings),
                bool(details["forced"]),
                datetime.fromisoformat(intent.recorded_at),
            )
        except LabledgerError as error:
            self.ledger.record_failure(session.id, intent.operation_id, str(error), False)
            return SyncResult(session.key, "emit manifest", "failed", str(error))
        except OSError as error:
            reason = f"cannot write the manifest: {error}"
            self.ledger.record_failure(session.id, intent.operation_id, reason, True)
            return SyncResult(session.key, "emit manifest", "queued", reason)
        self.ledger.record_manifest_emitted(
            session.id, intent.operation_id, str(emission.path), emission.sha256
        )
        note = "" if emission.written else " (already there: not written again)"
        return SyncResult(session.key, "emit manifest", "done", f"{emission.path}{note}")

    def follow_up(self, session_ids: frozenset[UUID] | None) -> list[SyncResult]:
        """Record confirmed and stalled transfers of emitted manifests (§8.4)."""
        awaiting = self.views.handovers(session_ids)
        if not awaiting:
            return []
        try:
            watch = self._watch()
        except (WatchdogNotConfigured, InvalidWatchConfig) as error:
            return [
                SyncResult(h.session_key, "confirm transfer", "queued", str(error))
                for h in awaiting
            ]
        now = self.now()
        stall_after = timedelta(minutes=self.settings.stall_after_minutes)
        results = []
        outcome: Outcome
        for handover in awaiting:
            try:
                seen = observe(handover, watch, stall_after, now)
            except OSError as error:
                results.append(
                    SyncResult(handover.session_key, "confirm transfer", "queued", str(error))
                )
                continue
            if seen.verdict.state == "confirmed":
                self.ledger.confirm_transfer(handover.session_id, str(seen.complete_path))
                outcome, detail = "done", f"confirmed: {seen.complete_path}"
            elif seen.verdict.state == "stalled":
                self.ledger.note_transfer_stalled(handover.session_id, handover.path, seen.reason)
                outcome, detail = "queued", f"stalled: {seen.reason}"
            else:
                outcome = "queued"
                detail = f"waiting for the watchdog (stalled after {seen.due:%Y-%m-%d %H:%M})"
            results.append(SyncResult(handover.session_key, "confirm transfer", outcome, detail))
        return results
