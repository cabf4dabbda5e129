"""A whole-file check of an SQLite ledger, for the commands an operator trusts to say all is well.

SQLite finds a damaged page only when a query walks through it: a ledger with one page zeroed in
the middle of its log answered `status` from its views as if nothing were wrong, while `sync` and
`audit` (which read the log) called it malformed. `PRAGMA quick_check` walks every page of every
table and index (about half a second for a ledger of a million events, a few milliseconds for a
rig's usual one), so the reports and `sync` (the scheduled run whose exit status raises the
alarm) run it before they answer; commands that record one session's work do not pay it.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing

from ...domain.errors import LedgerUnavailable
from ..settings import Settings

SHOWN = 1
"""Problems named in the one line (SQLite may list hundreds for one bad page)."""


def check_sqlite_ledger(settings: Settings, where: str) -> None:
    """Raise LedgerUnavailable, in one line naming the file and the fix, when SQLite's own check
    of the ledger file (`where` describes it) finds it damaged; nothing when it is sound or the
    ledger is not an SQLite file."""
    if settings.store != "sqlite" or not settings.sqlite_path.is_file():
        return  # none yet, or a folder: opening the ledger says what is wrong with it
    try:
        with closing(sqlite3.connect(f"file:{settings.sqlite_path}?mode=ro", uri=True)) as db:
            problems = [row[0] for row in db.execute("PRAGMA quick_check(100)").fetchall()]
    except sqlite3.DatabaseError as error:
        problems = [str(error)]
    if problems == ["ok"]:
        return
    first = "; ".join(" ".join(str(p).split()) for p in problems[:SHOWN])
    more = f" (and {len(problems) - SHOWN} more)" if len(problems) > SHOWN else ""
    raise LedgerUnavailable(
        f"{where} is damaged: SQLite's check says {first}{more}; its records cannot be trusted. "
        "Move it aside and restore a backup (or recover what is readable with "
        "`sqlite3 FILE .recover`), then run `labledger replay`"
    )
