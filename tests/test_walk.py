"""Walking a session folder: every regular file with its size and mtime, and each thing that is
not one (link, hidden file, FIFO) with its reason, the same as a plain `os.walk` would find."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from labledger.adapters.filesystem.walk import walk_session
from labledger.domain.errors import UnreadableFile


def _reference(folder: Path) -> tuple[list[tuple[str, int, int]], list[tuple[str, str]]]:
    """What a walk must find, by `os.walk` and `lstat`: (rel, size, mtime) and (rel, code)."""
    found, odd = [], []
    for root, dirs, files in os.walk(folder, followlinks=False):
        links = [d for d in dirs if os.path.islink(os.path.join(root, d))]
        for name in [*files, *links]:
            path = Path(root, name)
            rel = path.relative_to(folder).as_posix()
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                odd.append((rel, "symlink"))
            elif not stat.S_ISREG(info.st_mode):
                odd.append((rel, "not-a-file"))
            elif any(part.startswith(".") for part in rel.split("/")):
                odd.append((rel, "hidden"))
            else:
                found.append((rel, info.st_size, info.st_mtime_ns))
    return sorted(found), sorted(odd)


def _session(tmp_path: Path) -> Path:
    session = tmp_path / "lab" / "Subjects" / "algernon" / "2026-11-21" / "001"
    for rel, size in {
        "alf/spikes.times.npy": 10,
        "alf/probe00/spikes.amps.npy": 0,
        "alf/probe00/#2024-01-02#/spikes.amps.npy": 3,
        "raw/deep/er/still/clusters.depths.npy": 7,
        ".DS_Store": 1,
        "alf/.hidden/spikes.times.npy": 2,
        ".git/objects/ab": 4,
        "notes.txt": 5,
    }.items():
        path = session / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * size)
    (session / "empty" / "folder").mkdir(parents=True)
    (session / "alf" / "link.npy").symlink_to(session / "notes.txt")
    (session / "alf" / "broken.npy").symlink_to(tmp_path / "nowhere")
    (session / "alf" / "linked_folder").symlink_to(tmp_path, target_is_directory=True)
    os.mkfifo(session / "alf" / "pipe.npy")
    return session


def test_walk_finds_what_os_walk_finds(tmp_path: Path) -> None:
    session = _session(tmp_path)
    found, odd = walk_session(session)
    assert [(f.rel_path, f.size, f.mtime_ns) for f in found] == _reference(session)[0]
    assert [(o.rel_path, o.code) for o in odd] == _reference(session)[1]
    assert all(f.path == session / f.rel_path for f in found)
    assert [o.rel_path for o in odd if o.code == "symlink"] == [
        "alf/broken.npy",
        "alf/link.npy",
        "alf/linked_folder",
    ]
    assert {o.rel_path for o in odd if o.code == "hidden"} == {
        ".DS_Store",
        ".git/objects/ab",
        "alf/.hidden/spikes.times.npy",
    }


def test_walk_of_a_missing_folder_names_it(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="nowhere"):
        walk_session(tmp_path / "nowhere")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any folder")
def test_walk_of_an_unreadable_folder_names_it(tmp_path: Path) -> None:
    session = _session(tmp_path)
    locked = session / "raw" / "deep"
    locked.chmod(0)
    try:
        with pytest.raises(UnreadableFile, match="deep"):
            walk_session(session)
    finally:
        locked.chmod(0o755)


def test_a_name_that_is_not_utf8_is_reported_in_a_printable_form_and_not_walked_into(
    tmp_path: Path,
) -> None:
    """Names are bytes to the OS: one that is not UTF-8 (byte 0xff) is left out under a form every
    encoder takes, a folder of such a name with all it holds."""
    session = _session(tmp_path)
    raw = os.fsencode(session)
    with open(os.path.join(raw, b"alf", b"spikes.\xff.npy"), "wb") as file:
        file.write(b"x")
    os.makedirs(os.path.join(raw, b"bad\xfe", b"deeper"))
    with open(os.path.join(raw, b"bad\xfe", b"deeper", b"spikes.times.npy"), "wb") as file:
        file.write(b"x")

    found, odd = walk_session(session)

    bad = [(o.rel_path, o.code) for o in odd if o.code == "not-utf8"]
    assert bad == [("alf/spikes.\\xff.npy", "not-utf8"), ("bad\\xfe/", "not-utf8")]
    for oddity in odd:
        oddity.reason.encode("utf-8")  # every text can be printed, stored and sent
    assert all("bad" not in file.rel_path and "\\x" not in file.rel_path for file in found)
