"""Judging what the service did with an emitted manifest: the table row by row, the deadline,
and the observation of real folders and a real structured log."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta, timezone
from pathlib import Path
from uuid import uuid4

import pytest

from labledger.adapters.watchdog.followup import describe_record, last_log_record, observe
from labledger.adapters.watchdog.service_config import WatchConfig
from labledger.domain.transfer_state import VERDICTS, Handover, deadline, judge

ROWS = [
    # in flag_dir, completed (same sha256), overdue -> state, words of the reason
    (False, True, False, "confirmed", ""),
    (False, True, True, "confirmed", ""),
    (True, False, False, "waiting", ""),
    (True, True, False, "waiting", ""),
    (True, False, True, "stalled", "still in flag_dir past the deadline"),
    (True, True, True, "stalled", "dropped twice"),
    (False, False, False, "stalled", "gone from flag_dir"),
    (False, False, True, "stalled", "gone from flag_dir"),
]


def test_the_table_has_every_combination_once() -> None:
    assert sorted(VERDICTS) == sorted((a, b, c) for a, b, c, _, _ in ROWS)


@pytest.mark.parametrize(("in_flag", "completed", "overdue", "state", "words"), ROWS)
def test_verdict_row(in_flag: bool, completed: bool, overdue: bool, state: str, words: str) -> None:
    verdict = judge(in_flag, completed, overdue)
    assert verdict.state == state
    assert words in verdict.reason and bool(verdict.reason) == (state == "stalled")


EMITTED = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
PACIFIC = timezone(timedelta(hours=-8))


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        (None, EMITTED + timedelta(hours=2)),
        # 20:00 Pacific is still ahead of 04:00 Pacific (12:00 UTC): that evening, + 2 h
        (time(20, 0), datetime(2026, 11, 21, 22, 0, tzinfo=PACIFIC)),
        # 03:00 Pacific has passed: the next morning
        (time(3, 0), datetime(2026, 11, 22, 5, 0, tzinfo=PACIFIC)),
        # an offset in the time wins over the local zone
        (time(13, 0, tzinfo=UTC), datetime(2026, 11, 21, 15, 0, tzinfo=UTC)),
    ],
)
def test_deadline_starts_at_the_scheduled_time(schedule: time | None, expected: datetime) -> None:
    assert deadline(EMITTED, schedule, timedelta(hours=2), PACIFIC) == expected


def _handover(path: Path, sha256: str, name: str) -> Handover:
    return Handover(uuid4(), "lab/s/2026-11-21/001", name, str(path), sha256, EMITTED, "emitted")


def test_observe_reports_copy_started_and_the_last_log_record(tmp_path: Path) -> None:
    flag, complete, staging = tmp_path / "flags", tmp_path / "complete", tmp_path / "staging"
    for folder in (flag, complete, staging / "s" / "n1"):
        folder.mkdir(parents=True)
    log = tmp_path / "watchdog.jsonl"
    records = [
        {"name": "root", "acquisition_name": "n1", "event_type": "stage_start", "Action": "copy"},
        {"name": "root", "acquisition_name": "n2", "event_type": "stage_complete"},
        {"name": "root", "acquisition_name": "n1", "event_type": "stage_failure", "Error": "500"},
        {"name": "root", "acquisition_name": "n3", "event_type": "stage_start"},
    ]
    log.write_text("\n".join(map(json.dumps, records)) + "\nnot json\n")
    manifest = flag / "manifest_n1.yml"
    manifest.write_text(f"name: n1\ndestination: {staging / 's'}\n")
    watch = WatchConfig(
        flag_dir=str(flag), manifest_complete=str(complete), structured_log_file=str(log)
    )
    seen = observe(_handover(manifest, "0" * 64, "n1"), watch, timedelta(0), EMITTED)
    assert seen.verdict.state == "stalled"
    assert "the copy started" in seen.reason
    assert "stage_failure" in seen.reason and "500" in seen.reason
    # the logger's own `name` is "root"; matching is on acquisition_name
    assert last_log_record(log, "root") is None
    assert last_log_record(log, "n2") == records[1]
    assert describe_record(records[1]) == "stage_complete"


def test_observe_not_picked_up_names_the_likely_causes(tmp_path: Path) -> None:
    flag, complete = tmp_path / "flags", tmp_path / "complete"
    flag.mkdir()
    complete.mkdir()
    manifest = flag / "manifest_n1.yml"
    manifest.write_text(
        f"name: n1\ndestination: {tmp_path / 'nowhere'}\nschedule_time: '20:00:00'\n"
    )
    watch = WatchConfig(
        flag_dir=str(flag), manifest_complete=str(complete), structured_log_file=None
    )
    handover = _handover(manifest, "0" * 64, "n1")
    waiting = observe(handover, watch, timedelta(hours=1), EMITTED + timedelta(minutes=1))
    assert waiting.verdict.state == "waiting"  # scheduled for 20:00: not late yet
    late = observe(handover, watch, timedelta(hours=1), EMITTED + timedelta(days=2))
    assert late.verdict.state == "stalled"
    assert "nothing was copied" in late.reason and "not from -c" in late.reason
    assert "labledger watchdog restart" in late.reason


def test_observe_confirms_only_the_emitted_bytes(tmp_path: Path) -> None:
    flag, complete = tmp_path / "flags", tmp_path / "complete"
    flag.mkdir()
    complete.mkdir()
    watch = WatchConfig(
        flag_dir=str(flag), manifest_complete=str(complete), structured_log_file=None
    )
    (complete / "manifest_n1.yml").write_text("name: other\n")
    handover = _handover(flag / "manifest_n1.yml", "0" * 64, "n1")
    seen = observe(handover, watch, timedelta(hours=1), EMITTED)
    assert seen.verdict.state == "stalled" and "gone from flag_dir" in seen.reason
