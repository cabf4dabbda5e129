"""Looking at what the watchdog service did with an emitted manifest: confirmed or stalled.

Success shows only as the manifest moved, unchanged, into `manifest_complete`; a failure shows as
nothing at all (the manifest stays in `flag_dir`). So this module observes the two folders and,
for a manifest still waiting past its deadline, gathers what is known of why: whether the copy
started (`<destination>/<name>/` exists) and the service's last structured-log record for it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml

from ...domain.transfer_state import Handover, Verdict, deadline, judge
from .manifest_writer import sha256_of
from .service_config import WatchConfig

LOG_TAIL_BYTES = 4 << 20
"""The service's JSON-lines log is never rotated: only its end is read."""


@dataclass(frozen=True)
class Observation:
    verdict: Verdict
    reason: str
    """The verdict's reason and what is known of the cause (empty unless stalled)."""
    complete_path: Path
    due: datetime


def observe(
    handover: Handover, watch: WatchConfig, stall_after: timedelta, now: datetime
) -> Observation:
    """Judge one emitted manifest from the folders, at `now` (aware)."""
    flag_copy = Path(handover.path)
    complete = watch.complete_path / flag_copy.name
    in_flag = flag_copy.is_file()
    completed = complete.is_file() and sha256_of(complete) == handover.sha256
    document = _read_manifest(flag_copy if in_flag else complete)
    local = now.astimezone().tzinfo
    assert local is not None  # astimezone() always sets one
    due = deadline(handover.emitted_at, _schedule_time(document), stall_after, local)
    verdict = judge(in_flag, completed, now >= due)
    reason = verdict.reason
    if verdict.state == "stalled" and in_flag:
        reason = f"{reason}; {_what_is_known(document, handover.name, watch)}"
    return Observation(verdict, reason, complete, due)


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def _schedule_time(document: dict[str, Any]) -> time | None:
    value = document.get("schedule_time")
    if isinstance(value, str):
        try:
            return time.fromisoformat(value)
        except ValueError:
            return None
    return None


def _what_is_known(document: dict[str, Any], name: str, watch: WatchConfig) -> str:
    facts = []
    destination = document.get("destination")
    if isinstance(destination, str):
        copied = Path(destination) / name
        if copied.is_dir():
            facts.append(f"the copy started ({copied} exists)")
        else:
            facts.append(
                f"nothing was copied ({copied} is absent): the service may be stopped, watching "
                "another folder (0.1.9 takes its folders from its central configuration, not "
                "from -c), or its watcher may have died; see `labledger watchdog status`, "
                "then `labledger watchdog restart`"
            )
    if watch.structured_log_file:
        record = last_log_record(Path(watch.structured_log_file), name)
        if record is not None:
            facts.append(f"last service log record: {describe_record(record)}")
    return "; ".join(facts) or "nothing more is known"


def last_log_record(log_file: Path, name: str) -> dict[str, Any] | None:
    """The service's last JSON log record for manifest `name`.

    The logger's own `name` field overwrites the manifest's, so records are matched on
    `acquisition_name`.
    """
    try:
        with log_file.open("rb") as file:
            size = file.seek(0, 2)
            file.seek(max(0, size - LOG_TAIL_BYTES))
            lines = file.read().splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("acquisition_name") == name:
            return record
    return None


def describe_record(record: dict[str, Any]) -> str:
    """One line of a structured-log record: when, which stage event, what it said."""
    parts = [
        str(record[key])
        for key in ("asctime", "timestamp", "event_type", "Action", "Error", "message")
        if record.get(key) not in (None, "")
    ]
    return " ".join(parts) or json.dumps(record, sort_keys=True)[:200]


def clock_now() -> datetime:
    """The clock (aware, local), read here in the adapters and passed into the judgements."""
    return datetime.now().astimezone()
