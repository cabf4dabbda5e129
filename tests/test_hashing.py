"""Hashing session files: the md5 Alyx stores, whatever the file's size against the block size,
with any number of workers; every byte reported to the progress callback once; the first error
(a file that cannot be read, or the caller's own) stops the workers and goes on."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest

from labledger.adapters.filesystem.hashing import BLOCK_SIZE, hash_files, md5_of
from labledger.adapters.filesystem.walk import FoundFile, walk_session
from labledger.domain.errors import UnreadableFile

SIZES = [0, 1, 4095, BLOCK_SIZE - 1, BLOCK_SIZE, BLOCK_SIZE + 1, 3 * BLOCK_SIZE + 7]


def _files(tmp_path: Path) -> list[FoundFile]:
    for number, size in enumerate(SIZES):
        data = bytes((number * 7 + index) % 251 for index in range(min(size, 1000)))
        (tmp_path / f"f{number}.bin").write_bytes((data * (size // 1000 + 1))[:size])
    return walk_session(tmp_path)[0]


@pytest.mark.parametrize("workers", [1, 2, 5])
def test_md5_of_every_size_with_any_workers(tmp_path: Path, workers: int) -> None:
    files = _files(tmp_path)
    read: list[int] = []
    lock = threading.Lock()

    def progress(count: int) -> None:
        with lock:
            read.append(count)

    handed: list[tuple[Path, str, bool]] = []

    def hashed(file: FoundFile, md5: str) -> None:
        handed.append((file.path, md5, threading.current_thread() is threading.main_thread()))

    digests = hash_files(sorted(files, key=lambda f: -f.size), workers, progress, hashed)
    expected = {file.path: hashlib.md5(file.path.read_bytes()).hexdigest() for file in files}
    assert digests == expected
    assert sorted(handed) == sorted((path, md5, True) for path, md5 in expected.items())
    assert sum(read) == sum(SIZES)


def test_a_small_buffer_is_reused_across_files(tmp_path: Path) -> None:
    buffer = bytearray(1000)
    for file in _files(tmp_path):
        assert md5_of(file.path, buffer=buffer) == hashlib.md5(file.path.read_bytes()).hexdigest()


def test_an_unreadable_file_stops_the_hashing(tmp_path: Path) -> None:
    files = _files(tmp_path)
    gone = files[3]
    gone.path.unlink()
    with pytest.raises(UnreadableFile, match=gone.path.name):
        hash_files(files, 2)


def test_an_error_of_the_caller_goes_on(tmp_path: Path) -> None:
    files = _files(tmp_path)

    def hashed(file: FoundFile, md5: str) -> None:
        raise RuntimeError("the ledger failed")

    with pytest.raises(RuntimeError, match="the ledger failed"):
        hash_files(files, 2, hashed=hashed)
    assert not [thread for thread in threading.enumerate() if thread.name.startswith("md5")]


def test_no_files_no_workers() -> None:
    assert hash_files([], 4) == {}
