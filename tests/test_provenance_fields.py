"""The provenance fields stamped on every event are exactly the Provenance dataclass's fields."""

from __future__ import annotations

import dataclasses

from labledger.domain.provenance import Provenance


def test_event_fields_are_every_field() -> None:
    actor = Provenance("alyx", "os", "rig-01", "labledger 1.0", "op-1")
    fields = actor.as_event_fields()
    assert fields == dataclasses.asdict(actor)
    fields["operation_id"] = "changed"  # callers add to it: each call is a fresh dict
    assert actor.as_event_fields()["operation_id"] == "op-1"
