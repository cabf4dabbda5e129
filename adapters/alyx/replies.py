"""Replies checked for the shape Alyx gives before labledger acts on them.

A reply that is JSON but not what the endpoint answers (a proxy's page turned JSON, another
service at the address, a broken upgrade) must never be taken for work done, nor crash the
command: it raises `AlyxOddReply`, and the work stays pending.
"""

from __future__ import annotations

import json
from typing import Any

from .errors import AlyxOddReply


def is_item(item: Any, record: bool) -> bool:
    """Whether a list's item is a mapping (and, for a `record`, has its id or url)."""
    if not isinstance(item, dict):
        return False
    return not record or any(isinstance(item.get(key), str) for key in ("id", "url"))


def one_record(call: str, reply: Any) -> dict[str, Any]:
    """`reply` to `call` ("POST /sessions") if it is one Alyx record, else AlyxOddReply."""
    if is_item(reply, record=True):
        return dict(reply)
    raise AlyxOddReply(
        200,
        f"Alyx answered {call} with {json.dumps(reply)[:60]!r}, not a record; check "
        "alyx.base_url points at Alyx (the work stays pending)",
    )
