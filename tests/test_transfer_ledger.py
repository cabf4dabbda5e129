"""The hand-over through the Python API, on the memory, SQLite and PostgreSQL stores.

The crash scenario: the intent is saved, the process dies before the manifest reaches flag_dir;
`perform_pending` (what `labledger sync` runs) then emits exactly one manifest, and running it
again changes nothing.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from labledger.adapters.alyx.reference_data import load_reference_data
from labledger.adapters.database.views import Views
from labledger.adapters.filesystem.scan import ScanOptions, scan, session_folder
from labledger.adapters.sync import perform_pending
from labledger.adapters.watchdog.emission import TransferExecutor
from labledger.adapters.watchdog.settings import WatchdogSettings
from labledger.adapters.watchdog.transfer import acquisition_time, plan_transfer
from labledger.domain import provenance
from labledger.domain.errors import LabledgerError
from labledger.domain.ledger import Ledger
from labledger.domain.ledger_queries import session_id_of
from labledger.domain.session import Session
from tests.cli_helpers import SAMPLE
from tests.conftest import new_run
from tests.test_manifest import accepted_by_service

pytestmark = pytest.mark.usefixtures("actor")  # they drive the ledger directly, as rig-01

OPTIONS = ScanOptions("cortexlab", [], load_reference_data(None), 2)


class Crash(BaseException):
    """The process is killed."""


def scanned_session(ledger: Ledger, root: Path) -> Session:
    folder = root / "cortexlab" / "Subjects" / "algernon" / "2026-11-21" / "001"
    shutil.copytree(SAMPLE, folder)
    (folder / "behavior").mkdir()
    (folder / "behavior" / "raw.bin").write_bytes(b"raw")
    (folder / "session.json").write_text("{}")
    scan(ledger, [folder], OPTIONS, lambda files, size: lambda done: None)
    ref, _ = session_folder(folder, OPTIONS)
    return ledger.session(session_id_of(ref))


def watchdog_settings(root: Path) -> WatchdogSettings:
    flag, complete = root / "service" / "flags", root / "service" / "complete"
    flag.mkdir(parents=True)
    complete.mkdir()
    config = root / "service" / "config.yml"
    config.write_text(f"flag_dir: {flag}\nmanifest_complete: {complete}\n")
    return WatchdogSettings.model_validate(
        {
            "config": str(config),
            "destination": "/mnt/vast/staging",
            "project_name": "Example Project",
            "user_email": "jdoe@example.org",
            "transfer_endpoint": "http://aind-data-transfer-service/api/v2/submit_jobs",
        }
    )


def test_crash_between_intent_and_emission_then_sync_emits_once(
    ledger: Ledger, views: Views, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = scanned_session(ledger, tmp_path)
    settings = watchdog_settings(tmp_path)
    flag = tmp_path / "service" / "flags"
    plan = plan_transfer(views, session, settings, "11:16:17", environ={})
    assert plan.watch is not None
    operation = ledger.request_manifest(session.id, plan.manifest.name, str(flag))
    [intent] = ledger.pending_intents(session.id)
    assert (intent.intent, intent.operation_id) == ("Session.ManifestRequested", operation)

    def killed(*_: object) -> None:
        raise Crash

    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", killed)  # the manifest writer's rename
        with pytest.raises(Crash):
            TransferExecutor(views, settings, environ={}).perform([intent])
    assert os.listdir(flag) == [] and ledger.session(session.id).transfer == "none"

    with provenance.acting_as(new_run()):
        results = perform_pending(views, [TransferExecutor(views, settings, environ={})])
    assert [(r.action, r.outcome) for r in results] == [
        ("emit manifest", "done"),
        ("confirm transfer", "queued"),  # waiting for the service
    ]
    assert os.listdir(flag) == [plan.manifest.file_name]
    content = (flag / plan.manifest.file_name).read_bytes()
    assert content == plan.manifest.render()  # rebuilt from the intent's name: same bytes
    accepted_by_service(content)
    emitted = ledger.session(session.id)
    assert emitted.transfer == "emitted" and emitted.manifest_path == str(
        flag / plan.manifest.file_name
    )
    assert ledger.pending_intents(session.id) == []

    with provenance.acting_as(new_run()):
        again = perform_pending(views, [TransferExecutor(views, settings, environ={})])
    assert [r.action for r in again] == ["confirm transfer"]
    assert os.listdir(flag) == [plan.manifest.file_name]
    kinds = [entry.event for entry in ledger.history(session.id)]
    assert kinds.count("Session.ManifestEmitted") == 1


def test_sync_without_a_configured_service_records_nothing(
    ledger: Ledger, views: Views, tmp_path: Path
) -> None:
    session = scanned_session(ledger, tmp_path)
    settings = watchdog_settings(tmp_path)
    plan = plan_transfer(views, session, settings, "11:16:17", environ={})
    ledger.request_manifest(session.id, plan.manifest.name, str(tmp_path / "service" / "flags"))
    version = ledger.session(session.id).version
    unconfigured = settings.model_copy(update={"config": None})
    [result] = perform_pending(views, [TransferExecutor(views, unconfigured, environ={})])
    assert result.outcome == "queued" and "not set" in result.detail
    assert ledger.session(session.id).version == version
    assert len(ledger.pending_intents(session.id)) == 1


def test_acquisition_time_comes_from_the_alyx_start_time_the_ledger_recorded(
    ledger: Ledger, tmp_path: Path
) -> None:
    session = scanned_session(ledger, tmp_path)
    acquired, warnings = acquisition_time(ledger, session, None)
    assert (acquired.isoformat(), len(warnings)) == ("2026-11-21T00:00:00", 1)
    ref, _ = session_folder(Path(session.folder), OPTIONS)
    ledger.request_session_registration(ref, session.folder, start_time="2026-11-21T10:05:06")
    acquired, warnings = acquisition_time(ledger, ledger.session(session.id), None)
    assert (acquired.isoformat(), warnings) == ("2026-11-21T10:05:06", [])
    given, _ = acquisition_time(ledger, session, "2026-11-21T09:00:00")
    assert given.isoformat() == "2026-11-21T09:00:00"
    with pytest.raises(LabledgerError, match="not the session's date"):
        acquisition_time(ledger, session, "2026-11-22T09:00:00")
    with pytest.raises(LabledgerError, match="neither a time"):
        acquisition_time(ledger, session, "soon")
