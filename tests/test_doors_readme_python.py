"""The README's Python code, pasted into a script and run by a fresh interpreter against the
loopback Alyx, as a rig's operator would run it (issue 10: it failed with `NoProvenance`).

Every ```python block of README.md is extracted and run as it is, in an empty working folder, with
a scratch home and only the `LABLEDGER_*` variables that point at the server. Nothing is prepared
in the test process: no provenance, no settings object, no folders.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

import pytest

from tests.alyx_cli import alyx_env
from tests.alyx_server import TEST_USER, AlyxTestServer
from tests.cli_helpers import ROOT
from tests.doors import Door

README = ROOT / "README.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def python_blocks() -> list[str]:
    return BLOCK.findall(README.read_text(encoding="utf-8"))


def test_the_readme_has_python_to_run() -> None:
    assert any("RegistrationClient()" in block for block in python_blocks())


@pytest.mark.parametrize("block", python_blocks(), ids=lambda b: b.splitlines()[0][:40])
def test_a_readme_python_block_runs_as_pasted(
    block: str, door: Door, server: AlyxTestServer, tmp_path: Path
) -> None:
    door.env.update(alyx_env(server, tmp_path))
    before = dt.date.today()
    ran = door.python(block).ok()
    after = dt.date.today()
    assert "Traceback" not in ran.err
    if "RegistrationClient()" not in block:
        return

    # the session the script made, dated the day it ran
    [folder] = (door.cwd / "data" / "cortexlab" / "Subjects" / "algernon").glob("*/001")
    assert dt.date.fromisoformat(folder.parent.name) in {before, after}
    key = f"algernon/{folder.parent.name}/001"
    state = server.state.snapshot(times=False)
    [session] = state["sessions"]
    assert session["key"] == key and session["lab"] == "cortexlab"
    assert session["task_protocol"] == "choiceWorld" and session["n_trials"] == 400
    assert session["users"] == [TEST_USER]
    datasets = {(d["collection"], d["name"]): d for d in state["datasets"]}
    assert set(datasets) == {
        ("raw_video_data", "_iblrig_leftCamera.times.ssv"),
        ("alf", "licks.times.csv"),
    }
    licks = datasets["alf", "licks.times.csv"]
    assert licks["session"] == key and licks["version"] == "1.0.0"
    assert licks["dataset_type"] == "licks.times" and licks["data_format"] == "csv"
    camera = datasets["raw_video_data", "_iblrig_leftCamera.times.ssv"]
    assert camera["dataset_type"] == "camera.times" and camera["data_format"] == "ssv"
    for dataset in datasets.values():
        assert dataset["created_by"] == TEST_USER
        paths = {r["relative_path"] for r in dataset["file_records"]}
        assert paths == {f"{key}/{dataset['collection']}/{dataset['name']}"}
        content = (folder / dataset["collection"] / dataset["name"]).read_bytes()
        assert dataset["hash"] == hashlib.md5(content).hexdigest()
    assert state["weighings"] == [{"subject": "algernon", "weight": 25.3, "user": TEST_USER}]
    assert state["water_administrations"] == [
        {
            "subject": "algernon",
            "water_administered": 0.8,
            "water_type": "Water 10% Sucrose",
            "user": TEST_USER,
            "adlib": False,
            "session": key,
        }
    ]


def test_the_readme_python_api_block_without_a_server_queues_everything(door: Door) -> None:
    """The README's "without them the work is queued": the same script, only the lab set."""
    [block] = [block for block in python_blocks() if "RegistrationClient()" in block]
    door.env["LABLEDGER_LAB"] = "cortexlab"
    door.python(block).ok()
    pending = door("pending", "--json").ok().json()
    [folder] = (door.cwd / "data" / "cortexlab" / "Subjects" / "algernon").glob("*/001")
    key = f"cortexlab/algernon/{folder.parent.name}/001"
    assert [(row["session"], row["action"]) for row in pending] == [
        (key, "create or update the session"),
        (key, "register the file"),
        (key, "register the file"),
        ("", "post the weighing"),
        ("", "post the water administration"),
    ], pending
