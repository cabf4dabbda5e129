"""One short line per event for the audit trail and the timelines: what happened, in words.

A table, event name -> phrase built from the event's own fields; an event without an entry is
described by its fields, so a new event class is never hidden from the audit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..domain.pending import intent_details
from .words import plural, size_text

MAX_VALUE = 80
"""Characters of one field value in a generic summary (the JSON keeps everything)."""


def _count(items: list[Any], noun: str) -> str:
    return plural(len(items), noun)


def _fields(event: Any) -> str:
    fields = event.fields
    return ", ".join(f"{k}={_short(v)}" for k, v in fields.items() if k != "options")


PHRASES: dict[str, Callable[[Any], str]] = {
    "Session.Created": lambda e: f"session folder {e.folder}",
    "Session.DatasetsDiscovered": lambda e: (
        "scan: "
        + ", ".join(
            part
            for part, count in (
                (f"{_count(e.discovered, 'file')} new or changed", len(e.discovered)),
                (f"{_count(e.rejected, 'file')} rejected", len(e.rejected)),
                (f"{plural(e.unchanged, 'file')} unchanged", e.unchanged),
            )
            if count
        )
    ),
    "Session.RegistrationRequested": lambda e: (
        "register session on Alyx" + (f" ({_fields(e)})" if e.fields else "")
    ),
    "Session.Registered": lambda e: f"on Alyx as eid {e.eid}",
    "Session.RegistrationFailed": lambda e: _failure("session registration", e),
    "Session.NumberAllocated": lambda e: (
        "number allocated " + ("after asking Alyx" if e.alyx_checked else "offline")
    ),
    "Session.CreateSent": lambda e: "POST /sessions sent",
    "Subject.PostSent": lambda e: "POST of the record sent",
    "Session.ManifestRequested": lambda e: (
        f"manifest {e.name} for {e.flag_dir}" + (" (forced)" if e.forced else "")
    ),
    "Session.ManifestEmitted": lambda e: f"manifest written to {e.path}",
    "Session.ManifestFailed": lambda e: _failure("manifest", e),
    "Session.TransferConfirmed": lambda e: f"watchdog completed {e.path}",
    "Session.TransferStalled": lambda e: f"transfer stalled: {e.reason}",
    "Dataset.Created": lambda e: f"file {e.rel_path}",
    "Dataset.Discovered": lambda e: (
        f"{e.dataset_type} ({e.data_format}), {size_text(e.size)}, md5 {e.md5[:8]}"
    ),
    "Dataset.Rejected": lambda e: f"rejected: {e.reason}",
    "Dataset.RegistrationRequested": lambda e: "register file on Alyx",
    "Dataset.Registered": lambda e: (
        f"on Alyx as {e.alyx_id}" + (f", revision {e.revision}" if e.revision else "")
    ),
    "Dataset.RegistrationFailed": lambda e: _failure("file registration", e),
    "Dataset.RevisionProtected": lambda e: (
        "protected revision on Alyx: "
        + ", ".join(
            f"{name or 'no revision'}" for info in e.info for name, on in info.items() if on
        )
    ),
    "Dataset.MoveRequested": lambda e: f"move to {e.destination} ({e.why})",
    "Dataset.Moved": lambda e: f"moved {e.source} -> {e.destination}",
    "Dataset.MoveFailed": lambda e: _failure("move", e),
    "Dataset.RegistrationRelocated": lambda e: f"registration continues at {e.destination}",
    "Dataset.MovedIn": lambda e: f"arrived from {e.source}",
    "Subject.Created": lambda e: f"subject {e.nickname}",
    "Subject.WeighingRequested": lambda e: f"weighing {e.weight} g at {e.date_time} (local)",
    "Subject.WeighingRecorded": lambda e: f"weighing on Alyx: {e.url}",
    "Subject.WeighingFailed": lambda e: _failure("weighing", e),
    "Subject.WaterAdministrationRequested": lambda e: (
        f"water {e.volume} mL {e.water_type}{' adlib' if e.adlib else ''} at {e.date_time} (local)"
    ),
    "Subject.WaterAdministrationRecorded": lambda e: f"water on Alyx: {e.url}",
    "Subject.WaterAdministrationFailed": lambda e: _failure("water administration", e),
    "WatchdogService.Created": lambda e: f"watchdog service on {e.machine}",
    "WatchdogService.RestartRequested": lambda e: f"restart {e.executable}",
    "WatchdogService.Restarted": lambda e: (
        f"running as pid {e.pid} ({plural(e.stopped, 'process', 'processes')} stopped)"
    ),
    "WatchdogService.RestartFailed": lambda e: _failure("restart", e),
    "Session.RegistrationReplaced": lambda e: "replaced by a newer request with other fields",
    "Dataset.RegistrationReplaced": lambda e: "replaced by a newer request with other fields",
    **{
        f"{aggregate}.Retried": lambda e: f"asked again (it was refused: {e.reason})"
        for aggregate in ("Session", "Dataset", "Subject", "WatchdogService")
    },
}


def _failure(what: str, event: Any) -> str:
    again = "kept pending" if event.retryable else "refused"
    return f"{what} failed ({again}): {event.reason}"


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def summarize(event: Any) -> str:
    """The event in a few words."""
    phrase = PHRASES.get(type(event).__qualname__)
    if phrase is not None:
        try:
            return phrase(event)
        except (AttributeError, TypeError, KeyError):
            pass  # an older or newer shape of the event: fall back to its fields
    details = intent_details(event)
    return ", ".join(f"{key}={_short(value)}" for key, value in details.items()) or "-"
