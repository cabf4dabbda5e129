"""`labledger transfer` and its confirmation by `sync`, through the command line, on real folders.

A session with `behavior/` and `behavior-videos/` sub-folders and two JSON schemas is scanned,
then handed over. Every manifest file left anywhere under the test's folder is validated at the
end by the real `ManifestConfig` (autouse fixture), so no test can emit one the service refuses.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from labledger.adapters import executors
from labledger.adapters.database.views import Views
from labledger.adapters.settings import Settings
from labledger.adapters.watchdog import manifest_writer
from labledger.adapters.watchdog.emission import TransferExecutor
from labledger.domain.exit_status import MUST_ACT, STILL_QUEUED
from labledger.domain.ledger import Ledger
from tests.cli_helpers import Cli, Result
from tests.test_cli_errors import assert_one_line_error
from tests.test_manifest import accepted_by_service
from tests.watchdog_folders import watched_service

NAME = "behavior_algernon_2026-11-21_11-16-17"
FILE = f"manifest_{NAME}.yml"


class Crash(BaseException):
    """A kill of the process: not an Exception, so nothing in labledger catches it."""


@dataclass
class Rig:
    cli: Cli
    session: Path
    flag: Path
    complete: Path
    settings: Path

    def __call__(self, *args: str) -> Result:
        return self.cli(*args)

    def configure(self, **watchdog: Any) -> None:
        data = yaml.safe_load(self.settings.read_text())
        data["watchdog"].update(watchdog)
        self.settings.write_text(yaml.safe_dump(data))

    def events(self) -> list[dict[str, Any]]:
        result = self.cli("history", str(self.session), "--json")
        assert result.code == 0, result.err
        return [row for row in result.json() if row["event"].startswith("Session.")]

    def names(self) -> list[str]:
        return [event["event"].split(".")[1] for event in self.events()]


def make_session(cli: Cli, name: str = "algernon/2026-11-21/001") -> Path:
    session = cli.session(name)
    (session / "behavior" / "sub").mkdir(parents=True)
    (session / "behavior" / "raw.bin").write_bytes(b"\x00" * 64)
    (session / "behavior" / "sub" / "trial.csv").write_text("t,x\n1,2\n")
    (session / "behavior-videos").mkdir()
    (session / "behavior-videos" / "cam0.avi").write_bytes(b"avi")
    (session / "session.json").write_text("{}")
    (session / "rig.json").write_text("{}")
    return session


@pytest.fixture
def rig(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Rig:
    service = watched_service(cli.tmp_path)
    flag, complete = service.flag_dir, service.manifest_complete
    monkeypatch.setenv("LABLEDGER_CONFIG", str(service.settings))
    session = make_session(cli)
    assert cli("scan", str(session)).code == 0
    return Rig(cli, session, flag, complete, service.settings)


@pytest.fixture(autouse=True)
def every_emitted_manifest_is_accepted(tmp_path: Path) -> Iterator[None]:
    yield
    for path in tmp_path.rglob("*manifest_*.yml"):
        accepted_by_service(path.read_bytes())


@pytest.fixture
def sync_transfers(monkeypatch: pytest.MonkeyPatch) -> None:
    """`labledger sync` with the TransferExecutor, as build_executors assembles it."""
    original = executors.build_executors

    @contextmanager
    def build(settings: Settings, views: Views, warn: Any) -> Iterator[list[Any]]:
        with original(settings, views, warn) as built:
            if not any(isinstance(e, TransferExecutor) for e in built):
                built.append(TransferExecutor(views, settings.watchdog, warn=warn))
            yield built

    monkeypatch.setattr(executors, "build_executors", build)  # sync imports it when it runs


def test_transfer_emits_the_manifest_the_ledger_describes(rig: Rig) -> None:
    result = rig("transfer", str(rig.session), "--acquired", "11:16:17", "--json")
    assert result.code == 0, result.err
    [row] = result.json()
    assert row["outcome"] == "done" and row["detail"] == str(rig.flag / FILE)
    assert os.listdir(rig.flag) == [FILE]
    content = (rig.flag / FILE).read_bytes()
    accepted = accepted_by_service(content)
    assert accepted.name == NAME and accepted.subject_id == "algernon"
    assert accepted.project_name == "Example Project" and accepted.platform == "behavior"
    assert accepted.destination == str(rig.cli.tmp_path / "staging" / "algernon")
    assert sorted(accepted.modalities) == ["behavior", "behavior-videos"]
    assert [Path(s).name for s in accepted.schemas] == ["rig.json", "session.json"]
    assert "schedule_time: '20:00:00'\n" in content.decode()
    requested, emitted = rig.events()[-2:]
    assert (requested["event"], requested["kind"]) == ("Session.ManifestRequested", "intent")
    planned = requested["details"]
    assert {k: planned[k] for k in ("name", "flag_dir", "forced")} == {
        "name": NAME,
        "flag_dir": str(rig.flag),
        "forced": False,
    }
    assert planned["manifest"].encode() == content, "the intent holds the manifest written"
    assert len(planned["sources"]) == 64
    assert (emitted["event"], emitted["kind"]) == ("Session.ManifestEmitted", "outcome")
    assert emitted["operation_id"] == requested["operation_id"]
    assert emitted["details"]["sha256"] == manifest_writer.sha256_of(rig.flag / FILE)
    assert "alf/ is not transferred" in result.err


def test_dry_run_prints_the_manifest_and_records_nothing(rig: Rig) -> None:
    before = rig.cli.event_count()
    result = rig("transfer", str(rig.session), "--acquired", "11:16:17", "--dry-run")
    assert result.code == 0, result.err
    assert result.out.startswith(f"# {rig.flag / FILE} (sha256 ")
    accepted = accepted_by_service(result.out.encode())  # the comment line is YAML too
    assert accepted.name == NAME
    assert rig.cli.event_count() == before and os.listdir(rig.flag) == []


def test_a_second_emission_is_refused_unless_forced(rig: Rig) -> None:
    assert rig("transfer", str(rig.session), "--acquired", "11:16:17").code == 0
    stamp = (rig.flag / FILE).stat()
    before = rig.cli.event_count()
    refused = rig("transfer", str(rig.session), "--acquired", "11:16:17")
    assert_one_line_error(refused, "already handed to the watchdog", "--force")
    assert rig.cli.event_count() == before
    assert (rig.flag / FILE).stat().st_mtime_ns == stamp.st_mtime_ns
    dry = rig("transfer", str(rig.session), "--acquired", "11:16:17", "--dry-run")
    assert dry.code == 0 and "already handed to the watchdog" in dry.err, dry.err
    assert "emits it again only with --force" in dry.err
    assert rig.cli.event_count() == before

    forced = rig("transfer", str(rig.session), "--acquired", "11:16:17", "--force")
    assert forced.code == 0, forced.err
    assert "copy and upload it again" in forced.err
    assert rig.names()[-2:] == ["ManifestRequested", "ManifestEmitted"]
    assert rig.events()[-2]["details"]["forced"] is True
    assert os.listdir(rig.flag) == [FILE]
    assert (rig.flag / FILE).stat().st_ino != stamp.st_ino  # written again, atomically


def test_a_session_the_ledger_does_not_know_is_refused(rig: Rig) -> None:
    other = make_session(rig.cli, "algernon/2026-11-22/001")
    before = rig.cli.event_count()
    assert_one_line_error(
        rig("transfer", str(other)), "not in the ledger", f"labledger scan {other}"
    )
    assert rig.cli.event_count() == before


def test_a_session_without_modality_folders_is_refused(rig: Rig) -> None:
    bare = rig.cli.session("algernon/2026-11-23/001")  # the sample: alf/ and raw_video_data/
    shutil.rmtree(bare / "raw_video_data")  # a raw IBL collection: transferred
    assert rig("scan", str(bare)).code == 0
    before = rig.cli.event_count()
    assert_one_line_error(
        rig("transfer", str(bare), "--acquired", "10:00:00"),
        "no sub-folder that is an AIND modality",
    )
    assert rig.cli.event_count() == before and os.listdir(rig.flag) == []


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"project_name": None}, "watchdog.project_name is not set"),
        ({"user_email": None}, "watchdog.user_email is not set"),
        ({"config": "/nowhere/config.yml"}, "/nowhere/config.yml"),
    ],
)
def test_missing_settings_are_one_line_and_record_nothing(
    rig: Rig, change: dict[str, Any], needle: str
) -> None:
    rig.configure(**change)
    before = rig.cli.event_count()
    assert_one_line_error(rig("transfer", str(rig.session), "--acquired", "11:16:17"), needle)
    assert rig.cli.event_count() == before


def test_missing_source_is_refused_before_recording(rig: Rig) -> None:
    (rig.session / "rig.json").unlink()
    before = rig.cli.event_count()
    assert_one_line_error(
        rig("transfer", str(rig.session), "--acquired", "11:16:17"), "missing", "rig.json"
    )
    assert rig.cli.event_count() == before


def test_keys_the_service_ignores_are_warned_and_not_written(rig: Rig) -> None:
    rig.configure(force_cloud_sync=True, capsule_id="c0ffee", mount="m", script={"x": ["y"]})
    result = rig("transfer", str(rig.session), "--acquired", "11:16:17")
    assert result.code == 0, result.err
    for key in ("force_cloud_sync", "capsule_id", "mount", "script"):
        assert f"labledger: warning: watchdog.{key} is ignored" in result.err
    written = yaml.safe_load((rig.flag / FILE).read_bytes())
    assert not {"force_cloud_sync", "capsule_id", "mount", "script"} & set(written)


def test_two_sessions_of_one_day_need_their_times(rig: Rig) -> None:
    second = make_session(rig.cli, "algernon/2026-11-21/002")
    assert rig("scan", str(second)).code == 0
    first = rig("transfer", str(rig.session))
    assert first.code == 0 and "acquisition time unknown" in first.err
    assert_one_line_error(rig("transfer", str(second)), "already used by session", "--acquired")
    assert rig("transfer", str(second), "--acquired", "14:00:00").code == 0
    assert len(os.listdir(rig.flag)) == 2


def test_status_confirms_once_the_service_moved_the_manifest(
    rig: Rig, sync_transfers: None
) -> None:
    assert rig("transfer", str(rig.session), "--acquired", "11:16:17").code == 0
    [waiting] = rig("transfer", str(rig.session), "--status", "--json").json()
    assert waiting["transfer"] == "emitted" and "waiting for the watchdog" in waiting["check"]
    due = re.search(r"\(stalled after (\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ)\)", waiting["check"])
    assert due, f"the deadline is a UTC time with its Z, as every time shown: {waiting['check']}"
    (rig.flag / FILE).rename(rig.complete / FILE)  # what the service does on success
    synced = rig("sync", "--json")
    assert synced.code == 0, synced.err
    [row] = [r for r in synced.json() if r["action"] == "confirm transfer"]
    assert (row["outcome"], row["detail"]) == ("done", f"confirmed: {rig.complete / FILE}")
    [done] = rig("transfer", str(rig.session), "--status", "--json").json()
    assert done["transfer"] == "confirmed"
    assert rig.names().count("TransferConfirmed") == 1
    assert rig("sync").code == 0 and rig.names().count("TransferConfirmed") == 1


def test_a_manifest_left_in_flag_dir_past_the_deadline_is_stalled(
    rig: Rig, sync_transfers: None
) -> None:
    rig.configure(schedule_time=None, stall_after_minutes=0.001)
    assert rig("transfer", str(rig.session), "--acquired", "11:16:17").code == 0
    time.sleep(0.1)
    result = rig("sync", "--json")
    assert result.code == MUST_ACT, result.err
    assert result.err.startswith("labledger: error: 1 transfer stalled, first cortexlab/algernon")
    [row] = [r for r in result.json() if r["action"] == "confirm transfer"]
    assert row["outcome"] == "stalled" and row["detail"].startswith("still in flag_dir")
    assert "nothing was copied" in row["detail"]
    [status] = rig("status", "--json").json()
    assert status["transfer"] == "stalled" and "past the deadline" in status["last_error"]
    assert rig("sync").code == MUST_ACT, "a stall is reported by every sync until it ends"
    assert rig.names().count("TransferStalled") == 1  # the same reason is not recorded twice
    assert os.listdir(rig.flag) == [FILE]  # never deleted nor rewritten: the service would die

    (rig.flag / FILE).rename(rig.complete / FILE)  # the service got to it at last
    assert rig("sync").code == 0
    [confirmed] = rig("status", "--json").json()
    assert (confirmed["transfer"], confirmed["last_error"]) == ("confirmed", None)
    [handed] = rig("transfer", str(rig.session), "--status", "--json").json()
    assert handed["transfer"] == "confirmed" and "stalled" not in json.dumps(handed)
    assert rig("replay").code == 0, "a rebuilt view says the same"
    assert rig("status", "--json").json()[0]["last_error"] is None


def test_a_crash_between_intent_and_emission_then_sync_emits_exactly_once(
    rig: Rig, sync_transfers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _crash_before_the_manifest_is_written(rig, monkeypatch)
    assert rig.names()[-1] == "ManifestRequested"
    assert rig("status", "--json").json()[0]["pending"] == 1

    synced = rig("sync", "--json")
    assert synced.code == STILL_QUEUED, synced.err  # the watchdog has not taken it yet
    assert [r["outcome"] for r in synced.json() if r["action"] == "emit manifest"] == ["done"]
    assert os.listdir(rig.flag) == [FILE]
    assert rig.names().count("ManifestEmitted") == 1
    assert rig("sync").code == STILL_QUEUED and rig.names().count("ManifestEmitted") == 1
    assert os.listdir(rig.flag) == [FILE]
    assert rig("status", "--json").json()[0]["pending"] == 0


def test_a_crash_after_the_rename_is_recorded_by_sync_without_writing_again(
    rig: Rig, sync_transfers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def killed(*_: object, **__: object) -> None:
        raise Crash

    with monkeypatch.context() as patch:
        patch.setattr(Ledger, "record_manifest_emitted", killed)
        with pytest.raises(Crash):
            rig("transfer", str(rig.session), "--acquired", "11:16:17")
    stamp = (rig.flag / FILE).stat()
    synced = rig("sync", "--json")
    assert synced.code == STILL_QUEUED, synced.err
    [row] = [r for r in synced.json() if r["action"] == "emit manifest"]
    assert row["outcome"] == "done" and "not written again" in row["detail"]
    after = (rig.flag / FILE).stat()
    assert (after.st_ino, after.st_mtime_ns) == (stamp.st_ino, stamp.st_mtime_ns)
    assert rig.names().count("ManifestEmitted") == 1


def _crash_before_the_manifest_is_written(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    """`transfer` records its intent and dies before the manifest is in flag_dir."""

    def killed(*_: object) -> None:
        raise Crash

    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", killed)  # the manifest writer's rename
        with pytest.raises(Crash):
            rig("transfer", str(rig.session), "--acquired", "11:16:17")
    assert os.listdir(rig.flag) == []


def test_sync_writes_the_planned_manifest_whatever_the_settings_say_by_then(
    rig: Rig, sync_transfers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _crash_before_the_manifest_is_written(rig, monkeypatch)
    planned = rig.events()[-1]["details"]["manifest"]
    other = rig.cli.session("algernon/2026-11-22/001")
    rig.configure(
        user_email="someone.else@example.org",
        project_name="Another Project",
        extra_modality_data={"behavior-videos": [str(other / "raw_video_data")]},
    )

    synced = rig("sync", "--json")

    assert synced.code == STILL_QUEUED, synced.err
    assert [r["outcome"] for r in synced.json() if r["action"] == "emit manifest"] == ["done"]
    written = (rig.flag / FILE).read_text()
    assert written == planned
    assert "someone.else" not in written and "2026-11-22" not in written


def test_a_session_changed_since_its_transfer_was_planned_is_refused(
    rig: Rig, sync_transfers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _crash_before_the_manifest_is_written(rig, monkeypatch)
    (rig.session / "behavior" / "late.csv").write_text("added after the plan\n")

    synced = rig("sync", "--json")

    [row] = [r for r in synced.json() if r["action"] == "emit manifest"]
    assert row["outcome"] == "failed" and "changed since" in row["detail"]
    assert f"plan it again with `labledger transfer {rig.session}`" in row["detail"]
    assert "labledger retry" not in synced.err, "retrying would replay the stale plan"
    assert os.listdir(rig.flag) == [], "nothing written for a session that changed"
    again = rig("transfer", str(rig.session), "--acquired", "11:16:17")
    assert again.code == 0, again.err
    assert os.listdir(rig.flag) == [FILE]
    stamp = (rig.flag / FILE).stat().st_mtime_ns

    retried = rig("retry", "--json")  # the refused plan was superseded: nothing to re-open
    assert retried.code == 0, retried.err
    assert retried.json() == []
    assert (rig.flag / FILE).stat().st_mtime_ns == stamp
    (rig.flag / FILE).rename(rig.complete / FILE)  # the service did its work
    assert rig("sync").code == 0
    [status] = rig("status", "--json").json()
    assert (status["transfer"], status["last_error"]) == ("confirmed", None)


@pytest.mark.parametrize("given", ["setting", "flag"])
def test_a_relative_destination_is_refused_before_recording(rig: Rig, given: str) -> None:
    """The service would copy the session into its own working folder."""
    flags: tuple[str, ...] = ()
    if given == "setting":
        rig.configure(destination="relative/staging")
    else:
        flags = ("--destination", "relative/staging")
    before = rig.cli.event_count()
    assert_one_line_error(
        rig("transfer", str(rig.session), "--acquired", "11:16:17", *flags),
        'destination "relative/staging" is relative',
    )
    assert rig.cli.event_count() == before and os.listdir(rig.flag) == []
