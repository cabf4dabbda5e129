"""Moving into a revision folder: harmless to repeat, never overwrites, never leaves the folder."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from labledger.adapters.filesystem.revision_moves import MoveRefused, move_file

SOURCE, DESTINATION = "alf/spikes.times.npy", "alf/#2026-11-21#/spikes.times.npy"
DATA = b"spikes" * 100


@pytest.fixture
def session(tmp_path: Path) -> Path:
    (tmp_path / "alf").mkdir()
    (tmp_path / SOURCE).write_bytes(DATA)
    return tmp_path


def _move(session: Path) -> bool:
    return move_file(session, SOURCE, DESTINATION, len(DATA), hashlib.md5(DATA).hexdigest()).done


def test_move_then_again_is_harmless(session: Path) -> None:
    assert _move(session) is True
    assert _move(session) is False  # a second run finds it done
    assert (session / DESTINATION).read_bytes() == DATA and not (session / SOURCE).exists()


def test_crash_between_link_and_unlink(session: Path) -> None:
    (session / DESTINATION).parent.mkdir()
    os.link(session / SOURCE, session / DESTINATION)  # the state a crash could leave
    assert _move(session) is False
    assert not (session / SOURCE).exists() and (session / DESTINATION).read_bytes() == DATA


def test_never_overwrites_another_file(session: Path) -> None:
    (session / DESTINATION).parent.mkdir()
    (session / DESTINATION).write_bytes(b"other")
    with pytest.raises(MoveRefused, match="already holds a different file"):
        _move(session)
    assert (session / SOURCE).read_bytes() == DATA and (
        session / DESTINATION
    ).read_bytes() == b"other"


def test_lost_file_is_said_not_pretended(session: Path) -> None:
    (session / SOURCE).unlink()
    with pytest.raises(MoveRefused, match="is gone"):
        _move(session)


def test_changed_source_is_refused(session: Path) -> None:
    (session / SOURCE).write_bytes(b"changed")
    (session / DESTINATION).parent.mkdir()
    (session / DESTINATION).write_bytes(DATA)
    with pytest.raises(MoveRefused, match="changed since it was scanned"):
        _move(session)
    assert (session / SOURCE).read_bytes() == b"changed"


@pytest.mark.parametrize("destination", ["../outside.npy", "/tmp/x.npy", "alf/../../x.npy"])
def test_never_leaves_the_session(session: Path, destination: str) -> None:
    with pytest.raises(MoveRefused, match="not a path inside the session folder"):
        move_file(session, SOURCE, destination, len(DATA), hashlib.md5(DATA).hexdigest())


def test_never_moves_through_a_link(
    session: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (session / "alf" / "#2026-11-21#").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(MoveRefused, match="symbolic link"):
        _move(session)
    assert not any(elsewhere.iterdir())
