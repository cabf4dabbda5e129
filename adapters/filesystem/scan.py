"""`labledger scan`: find every file of each session, hash what changed, record each file's fate.

Order matters for "bad input changes nothing": every session path is parsed and walked, and every
file classified and checked readable, before the ledger records anything. Then files are hashed,
and each session is recorded in a transaction of its own as soon as all its files are read: a scan
stopped by Ctrl-C keeps the sessions it finished, and a re-run hashes only files whose size or
mtime differ from what the ledger remembers.

Files are hashed session by session, in the order given, and within a session largest first: the
workers start a session's large files together and fill in with its small ones, so no large file
is left to finish alone on one core, and sessions are still finished (and kept) one after another.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ...domain.alf import SessionRef, parse_session_path, resolve_lab
from ...domain.dataset_types import Accepted, ReferenceData
from ...domain.errors import InvalidALFPath
from ...domain.known_file import KnownFile
from ...domain.ledger import Ledger
from ...domain.ledger_queries import session_id_of
from ...domain.observations import (
    Observed,
    Refused,
    ScanSummary,
    SessionScan,
)
from .hashing import check_readable, hash_files
from .user_dirs import expand_user
from .walk import FoundFile, Oddity, split_session_path, walk_session

Progress = Callable[[int, int], Callable[[int], None]]
"""Given (files to hash, bytes to hash), returns the callback that receives bytes hashed."""


@dataclass(frozen=True)
class ScanOptions:
    """What a scan needs besides the ledger: lab rules, reference lists, parallelism."""

    lab: str | None
    known_labs: Sequence[str]
    reference: ReferenceData
    workers: int


@dataclass
class _Plan:
    """One session folder on its way through the scan."""

    ref: SessionRef
    folder: Path
    files: list[FoundFile]
    odd: list[Oddity]
    to_hash: list[tuple[FoundFile, Accepted]] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)
    unchanged: int = 0


def session_folder(path: Path, options: ScanOptions) -> tuple[SessionRef, Path]:
    """The parsed, lab-resolved session of a folder given on the command line."""
    folder = expand_user(path).absolute()
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise InvalidALFPath(f"session folder {folder} {what}; give the path of a session folder")
    ref = resolve_lab(parse_session_path(folder), options.lab, options.known_labs)
    return ref, folder


def session_at(path: Path, options: ScanOptions) -> tuple[SessionRef, Path, str]:
    """The session of a session folder or of a file inside one: (ref, folder, file path
    relative to the folder, '' for the folder itself)."""
    folder, rel = split_session_path(expand_user(path).absolute())
    ref, found = session_folder(Path(folder), options)
    return ref, found, rel


def scan(
    ledger: Ledger, paths: Sequence[Path], options: ScanOptions, progress: Progress
) -> list[ScanSummary]:
    """Scan session folders and record what was found, each session as soon as all its files
    are read; returns one summary per session, in the order given."""
    summaries: dict[str, ScanSummary] = {}

    def record(found: SessionScan) -> None:
        (summaries[found.folder],) = ledger.record_scans([found])

    return [summaries[found.folder] for found in observe(ledger, paths, options, progress, record)]


def observe(
    ledger: Ledger,
    paths: Sequence[Path],
    options: ScanOptions,
    progress: Progress,
    read: Callable[[SessionScan], None] = lambda found: None,
) -> list[SessionScan]:
    """What a scan would record, without recording it (dry runs use it too), in the order given.

    `read` gets each session, in the calling thread, once all its files are read: in the order
    given (a session read early waits for the ones before it, so the ledger lists sessions as
    they were named); on Ctrl-C, every session read by then, before the interrupt goes on."""
    plans: dict[Path, _Plan] = {}
    for path in paths:
        ref, folder = session_folder(path, options)
        if folder not in plans:
            files, odd = walk_session(folder)
            plans[folder] = _Plan(ref, folder, files, odd)

    for plan in plans.values():
        _triage(plan, ledger.known_files(session_id_of(plan.ref)), options)

    to_hash = [
        file
        for plan in plans.values()
        for file in sorted((file for file, _ in plan.to_hash), key=lambda file: -file.size)
    ]
    check_readable(to_hash)
    digests: dict[Path, str] = {}
    scans: dict[Path, SessionScan] = {}
    handed: list[Path] = []
    waiting = {plan.folder: len(plan.to_hash) for plan in plans.values()}
    plan_of = {file.path: plan for plan in plans.values() for file, _ in plan.to_hash}

    def hand_on(*, in_order: bool) -> None:
        for folder in plans:
            if folder not in scans and in_order:
                return
            if folder in scans and folder not in handed:
                handed.append(folder)
                read(scans[folder])

    def hashed(file: FoundFile, md5: str) -> None:
        digests[file.path] = md5
        plan = plan_of[file.path]
        waiting[plan.folder] -= 1
        if not waiting[plan.folder]:
            scans[plan.folder] = _session_scan(plan, digests)
            hand_on(in_order=True)

    for plan in plans.values():
        if not plan.to_hash:
            scans[plan.folder] = _session_scan(plan, digests)
    hand_on(in_order=True)
    try:
        hash_files(
            to_hash, options.workers, progress(len(to_hash), sum(f.size for f in to_hash)), hashed
        )
    except KeyboardInterrupt:
        hand_on(in_order=False)
        raise
    return [scans[folder] for folder in plans]


def _session_scan(plan: _Plan, digests: dict[Path, str]) -> SessionScan:
    """What the scan saw of one session, once all its files are hashed."""
    return SessionScan(
        plan.ref,
        plan.folder.as_posix(),
        (
            *plan.refused,
            *(_observed(file, verdict, digests[file.path]) for file, verdict in plan.to_hash),
        ),
        unchanged=plan.unchanged,
    )


def _triage(plan: _Plan, known: dict[str, KnownFile], options: ScanOptions) -> None:
    """Sort a session's files into: unchanged (known as they are), to hash, refused.

    A file whose size, mtime and classification match what the ledger recorded is neither hashed
    nor re-decided: a re-scan of an unchanged session reads no file and writes no event.
    """
    refusals = [(oddity.rel_path, oddity.code, oddity.reason) for oddity in plan.odd]
    for file in plan.files:
        verdict = options.reference.classify(file.rel_path)
        seen = known.get(file.rel_path)
        if isinstance(verdict, Accepted):
            if seen and seen.same_discovery(
                file.size, file.mtime_ns, verdict.dataset_type, verdict.data_format
            ):
                plan.unchanged += 1
            else:
                plan.to_hash.append((file, verdict))
        else:
            refusals.append((file.rel_path, verdict.code, verdict.reason))
    for rel_path, code, reason in refusals:
        seen = known.get(rel_path)
        if seen and seen.same_rejection(reason):
            plan.unchanged += 1
        else:
            plan.refused.append(_refused(rel_path, code, reason))


def _observed(file: FoundFile, verdict: Accepted, md5: str) -> Observed:
    rel = verdict.rel_path
    return Observed(
        rel_path=file.rel_path,
        collection=rel.collection,
        revision=rel.revision,
        name=rel.name,
        size=file.size,
        mtime_ns=file.mtime_ns,
        md5=md5,
        dataset_type=verdict.dataset_type,
        data_format=verdict.data_format,
    )


def _refused(rel_path: str, code: str, reason: str) -> Refused:
    folder, _, name = rel_path.rpartition("/")
    return Refused(
        rel_path=rel_path, collection=folder, revision="", name=name, code=code, reason=reason
    )
