"""`labledger transfer` of IBL sessions, as a user runs it: the installed command in a subprocess
with a scratch home (`tests/doors.py`), a settings file, and the service's folders on disk.

A plain IBL session goes with no per-session flag and no mapping. Everything the service or AIND
would refuse later (a folder this user cannot write, a relative path, an unknown modality, a
subject id AIND forbids) is refused in one line before anything is recorded: the ledger's event
count and the watched folder are unchanged. Every manifest emitted is validated by the real
`ManifestConfig`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cli_helpers import events_in
from tests.doors import Door, Ran
from tests.test_manifest import accepted_by_service

DAY = "2026-11-21"
IBL_FILES = {
    "_ibl_experiment.description.yaml": "version: 1.0.0\n",
    "alf/_ibl_trials.table.pqt": "PAR1",
    "raw_behavior_data/_iblrig_taskData.raw.jsonable": '{"trial": 1}\n',
    "raw_behavior_data/_iblrig_taskSettings.raw.json": "{}",
    "raw_passive_data/_iblrig_RFMapStim.raw.bin": "rf",
    "raw_video_data/_iblrig_leftCamera.raw.mp4": "mp4",
    "raw_ephys_data/_spikeglx_ephysData_g0_t0.nidq.cbin": "nidq",
    "raw_ephys_data/probe00/_spikeglx_ephysData_g0_t0.imec0.ap.cbin": "ap",
}


@dataclass
class Rig:
    """A rig's data root, the service's folders and labledger's settings file."""

    door: Door
    root: Path
    flag: Path
    settings: Path

    def session(self, subject: str) -> Path:
        folder = self.root / "cortexlab" / "Subjects" / subject / DAY / "001"
        for rel, text in IBL_FILES.items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_text(text)
        return folder

    def configure(self, **watchdog: Any) -> None:
        data = yaml.safe_load(self.settings.read_text())
        data["watchdog"].update(watchdog)
        self.settings.write_text(yaml.safe_dump(data))

    def __call__(self, *args: str | Path) -> Ran:
        return self.door(*args, "--config", self.settings)

    def refused(self, session: Path, *needles: str) -> str:
        """Transfer `session`, expecting a one-line refusal naming each needle, and nothing
        recorded nor written."""
        before = events_in(self.door.ledger_file)
        ran = self("transfer", session)
        assert ran.code == 1, ran
        line = ran.err.strip().splitlines()[-1]
        assert line.startswith("labledger: error: ") and "Traceback" not in ran.err, ran.err
        for needle in needles:
            assert needle in line, line
        assert events_in(self.door.ledger_file) == before, "an intent was recorded"
        assert list(self.flag.iterdir()) == [], "something was written into flag_dir"
        return line


@pytest.fixture
def rig(door: Door) -> Rig:
    service = door.cwd / "watchdog"
    flag, complete = service / "flags", service / "manifest_complete"
    flag.mkdir(parents=True)
    complete.mkdir()
    (service / "config.yml").write_text(
        yaml.safe_dump({"flag_dir": str(flag), "manifest_complete": str(complete)})
    )
    settings = door.cwd / "settings.yaml"
    settings.write_text(
        yaml.safe_dump(
            {
                "lab": "cortexlab",
                "watchdog": {
                    "config": str(service / "config.yml"),
                    "destination": str(door.cwd / "staging"),
                    "project_name": "Example Project",
                    "user_email": "jdoe@example.org",
                    "transfer_endpoint": "http://aind-data-transfer-service/api/v2/submit_jobs",
                    "platform": "ecephys",
                },
            }
        )
    )
    return Rig(door, door.cwd / "data", flag, settings)


@contextmanager
def unwritable(folder: Path) -> Iterator[None]:
    """`folder` refuses new files to this user, as a folder without write access does: the
    immutable attribute for root (which file modes do not stop), the mode for anyone else."""
    if os.geteuid() != 0:
        mode = folder.stat().st_mode
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(mode)
        return
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", folder], check=False).returncode:
        pytest.skip("running as root, and this file system cannot make a folder immutable")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", folder], check=True)


def test_a_plain_ibl_session_is_transferred_with_no_per_session_flag(rig: Rig) -> None:
    session = rig.session("algernon")
    rig("scan", session).ok()
    ran = rig("transfer", session, "--json").ok()
    [manifest] = rig.flag.iterdir()
    assert ran.json()[0]["detail"] == str(manifest)
    accepted = accepted_by_service(manifest.read_bytes())
    assert accepted.modalities == {
        "behavior": [f"{session}/raw_behavior_data", f"{session}/raw_passive_data"],
        "behavior-videos": [f"{session}/raw_video_data"],
        "ecephys": [f"{session}/raw_ephys_data"],
    }
    assert accepted.subject_id == "algernon" and accepted.schemas == []
    left_out = [line for line in ran.err.splitlines() if "not transferred" in line]
    assert len(left_out) == 2, ran.err
    assert "alf/ is not transferred: processed ALF data is left out by default" in left_out[0]
    assert "_ibl_experiment.description.yaml not transferred" in left_out[1]
    assert not list((rig.flag.parent / ".labledger-staging").iterdir()), "a probe was left"


def test_folders_this_user_cannot_write_are_refused_before_recording(rig: Rig) -> None:
    session = rig.session("algernon")
    rig("scan", session).ok()
    with unwritable(rig.flag):
        rig.refused(session, f"flag_dir {rig.flag} is not writable by this user", "write access")
        checks = {row["check"]: row for row in rig("watchdog", "validate", "--json").json()}
        assert checks["flag_dir"]["result"] == "failed", checks
        assert "is not writable by this user" in checks["flag_dir"]["detail"]
    staging = rig.door.cwd / "staging-area"
    staging.mkdir()
    rig.configure(staging_dir=str(staging))
    with unwritable(staging):
        rig.refused(
            session,
            f"staging folder {staging} is not writable by this user",
            "set watchdog.staging_dir to a writable folder",
        )
    rig.configure(staging_dir=str(rig.door.cwd / "new-staging"))  # to be created there
    with unwritable(rig.door.cwd):
        rig.refused(session, "new-staging cannot be created", "set watchdog.staging_dir")
    rig.configure(staging_dir=None)
    rig("transfer", session).ok()  # once writable, the same session goes
    assert [p.name.startswith("manifest_") for p in rig.flag.iterdir()] == [True]


def test_settings_the_service_would_misread_are_refused_before_recording(rig: Rig) -> None:
    session = rig.session("algernon")
    rig("scan", session).ok()
    rig.configure(extra_modality_data={"behavior-videos": ["videos/cam0.avi"]})
    rig.refused(
        session,
        'watchdog.extra_modality_data path "videos/cam0.avi" (behavior-videos) is relative',
        "give an absolute path",
    )
    rig.configure(extra_modality_data={"video": [str(session / "raw_video_data")]})
    rig.refused(session, 'watchdog.extra_modality_data key "video" is not an AIND modality')
    rig.configure(extra_modality_data=None, collection_modalities={"raw_video_data": "video"})
    line = rig.refused(
        session,
        'watchdog.collection_modalities maps raw_video_data to "video", which is not an AIND '
        "modality abbreviation",
        "behavior-videos",
    )
    checks = {row["check"]: row for row in rig("watchdog", "validate", "--json").json()}
    assert checks["collections"]["result"] == "failed"
    assert checks["collections"]["detail"] in line


def test_a_subject_id_aind_refuses_is_mapped_and_the_ledger_keeps_the_nickname(rig: Rig) -> None:
    swc, other = rig.session("SWC_043"), rig.session("SWC-043")
    rig("scan", swc, other).ok()
    rig.refused(
        swc,
        'subject SWC_043 is no valid AIND subject_id: aind-data-schema allows no "_"',
        "subject_ids: {SWC_043: SWC-043}",
    )
    rig.configure(subject_id_replace={"_": "-"})
    rig.refused(swc, "subjects SWC_043 and SWC-043 would both be AIND subject SWC-043")
    rig.configure(subject_id_replace=None, subject_ids={"SWC_043": "SWC043"})
    rig("transfer", swc).ok()
    [manifest] = rig.flag.iterdir()
    accepted = accepted_by_service(manifest.read_bytes())
    assert accepted.subject_id == "SWC043"
    assert accepted.name == f"ecephys_SWC043_{DAY}_00-00-00"
    assert accepted.destination == str(rig.door.cwd / "staging" / "SWC043")
    rows = {row["session"]: row for row in rig("status", "--json").ok().json()}
    assert rows[f"cortexlab/SWC_043/{DAY}/001"]["transfer"] == "emitted"
