"""A rig's AIND watchdog set-up for tests: the service's folders, its config.yml, and a labledger
settings file that hands sessions to it (the same set-up as the README's watchdog section)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import yaml


class WatchedService(NamedTuple):
    settings: Path
    """The labledger settings file (lab cortexlab, and the `watchdog:` section)."""
    flag_dir: Path
    """The folder the service watches for manifests."""
    manifest_complete: Path
    """Where the service moves a manifest once the transfer is done."""


def watched_service(tmp: Path, **watchdog: Any) -> WatchedService:
    """Make `tmp/watchdog/{flags,manifest_complete}`, the service's config.yml naming them, and
    `tmp/settings.yaml`; `watchdog` adds or replaces settings of the `watchdog:` section (None
    leaves one out)."""
    service = tmp / "watchdog"
    flag, complete = service / "flags", service / "manifest_complete"
    flag.mkdir(parents=True)
    complete.mkdir()
    config = service / "config.yml"
    config.write_text(f"flag_dir: {flag}\nmanifest_complete: {complete}\n")
    section: dict[str, Any] = {
        "config": str(config),
        "destination": str(tmp / "staging"),
        "project_name": "Example Project",
        "user_email": "jdoe@example.org",
        "transfer_endpoint": "http://aind-data-transfer-service/api/v2/submit_jobs",
        "platform": "behavior",
        "schedule_time": "20:00:00",
        **watchdog,
    }
    settings = tmp / "settings.yaml"
    given = {key: value for key, value in section.items() if value is not None}
    settings.write_text(yaml.safe_dump({"lab": "cortexlab", "watchdog": given}))
    return WatchedService(settings, flag, complete)
