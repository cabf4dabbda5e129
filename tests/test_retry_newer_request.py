"""A session's (or a file's) registration asked again after a refusal replaces the refused one:
`retry` then re-asks the newer request only, never the older one with its stale fields (nor the
newer one attached to the older's operation, its fields lost).

A session and a file have one registration each; a subject's several measurements are in
`tests/test_retry_measurements.py`. Entered as the operator does (the installed `labledger`
against the loopback Alyx server) and on the pure aggregates with the pending fold.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from labledger.domain import provenance
from labledger.domain.dataset import Dataset
from labledger.domain.pending import fold
from labledger.domain.session import Session
from tests.alyx_cli import alyx_env
from tests.alyx_server import AlyxTestServer
from tests.cli_helpers import SAMPLE
from tests.conftest import new_run
from tests.doors import Door


def _session() -> Session:
    return Session(lab="cortexlab", subject="algernon", date="2026-11-21", number="001", folder="f")


def _dataset() -> Dataset:
    return Dataset(
        session_id=_session().id,
        rel_path="alf/licks.times.csv",
        collection="alf",
        revision="",
        name="licks.times.csv",
    )


@pytest.mark.usefixtures("actor")
@pytest.mark.parametrize("make", [_session, _dataset], ids=["session", "file"])
def test_a_newer_registration_replaces_the_refused_one(make: Any) -> None:
    aggregate = make()
    older = aggregate.request_registration({"location": "rig-room-7"})
    aggregate.record_failure(older, "unknown location rig-room-7", retryable=False)
    with provenance.acting_as(new_run()):  # the operator's next command
        newer = aggregate.request_registration({"location": "rig-room-8"})
        aggregate.record_failure(newer, "unknown location rig-room-8", retryable=False)
    events: list[Any] = list(aggregate.collect_events())

    assert set(aggregate.refused) == {newer}
    refused = fold(enumerate(events)).refused()
    assert [intent.operation_id for intent in refused] == [newer]


def test_retry_sends_the_newer_session_request(
    door: Door, server: AlyxTestServer, tmp_path: Path
) -> None:
    door.env.update(alyx_env(server, tmp_path))
    folder = door.cwd / "cortexlab" / "Subjects" / "algernon" / "2026-11-21" / "001"
    shutil.copytree(SAMPLE, folder)
    assert door("register", folder, "--location", "rig-room-7").code == 1
    assert door("register", folder, "--location", "rig-room-8").code == 1
    server.state.add_location("rig-room-7")
    server.state.add_location("rig-room-8")

    retried = door("retry", "--json").ok().json()

    asked = [row for row in retried if row["outcome"] == "asked again"]
    assert len(asked) == 1 and "rig-room-8" in asked[0]["detail"]
    (alyx_session,) = server.state.snapshot()["sessions"]
    assert alyx_session["location"] == "rig-room-8"
    assert door("pending", "--json").ok().json() == []
