"""ONE-api's own RegistrationClient and labledger run the same scenarios on two identical Alyx
test servers; the servers (sessions, datasets, file records, revisions, default and protected
flags, weighings, water) and the session folders must end the same.

The deliberate differences are left out of these scenarios and tested where they are decided:
tests/test_revisions.py (lettering: no existing revision reused, none after `z`),
tests/test_revision_mover.py (no overwrite when a dated unprotected revision is reused),
tests/test_alyx_registration.py (merged update), tests/test_alyx_policies.py."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.alyx_cli import alyx_env
from tests.alyx_fixtures import one_registration_client
from tests.alyx_server import AlyxTestServer
from tests.cli_helpers import SAMPLE, Cli

KEY = "algernon/2026-11-21/001"
TODAY = dt.date.today().isoformat()


class Pair:
    """The same session folder and server, once for ONE and once for labledger."""

    def __init__(self, tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
        self.one_server = AlyxTestServer().start()
        self.our_server = AlyxTestServer().start()
        self.one_folder = self._copy(tmp_path / "one")
        self.our_folder = self._copy(tmp_path / "ours")
        self.one = one_registration_client(self.one_server, tmp_path / "one_env")
        for name, value in alyx_env(self.our_server, tmp_path).items():
            monkeypatch.setenv(name, value)
        self.cli = cli

    @staticmethod
    def _copy(root: Path) -> Path:
        target = root / "cortexlab" / "Subjects" / KEY
        shutil.copytree(SAMPLE, target)
        return target

    def stop(self) -> None:
        self.one_server.stop()
        self.our_server.stop()

    def labledger(self, *args: str) -> None:
        result = self.cli(*args)
        assert result.code == 0, result.out + result.err

    def both(self, action: Any) -> None:
        """Apply the same server-side or file change to both sides."""
        action(self.one_server, self.one_folder)
        action(self.our_server, self.our_folder)

    def assert_same(self) -> None:
        assert self.our_server.state.snapshot() == self.one_server.state.snapshot()
        assert _tree(self.our_folder) == _tree(self.one_folder)


def _tree(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.md5(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def pair(tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pair]:
    both = Pair(tmp_path, cli, monkeypatch)
    yield both
    both.stop()


def _protect(rel: str) -> Any:
    def protect(server: AlyxTestServer, folder: Path) -> None:
        server.state.protect_dataset(server.state.dataset_at(f"{KEY}/{rel}").id)

    return protect


def _write(rel: str, content: bytes) -> Any:
    def write(server: AlyxTestServer, folder: Path) -> None:
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(content)

    return write


def test_new_session_files_and_reregistration(pair: Pair) -> None:
    pair.one.register_session(pair.one_folder)
    pair.labledger("register", str(pair.our_folder))
    pair.assert_same()
    pair.one.register_session(pair.one_folder)  # ONE re-sends everything: Alyx changes nothing
    pair.labledger("register", str(pair.our_folder))  # labledger sends nothing
    pair.assert_same()


def test_protected_original_and_new_files_then_todays_revisions(pair: Pair) -> None:
    pair.one.register_session(pair.one_folder)
    pair.labledger("register", str(pair.our_folder))
    pair.both(_protect("alf/probe00/spikes.times.npy"))
    new = (SAMPLE / "alf/probe00/spikes.clusters.npy").read_bytes()
    pair.both(_write("alf/probe00/clusters.amps.npy", new))  # never registered: stays
    files = ["alf/probe00/spikes.times.npy", "alf/licks.times.npy", "alf/probe00/clusters.amps.npy"]
    pair.one.register_files([pair.one_folder / f for f in files])  # protected moves, others stay
    pair.labledger("register", *(str(pair.our_folder / f) for f in files))
    pair.assert_same()
    assert (pair.our_folder / f"alf/probe00/#{TODAY}#/spikes.times.npy").exists()

    pair.both(_protect(f"alf/probe00/#{TODAY}#/spikes.times.npy"))
    pair.both(_write("alf/probe00/spikes.times.npy", b"new"))
    pair.one.register_files(pair.one_folder / "alf/probe00/spikes.times.npy")  # today's protected
    pair.labledger("register", str(pair.our_folder / "alf/probe00/spikes.times.npy"))
    pair.assert_same()
    assert (pair.our_folder / f"alf/probe00/#{TODAY}a#/spikes.times.npy").read_bytes() == b"new"

    pair.both(_protect(f"alf/probe00/#{TODAY}a#/spikes.times.npy"))
    in_revision = f"alf/probe00/#{TODAY}a#/spikes.times.npy"
    pair.one.register_files(pair.one_folder / in_revision)  # in a protected revision
    pair.labledger("register", str(pair.our_folder / in_revision))
    pair.assert_same()
    assert (pair.our_folder / f"alf/probe00/#{TODAY}aa#/spikes.times.npy").exists()


def test_weighing_and_water(pair: Pair) -> None:
    when = "2026-11-21T10:00:00"
    pair.one.register_weight("algernon", 25.31234, date_time=when)
    pair.labledger("weigh", "algernon", "25.31234", "--date-time", when)
    pair.one.register_water_administration(
        "algernon", 0.123456, water_type="Water 10% Sucrose", date_time=when
    )
    pair.labledger(
        "water", "algernon", "0.123456", "--water-type", "Water 10% Sucrose", "--date-time", when
    )
    pair.assert_same()
