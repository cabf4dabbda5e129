"""The fold's input is the same however the log was read: every stored-event fixture decoded
straight from its row (`projections.logged.decoded`, what catch-up and replay read) equals the
same row decoded by eventsourcing's mapper and turned into plain values (`of_domain_event`, what
`project --follow` receives), upcasts included; and folding either gives the same rows.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from eventsourcing.persistence import StoredEvent

from labledger.domain.event_catalog import event_classes
from labledger.domain.ledger import Ledger
from labledger.projections.fold import MemoryRows, fold_pages
from labledger.projections.logged import decoded, of_domain_event

FIXTURES = Path(__file__).parent / "stored_events"


def _stored(topic: str) -> StoredEvent:
    stored = json.loads(
        (FIXTURES / (topic.replace(":", "__").replace(".", "_") + ".json")).read_text()
    )
    return StoredEvent(
        originator_id=uuid.UUID(stored["originator_id"]),
        originator_version=stored["originator_version"],
        topic=topic,
        state=json.dumps(stored["state"]).encode(),
    )


@pytest.mark.parametrize("topic", sorted(event_classes()))
def test_a_stored_row_decodes_as_its_domain_event(topic: str) -> None:
    stored = _stored(topic)
    mapper = Ledger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}).mapper
    via_mapper = of_domain_event(mapper.to_domain_event(stored))
    direct = decoded(topic, uuid.UUID(str(stored.originator_id)).hex, stored.state)
    assert type(direct) is type(via_mapper)
    assert type(direct).__qualname__ == event_classes()[topic].__qualname__
    assert vars(direct) == vars(via_mapper)
    assert list(vars(direct)) == list(vars(via_mapper)), "fields in the order stored"
    assert direct.originator_id == str(stored.originator_id)


def test_folding_either_form_gives_the_same_views() -> None:
    mapper = Ledger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}).mapper
    topics = sorted(event_classes())
    rows = [_stored(topic) for topic in topics]
    direct, via_mapper = MemoryRows(), MemoryRows()
    fold_pages(
        direct, [(n, decoded(s.topic, s.originator_id, s.state)) for n, s in enumerate(rows, 1)], 7
    )
    fold_pages(via_mapper, [(n, mapper.to_domain_event(s)) for n, s in enumerate(rows, 1)], 5)
    assert direct.docs == via_mapper.docs
    assert direct.audit == via_mapper.audit
    assert len(direct.audit) == len(topics)


def test_typed_values_at_any_depth_become_the_text_the_views_keep() -> None:
    stored = json.loads((FIXTURES / "labledger__Session_Created.json").read_text())
    state = dict(stored["state"])
    state["folder"] = '/data/"_type_"'  # the marker inside a text: still read right
    state["session_id"] = {"_type_": "uuid_hex", "_data_": "ca107fe18010415d9fe045e00f5e12df"}
    state["deeper"] = [{"at": {"_type_": "datetime_iso", "_data_": "2026-11-21T11:50:38+00:00"}}]
    for text in (json.dumps(state), json.dumps({k: v for k, v in state.items() if k != "deeper"})):
        event = decoded("labledger:Session.Created", stored["originator_id"], text.encode())
        assert event.timestamp == stored["state"]["timestamp"]["_data_"]
        assert event.session_id == "ca107fe1-8010-415d-9fe0-45e00f5e12df"
        assert event.folder == '/data/"_type_"'
    assert event.field("deeper") is None
    assert vars(decoded("labledger:Session.Created", ORIGINATOR, json.dumps(state)))["deeper"] == [
        {"at": "2026-11-21 11:50:38+00:00"}
    ]


ORIGINATOR = uuid.UUID("ca107fe1-8010-415d-9fe0-45e00f5e12df")
