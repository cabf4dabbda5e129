"""What `RegistrationClient` returns, read from the ledger after the work is performed: the
records as Alyx sent them, placed as ONE places them.

Alyx's replies are kept in the ledger's outcome events, so a record can be returned for work done
now, and for files registered by an earlier run that a call names again. Work that is still
pending (no server, server down, waiting for the operator) returns None in its place, as does a
path that cannot be registered; `last_results` says which and why.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from ..domain.dataset import Dataset
from ..domain.ledger import Ledger
from ..domain.subject import Subject

Record = dict[str, Any]


def dataset_record(ledger: Ledger, dataset_id: UUID) -> Record | None:
    """Alyx's record of a file: at its revision folder if it was moved there; None while its
    registration is pending or when it has none."""
    dataset: Dataset = ledger.dataset(dataset_id)
    if dataset.state == "moved" and dataset.moves:
        _, destination = list(dataset.moves.values())[-1]
        return dataset_record(ledger, Dataset.create_id(dataset.session_id, destination))
    if dataset.state != "registered" or dataset.open_registration() is not None:
        return None
    return dict(dataset.alyx_record) or None


def session_record(ledger: Ledger, session_id: UUID) -> Record | None:
    """Alyx's record of a session; None while its registration is pending."""
    session = ledger.session(session_id)
    if session.eid is None or "RegistrationRequested" in session.open_intents.values():
        return None
    return dict(session.alyx_record) or {"id": session.eid}


def posted_record(subject: Subject, operation_id: str) -> Record | None:
    """Alyx's record of a weighing or water administration; None while it is pending."""
    if operation_id in subject.open_intents:
        return None
    for key, operation in subject.operations.items():
        if operation == operation_id and subject.records.get(key) == "recorded":
            return dict(subject.alyx_records.get(key) or {"url": subject.urls[key]})
    return None
