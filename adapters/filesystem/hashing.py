"""The md5 of session files, as Alyx stores it, after a check that every one can be read.

Hashing is bound by md5 itself (one core digests about as fast as `md5sum`), so a scan is fast
only when every core digests all the time. Each worker thread takes the next file from one shared
queue and reads it into a buffer of its own, reused from file to file (no allocation per block);
hashlib releases the GIL while it digests a block, so threads use every core without pickling
work to processes. The caller gives the order: largest files first, so no large file is left to
finish alone on one core while the others are idle.

Ctrl-C stops it within a block: the calling thread never blocks for long (it looks at the workers
several times a second, so the interrupt is handled even where a blocked wait is not interrupted,
as on Windows), and on an interrupt or an error every worker stops at its next block instead of
reading its file to the end (a 200 GB file would take minutes).
"""

from __future__ import annotations

import hashlib
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path

from ...domain.errors import UnreadableFile
from .walk import FoundFile

BLOCK_SIZE = 1 << 20
"""Bytes read per step when hashing: large enough that the GIL is released nearly all the time
(a block is digested for over a millisecond), small enough to stay in the core's cache."""

PROGRESS_STEP = 8 << 20
"""Bytes a worker reads before it reports them: many small files cost one progress call, not one
each (the bar's own bookkeeping is slower than reading a small file)..."""

PROGRESS_EVERY = 0.1
"""...or seconds since its last report, whichever comes first, so a bar over many small files
still moves."""

LOOK_EVERY = 0.2
"""Seconds the calling thread waits at most between two looks at the workers: how late, at
worst, it handles Ctrl-C and hands on a finished file."""

_ADVISE = getattr(os, "posix_fadvise", None)


class HashingStopped(Exception):
    """A worker's file was left unfinished because the hashing was stopped: raised in the worker
    at its next block, it ends the worker; the caller sees the interrupt or error that stopped
    it instead."""


def md5_of(
    path: Path, progress: Callable[[int], None] = lambda _: None, buffer: bytearray | None = None
) -> str:
    """Lower-case hex md5 of the whole file, as Alyx stores it; `progress` gets bytes read after
    each block (and may stop the hashing by raising). `buffer` is read into, when given: a
    worker passes the same one for every file it hashes."""
    digest = hashlib.md5(usedforsecurity=False)
    block = bytearray(BLOCK_SIZE) if buffer is None else buffer
    view, size, advised = memoryview(block), len(block), False
    try:
        with path.open("rb", buffering=0) as file:
            while count := file.readinto(block):
                if count == size:
                    digest.update(block)
                    if not advised and _ADVISE is not None:  # a large file: read ahead more
                        _ADVISE(file.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
                        advised = True
                else:
                    digest.update(view[:count])
                progress(count)
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
    waiting = deque(files)
    done: queue.SimpleQueue[tuple[FoundFile, str | BaseException]] = queue.SimpleQueue()
    stop = threading.Event()
    threads = [
        threading.Thread(target=_worker, args=(waiting, done, stop, progress), name=f"md5-{n}")
        for n in range(max(1, min(workers, len(files))))
    ]
    try:
        for thread in threads:
            thread.start()
        while len(digests) < len(files):
            try:
                file, outcome = done.get(timeout=LOOK_EVERY)
            except queue.Empty:
                continue
            if isinstance(outcome, BaseException):
                raise outcome
            digests[file.path] = outcome
            hashed(file, outcome)
    except BaseException:
        stop.set()
        raise
    finally:
        for thread in threads:
            if thread.ident is not None:
                thread.join()
    return digests


def _worker(
    waiting: deque[FoundFile],
    done: queue.SimpleQueue[tuple[FoundFile, str | BaseException]],
    stop: threading.Event,
    progress: Callable[[int], None],
) -> None:
    """Hash files from `waiting` until none is left or `stop` is set, with one buffer; report
    each digest (or what went wrong) on `done`, and bytes read in steps (PROGRESS_STEP, or
    PROGRESS_EVERY)."""
    buffer = bytearray(BLOCK_SIZE)
    unreported, reported_at = 0, time.monotonic()

    def read(count: int) -> None:
        nonlocal unreported, reported_at
        if stop.is_set():
            raise HashingStopped
        unreported += count
        if unreported >= PROGRESS_STEP or time.monotonic() - reported_at >= PROGRESS_EVERY:
            progress(unreported)
            unreported, reported_at = 0, time.monotonic()

    try:
        while not stop.is_set():
            try:
                file = waiting.popleft()
            except IndexError:
                return
            try:
                done.put((file, md5_of(file.path, read, buffer)))
            except HashingStopped:
                return
            except BaseException as error:  # handed to the calling thread, which raises it
                done.put((file, error))
                return
    finally:
        if unreported and not stop.is_set():
            progress(unreported)
