"""Which executors this installation has, built from the settings (the composition root)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from uuid import UUID

from labledger.adapters.filesystem import split_session_path
from labledger.adapters.reference_data import load_reference_data
from labledger.adapters.scanner import ScanOptions, session_folder
from labledger.adapters.settings import Settings
from labledger.adapters.sync import Executor
from labledger.domain.ledger import Ledger, session_id_of


def scan_options(settings: Settings) -> ScanOptions:
    return ScanOptions(
        lab=settings.lab,
        known_labs=settings.known_labs,
        reference=load_reference_data(settings.reference_dir),
        workers=settings.hash_workers,
    )


def session_ids_of(paths: Sequence[Path], settings: Settings) -> frozenset[UUID]:
    """The ledger ids of session folders given on the command line."""
    options = scan_options(settings)
    ids = set()
    for path in paths:
        folder, _ = split_session_path(path.expanduser().absolute())
        ref, _ = session_folder(Path(folder), options)
        ids.add(session_id_of(ref))
    return frozenset(ids)


@contextmanager
def build_executors(settings: Settings, ledger: Ledger) -> Iterator[list[Executor]]:
    """Every executor, in the order sync runs them; closed (connections) on exit."""
    with ExitStack() as stack:
        executors: list[Executor] = []
        del stack, ledger  # executors are added by the Alyx and watchdog adapters
        yield executors
