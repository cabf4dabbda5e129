"""Emitting the manifests of recorded transfer intents, and confirming their transfers.

The executor writes the manifest the intent recorded (`planned`), so a rerun writes the very same
bytes and `emit_manifest` sees that the emission already happened; an intent recorded before
manifests were kept is rebuilt from the ledger, the settings and its name, as then.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

from ...domain.errors import LabledgerError
from ...domain.manifest import acquired_from_name
from ...domain.outcomes import Outcome, SyncResult
from ...domain.pending import PendingIntent
from ...domain.recorded import AlreadyClosed
from ..database.views import Views
from .followup import clock_now, observe
from .manifest_writer import emit_manifest
from .planned import planned_manifest
from .service_config import (
    InvalidWatchConfig,
    WatchConfig,
    WatchdogNotConfigured,
    read_watch_config,
    service_paths,
)
from .settings import WatchdogSettings
from .transfer import INTENT, build, check_sources


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
        self._emitted = False

    def claims(self, intent: PendingIntent) -> bool:
        return intent.intent == INTENT

    def perform(self, intents: Sequence[PendingIntent]) -> list[SyncResult]:
        if self.warn is not None:
            for message in self.settings.ignored_key_warnings():
                self.warn(message)
        self._emitted = self._emitted or bool(intents)
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
            planned = planned_manifest(details, session.key, session.folder)
            if planned is None:  # recorded before manifests were kept with their intent
                name = details["name"]
                manifest = build(session, self.settings, acquired_from_name(name), name=name)
                if self.warn is not None:
                    for message in manifest.warnings:
                        self.warn(message)
                planned = manifest, manifest.render()
            manifest, text = planned
            check_sources(manifest, session.key)
            emission = emit_manifest(
                text,
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
        try:
            self.ledger.record_manifest_emitted(
                session.id, intent.operation_id, str(emission.path), emission.sha256
            )
        except AlreadyClosed as elsewhere:  # a racing run emitted the same manifest first
            return SyncResult(session.key, "emit manifest", "done", str(elsewhere))
        note = "" if emission.written else " (already there: not written again)"
        return SyncResult(session.key, "emit manifest", "done", f"{emission.path}{note}")

    def follow_up(self, session_ids: frozenset[UUID] | None) -> list[SyncResult]:
        """Record confirmed and stalled transfers of emitted manifests.

        The views are read again only when this run emitted manifests or has not read them yet:
        after sync's own catch-up, what its other executors record (Alyx outcomes, restarts)
        changes no hand-over, and a command that registered a thousand files does not fold
        them a second time just to learn that no manifest waits."""
        fresh = self._emitted or not self.views.caught_up
        awaiting = self.views.handovers(session_ids, catch_up=fresh)
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
                outcome, detail = "stalled", seen.reason
            else:
                outcome = "queued"
                due = seen.due.astimezone(UTC)  # UTC with Z, as every time labledger shows
                detail = f"waiting for the watchdog (stalled after {due:%Y-%m-%d %H:%M:%S}Z)"
            results.append(SyncResult(handover.session_key, "confirm transfer", outcome, detail))
        return results
