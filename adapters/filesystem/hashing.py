"""The md5 of session files, as Alyx stores it, after a check that every one can be read.

Hashing streams each file in large blocks and runs files in parallel threads: hashlib releases the
GIL while it digests a block, so threads use every core without pickling work to processes.

Ctrl-C stops it within a block: the calling thread never blocks for long (it looks at the workers
several times a second, so the interrupt is handled even where a blocked wait is not interrupted,
as on Windows), and on an interrupt or an error every worker stops at its next block instead of
reading its file to the end (a 200 GB file would take minutes).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path

from ...domain.errors import UnreadableFile
from .walk import FoundFile

BLOCK_SIZE = 1 << 20
"""Bytes read per step when hashing: large enough to keep the GIL released most of the time."""

LOOK_EVERY = 0.2
"""Seconds the calling thread waits at most between two looks at the workers: how late, at
worst, it handles Ctrl-C and hands on a finished file."""


class HashingStopped(Exception):
    """A worker's file was left unfinished because the hashing was stopped: raised in the worker
    at its next block, it ends the worker; the caller sees the interrupt or error that stopped
    it instead."""


def md5_of(path: Path, progress: Callable[[int], None] = lambda _: None) -> str:
    """Lower-case hex md5 of the whole file, as Alyx stores it; `progress` gets bytes read after
    each block (and may stop the hashing by raising)."""
    digest = hashlib.md5(usedforsecurity=False)
    try:
        with path.open("rb") as file:
            while block := file.read(BLOCK_SIZE):
                digest.update(block)
                progress(len(block))
    except OSError as error:
        raise UnreadableFile(
            f"cannot read {path}: {error.strerror}; fix its permissions and scan again"
        ) from error
    return digest.hexdigest()


def check_readable(files: Iterable[FoundFile]) -> None:
    """Fail fast, before any hashing, on a file this user cannot open."""
    for file in files:
        if not os.access(file.path, os.R_OK):
            raise UnreadableFile(
                f"cannot read {file.path}: permission denied; fix its permissions and scan again"
            )


def hash_files(
    files: list[FoundFile],
    workers: int,
    progress: Callable[[int], None] = lambda _: None,
    hashed: Callable[[FoundFile, str], None] = lambda file, md5: None,
) -> dict[Path, str]:
    """md5 of each file by path, `workers` files at a time, started in the order given.

    `hashed` is called in the calling thread as each file is finished, so a caller can record
    what is complete while the rest is read. On Ctrl-C (or any error, here or in `hashed`) the
    workers stop at their next block and the exception goes on."""
    digests: dict[Path, str] = {}
    if not files:
        return digests
    stop = threading.Event()

    def read(count: int) -> None:
        if stop.is_set():
            raise HashingStopped
        progress(count)

    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="md5")
    try:
        running: dict[Future[str], FoundFile] = {
            pool.submit(md5_of, file.path, read): file for file in files
        }
        while running:
            finished, _ = wait(running, timeout=LOOK_EVERY, return_when=FIRST_COMPLETED)
            for future in finished:
                file = running.pop(future)
                digests[file.path] = future.result()
                hashed(file, digests[file.path])
    except BaseException:
        stop.set()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return digests
