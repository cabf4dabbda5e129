"""Stored events keep loading: one fixture per event class, JSON exactly as the store holds it.

The fixtures in tests/stored_events/ were written once from the first version of each class and
must never be rewritten to make a test pass: a class whose fields change needs a class_version
bump and an upcast that turns these v1 events into the new shape. Run with
LABLEDGER_WRITE_STORED_EVENTS=1 only to add the fixture of a NEW event class.
"""

from __future__ import annotations

import dataclasses
import json
import os
import types
import typing
import uuid
from pathlib import Path
from typing import Any, cast

import pytest
from eventsourcing.persistence import StoredEvent

from labledger.domain import provenance
from labledger.domain.event_catalog import AGGREGATES, event_classes
from labledger.domain.ledger import Ledger
from labledger.domain.recorded import RecordedAggregate

FIXTURES = Path(__file__).parent / "stored_events"
ORIGINATOR = uuid.UUID("ca107fe1-8010-415d-9fe0-45e00f5e12df")


def _ledger() -> Ledger:
    return Ledger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def _fixture_path(topic: str) -> Path:
    return FIXTURES / (topic.replace(":", "__").replace(".", "_") + ".json")


def test_every_aggregate_and_event_class_has_an_explicit_topic_and_version() -> None:
    for aggregate in AGGREGATES:
        assert "TOPIC" in vars(aggregate) and vars(aggregate)["class_version"] == 1
    for topic, cls in event_classes().items():
        assert topic.startswith("labledger:"), topic
        assert "class_version" in vars(cls), f"{topic} needs an explicit class_version"


def test_every_event_class_has_a_stored_fixture() -> None:
    missing = [t for t in event_classes() if not _fixture_path(t).exists()]
    assert not missing, f"add stored-event fixtures for {missing} (see module docstring)"


@pytest.mark.parametrize("topic", sorted(event_classes()))
def test_stored_event_loads(topic: str) -> None:
    stored = json.loads(_fixture_path(topic).read_text())
    assert stored["topic"] == topic
    event = _ledger().mapper.to_domain_event(
        StoredEvent(
            originator_id=uuid.UUID(stored["originator_id"]),
            originator_version=stored["originator_version"],
            topic=topic,
            state=json.dumps(stored["state"]).encode(),
        )
    )
    recorded = cast(RecordedAggregate.Event, event)  # as the next lines find it
    cls = event_classes()[topic]
    assert type(event) is cls
    for name, value in stored["state"].items():
        if name in ("timestamp", "originator_topic") or (
            isinstance(value, dict) and "_type_" in value
        ):
            continue
        assert getattr(recorded, name) == value, name
    assert recorded.timestamp.isoformat() == stored["state"]["timestamp"]["_data_"]
    assert recorded.operation_id and recorded.host, "provenance survives storage"


# -- writing fixtures for new event classes (never in a normal run) ------------------------------

SAMPLES: dict[Any, Any] = {
    str: "2026-11-21",
    int: 1024,
    bool: True,
    float: 21.5,
    uuid.UUID: ORIGINATOR,
    list[str]: ["alf/spikes.times.npy"],
    dict[str, Any]: {"users": ["test_user"]},
    list[dict[str, bool]]: [{"2026-01-10": False}, {"": True}],
    list[dict[str, Any]]: [{"data_repository": "flatiron_cortexlab", "exists": True}],
}


NAMED: dict[str, Any] = {
    "alyx_id": "9f7d2a1c-90d4-4721-9a00-af3eb1b5cb56",
    "eid": "ca107fe1-8010-415d-9fe0-45e00f5e12df",
    "md5": "108a2cf6c185100f8ada2bfca5f0b694",
    "sha256": "9b2f0c7e4d1a8e6f3b5c2d7a1e4f8b0c6d3a9e2f5b8c1d4e7a0b3c6d9e2f5a8b",
    "rel_path": "alf/probe00/spikes.times.npy",
    "source": "alf/probe00/spikes.times.npy",
    "destination": "alf/probe00/#2026-11-21#/spikes.times.npy",
    "collection": "alf/probe00",
    "revision": "",
    "name": "spikes.times.npy",
    "dataset_type": "spikes.times",
    "data_format": "npy",
    "code": "no-dataset-type",
    "reason": 'No dataset type found for filename "_ibl_trials.table.pqt"',
    "why": "any other protected latest revision: today's revision",
    "today": "2026-11-21",
    "lab": "cortexlab",
    "subject": "algernon",
    "nickname": "algernon",
    "number": "001",
    "folder": "/data/cortexlab/Subjects/algernon/2026-11-21/001",
    "path": "/watch/flags/manifest_algernon_2026-11-21_001.yml",
    "flag_dir": "/watch/flags",
    "idempotency_key": "weighing/2026-11-21T09:00:00/21.5",
    "url": "http://alyx.local/weighings/2b8a1bd0-4c8d-4b47-9f6a-0e1f2d3c4b5a",
    "water_type": "Water 10% Sucrose",
    "user": "test_user",
    "date_time": "2026-11-21T09:00:00",
    "mtime_ns": 1763715600000000000,
    "retryable": True,
}


def _sample(name: str, annotation: Any) -> Any:
    if name in NAMED:
        return NAMED[name]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return None
    return SAMPLES[annotation]


@pytest.mark.skipif(
    os.environ.get("LABLEDGER_WRITE_STORED_EVENTS") != "1", reason="writes fixtures on request"
)
def test_write_missing_fixtures() -> None:  # pragma: no cover - run by hand
    mapper = _ledger().mapper
    FIXTURES.mkdir(exist_ok=True)
    for topic, cls in event_classes().items():
        path = _fixture_path(topic)
        if path.exists():
            continue
        hints = typing.get_type_hints(cls)
        base = {f.name for f in dataclasses.fields(cls)} - {"originator_id", "originator_version"}
        fields: dict[str, Any] = {}
        for name in sorted(base):
            if name == "timestamp":
                continue
            if name == "originator_topic":
                fields[name] = topic.rsplit(".", 1)[0]
            elif name in provenance.Provenance.__dataclass_fields__:
                fields[name] = getattr(_ACTOR, name)
            else:
                fields[name] = _sample(name, hints[name])
        event = cls(
            originator_id=ORIGINATOR,
            originator_version=1 if "Created" in topic else 2,
            timestamp=cls.create_timestamp(),
            **fields,
        )
        stored = mapper.to_stored_event(event)
        path.write_text(
            json.dumps(
                {
                    "topic": stored.topic,
                    "originator_id": str(stored.originator_id),
                    "originator_version": stored.originator_version,
                    "state": json.loads(stored.state),
                },
                indent=2,
            )
            + "\n"
        )


_ACTOR = provenance.Provenance(
    alyx_user="test_user",
    os_user="operator",
    host="rig-01",
    tool_version="labledger 0.1.0",
    operation_id="3f6c1c7e-2a51-5d0b-9a3e-0b9c6f1d2e47",
)
