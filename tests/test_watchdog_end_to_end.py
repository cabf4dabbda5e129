"""An IBL session handed to the real aind-watchdog-service code, end to end.

labledger (the installed command, in a subprocess with a scratch home) scans and transfers a plain
IBL session with no per-session settings. The service's own handler (`EventHandler` with its
APScheduler, as `aind_watchdog_service.main` builds it) finds the manifest in flag_dir, and its
`RunJob` checks the sources, copies them with rsync into the staging share, posts the upload
request to the transfer endpoint (a loopback server that records it) and moves the manifest to
manifest_complete. `labledger sync` then confirms the transfer.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from aind_watchdog_service.event_handler import EventHandler
from aind_watchdog_service.models.watch_config import WatchConfig
from apscheduler.schedulers.background import BackgroundScheduler  # type: ignore[import-untyped]

from tests.doors import Door

SESSION = "cortexlab/Subjects/algernon/2026-11-21/001"
IBL_FILES = {
    "raw_behavior_data/_iblrig_taskData.raw.jsonable": b'{"trial": 1}\n',
    "raw_video_data/_iblrig_leftCamera.raw.mp4": b"\x00" * 512,
    "raw_ephys_data/probe00/_spikeglx_ephysData_g0_t0.imec0.ap.meta": b"nSavedChans=385\n",
    "alf/_ibl_trials.table.pqt": b"PAR1",
}
COPY_WAIT_S = 30.0


class Endpoint(BaseHTTPRequestHandler):
    """The transfer service's submit endpoint: records each request body, answers 200."""

    received: list[Any]

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        type(self).received.append(json.loads(self.rfile.read(length) or b"null"))
        body = b'{"message": "submitted"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def endpoint() -> Iterator[tuple[str, list[Any]]]:
    received: list[Any] = []
    handler = type("Recording", (Endpoint,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/v2/submit_jobs", received
    server.shutdown()
    server.server_close()


def _ibl_session(root: Path) -> Path:
    folder = root / SESSION
    for rel, content in IBL_FILES.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(content)
    return folder


def test_an_ibl_session_goes_through_the_real_service(
    door: Door, tmp_path: Path, endpoint: tuple[str, list[Any]]
) -> None:
    url, received = endpoint
    service = tmp_path / "service"
    flag, complete, staging = service / "flags", service / "manifest_complete", tmp_path / "vast"
    for folder in (flag, complete, staging):
        folder.mkdir(parents=True)
    watch = {"flag_dir": str(flag), "manifest_complete": str(complete)}
    (service / "config.yml").write_text(yaml.safe_dump(watch))
    settings = tmp_path / "labledger.yml"
    settings.write_text(
        yaml.safe_dump(
            {
                "lab": "cortexlab",
                "watchdog": {
                    "config": str(service / "config.yml"),
                    "destination": str(staging),
                    "project_name": "Example Project",
                    "user_email": "jdoe@example.org",
                    "transfer_endpoint": url,
                    "platform": "ecephys",
                },
            }
        )
    )
    door.env["LABLEDGER_CONFIG"] = str(settings)
    session = _ibl_session(door.cwd)
    door("scan", session).ok()
    transferred = door("transfer", session, "--acquired", "10:00:00").ok()
    (manifest,) = flag.iterdir()

    scheduler = BackgroundScheduler()
    scheduler.start()
    try:
        config = WatchConfig(flag_dir=str(flag), manifest_complete=str(complete))
        EventHandler(scheduler, config)  # finds the manifest in flag_dir, as at start-up
        deadline = time.monotonic() + COPY_WAIT_S
        while manifest.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        scheduler.shutdown(wait=True)

    assert (complete / manifest.name).exists(), "the service finished and archived the manifest"
    document = yaml.safe_load((complete / manifest.name).read_text())
    copied = staging / "algernon" / document["name"]
    for rel in IBL_FILES:
        found = list(copied.rglob(Path(rel).name))
        if rel.startswith("alf/"):  # processed data: left out by default, and said so
            assert found == [] and "alf/ is not transferred" in transferred.err
            continue
        assert len(found) == 1, f"{rel} was not copied by the service ({transferred.err})"
        assert found[0].read_bytes() == IBL_FILES[rel]
    assert sorted(document["modalities"]) == ["behavior", "behavior-videos", "ecephys"]
    (request,) = received
    assert json.dumps(request).count(document["name"]) >= 1, "the upload request names the job"

    synced = door("sync", "--json").ok().json()
    assert [r["outcome"] for r in synced if r["action"] == "confirm transfer"] == ["done"]
    (status,) = door("status", "--json").ok().json()
    assert (status["transfer"], status["last_error"]) == ("confirmed", None)
