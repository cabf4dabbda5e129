"""After a failed register-file request, what Alyx kept: read before anything is sent again.

A POST /register-file is not atomic on Alyx: a request that failed half-way (a 500 on the fifth of
ten files, a reply lost to a timeout, a protected file refused after the others were written) can
leave some of its datasets registered. Sending it again blindly would re-apply `default` and reset
`qc` on those. So before a session's files are sent again after an earlier failure, the session's
datasets are read (`GET /datasets?session=<eid>`), and a file Alyx holds at the same path with the
same hash is recorded as registered from that record, not sent.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

from ...domain.dataset import Dataset
from ...domain.recorded import AlreadyClosed
from ...domain.session import Session
from .sessions import AlyxContext, on_alyx


class Attempt(Protocol):
    """A pending registration: its dataset and the operation that asked for it."""

    @property
    def operation_id(self) -> str: ...

    @property
    def dataset(self) -> Dataset: ...


A = TypeVar("A", bound=Attempt)


def file_records_of(record: dict[str, Any]) -> list[dict[str, Any]]:
    """What the ledger keeps of a dataset's file records: repository, path, whether present."""
    return [
        {
            "data_repository": r.get("data_repository"),
            "relative_path": r.get("relative_path"),
            "exists": bool(r.get("exists")),
        }
        for r in record.get("file_records") or []
    ]


def failed_before(attempts: Sequence[Attempt]) -> bool:
    """Whether an earlier attempt at any of these registrations failed (it may have been partly
    applied by the server)."""
    return any(attempt.dataset.last_error is not None for attempt in attempts)


def kept_on_alyx(
    context: AlyxContext, session: Session, attempts: Sequence[A]
) -> tuple[list[A], int]:
    """Record the registrations Alyx already holds (same path, same hash); returns the ones still
    to send and how many were found."""
    eid = session.eid or on_alyx(context, session.ref)
    if eid is None:
        return list(attempts), 0
    held = {
        _path_of(record): record
        for record in context.client.list("/datasets", {"session": eid}, records=True)
    }
    still: list[A] = []
    found = 0
    for attempt in attempts:
        dataset = attempt.dataset
        record = held.get(dataset.rel_path)
        if record is None or not dataset.md5 or record.get("hash") != dataset.md5:
            still.append(attempt)
            continue
        with contextlib.suppress(AlreadyClosed):  # a racing run recorded it first
            context.ledger.record_dataset_registered(
                dataset.id,
                attempt.operation_id,
                str(record.get("id") or str(record["url"])[-36:]),
                str(record.get("revision") or ""),
                bool(record.get("default_dataset")),
                file_records_of(record),
                dict(record),
            )
        found += 1
    return still, found


def _path_of(record: dict[str, Any]) -> str:
    """A dataset's path in its session folder: collection/#revision#/name."""
    parts = [record.get("collection") or ""]
    if record.get("revision"):
        parts.append(f"#{record['revision']}#")
    parts.append(str(record.get("name")))
    return "/".join(part for part in parts if part)
