"""The md5 of session files, as Alyx stores it, after a check that every one can be read.

Hashing streams each file in large blocks and runs files in parallel threads: hashlib releases the
GIL while it digests a block, so threads use every core without pickling work to processes.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ...domain.errors import UnreadableFile
from .walk import FoundFile

BLOCK_SIZE = 1 << 20
"""Bytes read per step when hashing: large enough to keep the GIL released most of the time."""


def md5_of(path: Path, progress: Callable[[int], None] = lambda _: None) -> str:
    """Lower-case hex md5 of the whole file, as Alyx stores it; `progress` gets bytes read."""
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
    files: list[FoundFile], workers: int, progress: Callable[[int], None] = lambda _: None
) -> dict[Path, str]:
    """md5 of each file by path, `workers` files at a time."""
    if not files:
        return {}
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        digests = pool.map(lambda file: md5_of(file.path, progress), files)
        return {file.path: digest for file, digest in zip(files, digests, strict=True)}
