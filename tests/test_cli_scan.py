"""`labledger scan`, `history` and `status` through the command line, on real files."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from labledger.adapters.filesystem import hashing as filesystem
from tests.cli_helpers import SAMPLE, Cli
from tests.conftest import PG, drop_schema

SAMPLE_ACCEPTED = {
    "alf/_ibl_trials.probabilityLeft.npy": "trials.probabilityLeft",
    "alf/licks.times.npy": "licks.times",
    "alf/probe00/clusters.depths.npy": "clusters.depths",
    "alf/probe00/spikes.clusters.npy": "spikes.clusters",
    "alf/probe00/spikes.times.npy": "spikes.times",
    "raw_video_data/_iblrig_leftCamera.times.npy": "camera.times",
}


def hashed_paths(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The files the scan hashes, in the order hashing starts on them (md5_of still hashes)."""
    hashed: list[Path] = []
    real_md5 = filesystem.md5_of

    def noted_md5(path: Path, progress: Callable[[int], None], buffer: bytearray) -> str:
        hashed.append(path)
        return real_md5(path, progress, buffer)

    monkeypatch.setattr(filesystem, "md5_of", noted_md5)
    return hashed


def test_help_lists_only_working_commands(cli: Cli) -> None:
    with pytest.raises(SystemExit) as stop:
        cli("--help", ledger=False)
    assert stop.value.code == 0
    out = cli._capsys.readouterr().out
    listed = {
        line.split()[0]
        for line in out.split("commands:")[1].splitlines()[2:]
        if line.strip() and line.startswith("    ") and not line.startswith("     ")
    }
    assert listed == {
        *("scan", "history", "status", "sync", "retry", "audit", "pending", "replay", "project"),
        *("new-session", "register", "check-protected", "weigh", "water"),
        *("transfer", "watchdog", "config", "migrate"),
    }


def test_scan_records_each_file_with_md5_or_reason(cli: Cli) -> None:
    session = cli.session()
    result = cli("--lab", "cortexlab", "scan", str(session), "--json")
    assert result.code == 0, result.err
    assert result.json() == [
        {
            "session": "cortexlab/algernon/2026-11-21/001",
            "new_or_changed": 6,
            "rejected": 2,
            "unchanged": 0,
        }
    ]

    for rel_path, dataset_type in SAMPLE_ACCEPTED.items():
        history = cli("--lab", "cortexlab", "history", str(session / rel_path), "--json").json()
        discovered = history[-1]
        assert discovered["event"] == "Dataset.Discovered"
        details = discovered["details"]
        data = (session / rel_path).read_bytes()
        assert details["md5"] == hashlib.md5(data).hexdigest()
        assert details["size"] == len(data)
        assert details["dataset_type"] == dataset_type and details["data_format"] == "npy"

    reasons = {
        rel: cli("--lab", "cortexlab", "history", str(session / rel), "--json").json()[-1][
            "details"
        ]
        for rel in ("notes.txt", "alf/_ibl_trials.table.pqt")
    }
    assert reasons["notes.txt"]["code"] == "invalid-name"
    assert reasons["alf/_ibl_trials.table.pqt"]["code"] == "no-dataset-type"
    assert "_ibl_trials.table.pqt" in reasons["alf/_ibl_trials.table.pqt"]["reason"]

    status = cli("status", "--json").json()
    assert [(s["session"], s["discovered"], s["rejected"], s["pending"]) for s in status] == [
        ("cortexlab/algernon/2026-11-21/001", 6, 2, 0)
    ]


def test_rescan_hashes_only_changed_files(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    hashed = hashed_paths(monkeypatch)
    session = cli.session()
    assert cli("--lab", "cortexlab", "scan", str(session)).code == 0
    assert len(hashed) == 6

    hashed.clear()
    again = cli("--lab", "cortexlab", "scan", str(session), "--json")
    assert again.json()[0] == {
        "session": "cortexlab/algernon/2026-11-21/001",
        "new_or_changed": 0,
        "rejected": 0,
        "unchanged": 8,
    }
    assert hashed == [], "nothing changed, nothing hashed"

    licks = session / "alf" / "licks.times.npy"
    licks.write_bytes(licks.read_bytes() + b"\x00" * 8)
    hashed.clear()
    changed = cli("--lab", "cortexlab", "scan", str(session), "--json").json()[0]
    assert changed["new_or_changed"] == 1 and hashed == [licks]
    history = cli("--lab", "cortexlab", "history", str(licks), "--json").json()
    assert [e["event"] for e in history] == [
        "Dataset.Created",
        "Dataset.Discovered",
        "Dataset.Discovered",
    ]
    assert history[-1]["details"]["md5"] == hashlib.md5(licks.read_bytes()).hexdigest()

    stat = licks.stat()  # same content, new mtime: hashed again, nothing new to record
    os.utime(licks, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    hashed.clear()
    touched = cli("--lab", "cortexlab", "scan", str(session), "--json").json()[0]
    assert hashed == [licks] and touched["new_or_changed"] == 1


def test_rejections_name_their_reason(cli: Cli, tmp_path: Path) -> None:
    session = cli.session()
    (session / "alf" / "spikes.times.xyz").write_bytes(b"x")  # no data format
    (session / "alf" / "_ns_obj.attr").write_bytes(b"x")  # no extension: invalid
    (session / "alf" / "my data").mkdir()
    (session / "alf" / "my data" / "spikes.times.npy").write_bytes(b"x")  # space in collection
    (session / ".DS_Store").write_bytes(b"x")  # hidden
    (session / "alf" / "link.times.npy").symlink_to(tmp_path)  # symbolic link
    assert cli("--lab", "cortexlab", "scan", str(session)).code == 0
    codes = {}
    for rel in (
        "alf/spikes.times.xyz",
        "alf/_ns_obj.attr",
        "alf/my data/spikes.times.npy",
        ".DS_Store",
        "alf/link.times.npy",
    ):
        event = cli("--lab", "cortexlab", "history", str(session / rel), "--json").json()[-1]
        assert event["event"] == "Dataset.Rejected"
        codes[rel] = event["details"]["code"]
    assert codes == {
        "alf/spikes.times.xyz": "no-data-format",
        "alf/_ns_obj.attr": "invalid-name",
        "alf/my data/spikes.times.npy": "invalid-name",
        ".DS_Store": "hidden",
        "alf/link.times.npy": "symlink",
    }


def test_several_sessions_parallel_hashing_and_plain_output(cli: Cli) -> None:
    first = cli.session("algernon/2026-11-21/001")
    second = cli.session("ZM_1085/2026-01-10/002")
    result = cli("--lab", "cortexlab", "scan", str(first), str(second), "--workers", "2")
    assert result.code == 0, result.err
    assert "cortexlab/algernon/2026-11-21/001" in result.out
    assert "cortexlab/ZM_1085/2026-01-10/002" in result.out
    status = cli("status").out
    assert "cortexlab/ZM_1085/2026-01-10/002" in status
    assert "cortexlab/algernon/2026-11-21/001" in status
    history = cli("--lab", "cortexlab", "history", str(first)).out
    assert "Session.Created [fact]" in history and "Session.DatasetsDiscovered" in history


def test_path_without_lab_uses_configured_lab(cli: Cli, tmp_path: Path) -> None:
    bare = tmp_path / "rig" / "algernon" / "2026-11-21" / "003"
    bare.parent.mkdir(parents=True)
    cli.session()  # any files will do
    shutil.copytree(
        cli.tmp_path / "cortexlab" / "Subjects" / "algernon" / "2026-11-21" / "001", bare
    )
    result = cli("--lab", "cortexlab", "scan", str(bare), "--json")
    assert result.json()[0]["session"] == "cortexlab/algernon/2026-11-21/003"


def test_default_ledger_is_created_under_the_user_data_directory(cli: Cli) -> None:
    session = cli.session()
    result = cli("--lab", "cortexlab", "scan", str(session), ledger=False)
    assert result.code == 0, result.err
    default = cli.tmp_path / "home" / ".local" / "share" / "labledger" / "ledger.sqlite3"
    assert default.is_file()


def test_scan_on_postgres_through_the_command_line(
    cli: Cli, pg_schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema = f"{pg_schema}_cli"
    for key, value in {**PG, "schema": schema}.items():
        monkeypatch.setenv(f"LABLEDGER_POSTGRES__{key.upper()}", str(value))
    monkeypatch.setenv("LABLEDGER_STORE", "postgres")
    session = cli.session()
    try:
        assert cli("--lab", "cortexlab", "scan", str(session), ledger=False).code == 0
        status = cli("status", "--json", ledger=False).json()
        assert [(s["discovered"], s["rejected"]) for s in status] == [(6, 2)]
        audit = cli("audit", "--kind", "Rejected", "--json", ledger=False).json()
        assert sorted(entry["file"] for entry in audit) == [
            "alf/_ibl_trials.table.pqt",
            "notes.txt",
        ]
        assert cli("pending", "--json", ledger=False).json() == []
        assert cli("replay", ledger=False).code == 0
        assert cli("status", "--json", ledger=False).json() == status
    finally:
        drop_schema(schema)


def test_installed_console_command(tmp_path: Path) -> None:
    command = Path(sys.executable).parent / "labledger"
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    done = subprocess.run(
        [str(command), "--lab", "cortexlab", "scan", str(SAMPLE), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert '"new_or_changed": 6' in done.stdout
    assert (tmp_path / "data" / "labledger" / "ledger.sqlite3").is_file()


def test_known_lab_in_path_wins_with_a_warning(cli: Cli) -> None:
    session = cli.session(lab="mainenlab")
    result = cli("--lab", "cortexlab", "scan", str(session), "--json")
    assert result.code == 1, "mainenlab is neither this rig's lab nor a known lab"
    cli.tmp_path.joinpath("settings.yaml").write_text("known_labs: [mainenlab]\n")
    config = str(cli.tmp_path / "settings.yaml")
    result = cli("--config", config, "--lab", "cortexlab", "scan", str(session), "--json")
    assert result.code == 0, result.err
    assert result.json()[0]["session"] == "mainenlab/algernon/2026-11-21/001"
    assert "warning: mainenlab/algernon/2026-11-21/001 belongs to lab mainenlab" in result.err


def test_each_session_is_hashed_largest_file_first(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One worker shows the order the workers take files in: sessions as named, and within a
    session the largest file first, so that no large file is left to end alone on one core."""
    started = hashed_paths(monkeypatch)
    second = cli.session("algernon/2026-11-22/001")
    first = cli.session("algernon/2026-11-21/001")
    for session, large in (
        (first, "alf/licks.times.npy"),
        (second, "alf/probe00/spikes.times.npy"),
    ):
        (session / large).write_bytes(b"\x01" * 300_000)
    scanned = cli("--lab", "cortexlab", "scan", str(first), str(second), "--workers", "1")
    assert scanned.code == 0, scanned.err
    assert len(started) == 2 * len(SAMPLE_ACCEPTED)
    for session, files in ((first, started[:6]), (second, started[6:])):
        sizes = [path.stat().st_size for path in files]
        assert all(path.is_relative_to(session) for path in files)
        assert sizes == sorted(sizes, reverse=True) and sizes[0] == 300_000
