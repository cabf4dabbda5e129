"""clabe's settings files: a `clabe.yml` holding other services' sections is read for its
`watchdog:` section only, and the layered files (`./local/clabe.yml` over `./clabe.yml` over the
machine's `%PROGRAMDATA%/clabe.yml`) give their keys in clabe's order, below labledger's own file
and variables.

The command is the installed `labledger`, the launcher a fresh interpreter, each with a scratch
home and the test's working folder (`tests/doors.py`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from tests.doors import Door

ENDPOINT = "http://aind-data-transfer-service/api/v2/submit_jobs"


def write(path: Path, data: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def status(door: Door, *args: str) -> tuple[dict[str, str], str]:
    ran = door("watchdog", "status", "--json", *args).ok()
    return {row["item"]: row["value"] for row in ran.json()}, ran.err


def test_a_clabe_file_with_other_sections_gives_its_watchdog_section(door: Door) -> None:
    service = door.cwd / "watchdog"
    config = write(
        service / "config.yml", {"flag_dir": str(service / "flags"), "manifest_complete": "x"}
    )
    clabe = write(
        door.cwd / "clabe.yml",
        {
            "robocopy": {"destination": "//server/share", "extra_args": "/e /z"},
            "bonsai_app": {"executable": "bonsai.exe"},
            "watchdog": {"config": str(config), "project_name": "Example Project"},
        },
    )
    shown, err = status(door)  # ./clabe.yml of the working folder
    assert shown["config"] == f"{config} (from watchdog.config in the settings)"
    assert shown["clabe files"] == str(clabe) and err == ""

    elsewhere = door.cwd / "elsewhere"
    elsewhere.mkdir()
    named, _ = status(door, "--config", str(clabe))  # named as the settings file: the same
    assert named["config"] == shown["config"]
    plain = door("watchdog", "status", "--json", cwd=elsewhere).ok().json()
    assert {row["item"]: row["value"] for row in plain}["config"] == "not set"


def test_a_bad_key_in_a_clabe_file_names_that_file(door: Door) -> None:
    clabe = door.cwd / "local" / "clabe.yml"
    clabe.parent.mkdir()
    clabe.write_text("robocopy: {a: 1}\nwatchdog:\n  schedule_time: 20:00:00\n")
    ran = door("watchdog", "status")
    assert ran.code == 1, ran
    [line] = ran.err.strip().splitlines()
    assert line.startswith(f"labledger: error: watchdog.schedule_time in {clabe}: ")
    assert "'20:00:00'" in line and "correct it in that file" in line

    clabe.write_text("watchdog: [not, a, mapping]\n")
    ran = door("watchdog", "status")
    assert ran.code == 1 and f"settings file {clabe}: watchdog: must be a mapping" in ran.err


LAYERS = """
import json, os
from labledger import load_settings

settings = load_settings(environ={{**os.environ, "PROGRAMDATA": {machine!r}}})
print(json.dumps(settings.watchdog.model_dump(mode="json")))
"""


def watchdog_settings(door: Door, machine: Path) -> dict[str, Any]:
    """The `watchdog:` settings a launcher in the working folder loads."""
    loaded: dict[str, Any] = json.loads(door.python(LAYERS.format(machine=str(machine))).ok().out)
    return loaded


def test_top_level_watchdog_keys_of_a_file_without_the_section_are_not_read(door: Door) -> None:
    """clabe reads such a file whole; labledger reads only the section, and says so."""
    write(door.cwd / "clabe.yml", {"watchdog": {"project_name": "Example Project"}})
    local = write(door.cwd / "local" / "clabe.yml", {"project_name": "Leaked", "robocopy": {}})
    assert watchdog_settings(door, door.cwd / "none")["project_name"] == "Example Project"
    _, err = status(door)
    assert f"{local} has project_name at its top level and no watchdog: section" in err


def test_layers_win_in_clabes_order_below_labledgers_own_file(door: Door) -> None:
    machine = door.cwd / "ProgramData"
    every = {"project_name": "machine", "destination": "machine", "job_type": "machine"}
    write(
        machine / "clabe.yml",
        {
            "robocopy": {"destination": "//server/share"},
            "watchdog": {
                **every,
                "user_email": "machine@example.org",
                "transfer_endpoint": ENDPOINT,
            },
        },
    )
    write(
        door.cwd / "clabe.yml",
        {
            "watchdog": {
                **every,
                "job_type": "project",
                "destination": "project",
                "user_email": "project@example.org",
            }
        },
    )
    write(door.cwd / "local" / "clabe.yml", {"watchdog": {"destination": "local"}})
    own = write(door.cwd / "settings.yaml", {"watchdog": {"project_name": "own"}})
    door.env["LABLEDGER_CONFIG"] = str(own)
    door.env["LABLEDGER_WATCHDOG__JOB_TYPE"] = "variable"

    loaded = watchdog_settings(door, machine)

    assert loaded["job_type"] == "variable"  # a LABLEDGER_ variable over every file
    assert loaded["project_name"] == "own"  # labledger's own file over clabe's
    assert loaded["destination"] == "local"  # ./local/clabe.yml over ./clabe.yml
    assert loaded["user_email"] == "project@example.org"  # ./clabe.yml over the machine's
    assert loaded["transfer_endpoint"] == ENDPOINT  # only the machine's file has it
    assert loaded["stall_after_minutes"] == 120  # in no file: the default

    del door.env["LABLEDGER_CONFIG"], door.env["LABLEDGER_WATCHDOG__JOB_TYPE"]
    (door.cwd / "local" / "clabe.yml").unlink()
    loaded = watchdog_settings(door, machine)
    assert (loaded["project_name"], loaded["destination"]) == ("machine", "project")
    assert loaded["job_type"] == "project"
