"""A whole-file check of an SQLite ledger, made by every command that opens it.

SQLite finds a damaged page only when a query walks through it: a ledger with one page zeroed in
the middle of its log answered `status` from its views as if nothing were wrong, and `register`
appended to it, while `sync` and `audit` (which read the log) called it malformed. `PRAGMA
quick_check` walks every page of every table and index, so whichever command opens a damaged
ledger says so before it reads or records anything. It costs a few milliseconds on a rig's
ledger (0.1 s for 100,000 events, about a second for a million on the slow test machine); a
process checks each file once, however often it opens it.

The advice it gives was followed by hand: `.dump` reads past the damaged page and keeps every
sound row (the log, when the damage is in a read model), and `replay` rebuilds the read models;
SQLite 3.40's `.recover` failed outright on the same file ("SQL logic error"), so it comes second.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from ...domain.errors import LedgerUnavailable

SHOWN = 1
"""Problems named in the one line (SQLite may list hundreds for one bad page)."""
BUSY_SIGNS = ("locked", "busy")
"""SQLite's words for a file another process holds: waited for, not damage."""

_sound: set[Path] = set()
"""The files this process found sound (a command may open its ledger more than once)."""


def check_sqlite_ledger(path: Path, where: str, timeout: float) -> None:
    """Raise LedgerUnavailable, in one line naming the file (`where` describes it) and the fix,
    when SQLite's own check finds the ledger file damaged. `timeout`: seconds to wait for a
    lock another process holds (a lock is not damage: the error is raised as it is)."""
    if path in _sound:
        return
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=timeout)) as db:
            problems = [row[0] for row in db.execute("PRAGMA quick_check(100)").fetchall()]
    except sqlite3.DatabaseError as error:  # "malformed", "not a database", or a held lock
        if isinstance(error, sqlite3.OperationalError) and any(s in str(error) for s in BUSY_SIGNS):
            raise
        problems = [str(error)]
    if problems == ["ok"]:
        _sound.add(path)
        return
    first = "; ".join(" ".join(str(p).split()) for p in problems[:SHOWN])
    more = f" (and {len(problems) - SHOWN} more)" if len(problems) > SHOWN else ""
    raise LedgerUnavailable(
        f"{where} is damaged: SQLite's check says {first}{more}; its records cannot be trusted. "
        "Move it aside and restore a backup, or copy what is readable into a new file "
        "(`sqlite3 DAMAGED .dump | sqlite3 NEW`; `.recover` for worse damage), then run "
        "`labledger replay`"
    )
