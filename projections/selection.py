"""Which sessions an operator means: a folder, a key (or its tail), or an Alyx eid. Pure.

Reports take sessions as operators name them: the folder on the rig (`.../algernon/2026-11-21/001`,
relative or absolute, or a file inside it), the key `lab/subject/date/number` or its end
`algernon/2026-11-21/001`, or the eid Alyx gave the session.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePath

from ..domain.errors import LabledgerError
from .rows import SessionRow


def matches(session: SessionRow, text: str, paths: Sequence[PurePath]) -> bool:
    """True when `text` (or one of `paths`, the same text as an absolute path: as written, and
    with symbolic links resolved) names this session."""
    key = session.key
    if text in (key, session.eid, session.id) or key.endswith("/" + text.strip("/")):
        return True
    folder = PurePath(session.folder)
    return bool(session.folder) and any(path == folder or folder in path.parents for path in paths)


def select_sessions(
    sessions: Sequence[SessionRow],
    wanted: Sequence[str],
    paths: Sequence[Sequence[PurePath]],
    folders: frozenset[str] = frozenset(),
) -> list[SessionRow]:
    """The sessions named, in ledger order; a name that matches none is refused. `folders`: the
    names that are folders on this disk (a session folder never scanned is not a typo: it is
    named as such, with the command that records it)."""
    chosen: set[str] = set()
    for text, path in zip(wanted, paths, strict=True):
        found = [session.id for session in sessions if matches(session, text, path)]
        if not found and text in folders:
            raise LabledgerError(
                f"the folder {text!r} is not in the ledger yet; record it first with "
                f"`labledger scan {text}` (or `labledger register {text}`, which also "
                "registers it on Alyx)"
            )
        if not found:
            raise LabledgerError(
                f"no session {text!r} in the ledger; give a session folder, its key "
                "(lab/subject/date/number) or its Alyx eid, as `labledger status` lists them"
            )
        chosen.update(found)
    return [session for session in sessions if session.id in chosen]
