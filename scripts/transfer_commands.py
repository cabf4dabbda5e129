"""Commands of this group (being built)."""

from __future__ import annotations

from typing import Any


def add_commands(commands: Any) -> None:
    """Add this group's commands to the `labledger` parser."""
