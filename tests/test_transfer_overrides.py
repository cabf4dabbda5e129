"""One session's transfer settings (`labledger transfer --platform ... --destination ...`) are
in the manifest the intent records, so a `sync` that writes it later (the run died first) writes
them, whatever the rig's settings say by then. Run in-process, on the rig of
`tests/test_transfer_cli.py`; every manifest left behind is validated by the real model.
"""

from __future__ import annotations

import os

import pytest

from labledger.domain.exit_status import STILL_QUEUED
from tests.test_manifest import accepted_by_service
from tests.test_transfer_cli import (  # noqa: F401 (fixtures)
    Crash,
    Rig,
    every_emitted_manifest_is_accepted,
    rig,
)

NAME = "ecephys_algernon_2026-11-21_11-16-17"


def test_sync_writes_one_sessions_settings_as_planned(
    rig: Rig,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def killed(*_: object) -> None:
        raise Crash

    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", killed)  # the manifest writer's rename: the run dies
        with pytest.raises(Crash):
            rig(
                "transfer",
                str(rig.session),
                "--acquired",
                "11:16:17",
                "--platform",
                "ecephys",
                "--tag",
                "pilot",
                "--user-email",
                "other@example.org",
                "--destination",
                "/mnt/vast/other",
            )
    requested = rig.events()[-1]
    assert requested["event"] == "Session.ManifestRequested" and os.listdir(rig.flag) == []
    assert requested["details"]["overrides"] == {
        "platform": "ecephys",
        "data_description_tags": ["pilot"],
        "user_email": "other@example.org",
        "destination": "/mnt/vast/other",
    }, "the session's own settings are in the log, apart from the manifest"
    rig.configure(
        platform="behavior", user_email="someone.else@example.org", data_description_tags=["rig"]
    )

    synced = rig("sync", "--json")

    assert synced.code == STILL_QUEUED, synced.err  # written; the watchdog has not taken it yet
    assert [r["outcome"] for r in synced.json() if r["action"] == "emit manifest"] == ["done"]
    written = (rig.flag / f"manifest_{NAME}.yml").read_text()
    assert written == requested["details"]["manifest"]
    accepted = accepted_by_service(written.encode())
    assert (accepted.platform, accepted.upload_notification_email) == (
        "ecephys",
        "other@example.org",
    )
    assert accepted.destination == "/mnt/vast/other"
    assert "pilot" in written and "someone.else" not in written and "- rig\n" not in written
