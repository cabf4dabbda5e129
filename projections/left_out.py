"""What a scan or a registration left out (each rejected file with its reason, grouped by
reason), and what a registration found already done.

The reasons are the ledger's own (the `Rejected` event of each file, as `audit --kind Rejected`
shows them); this module reads them for a few sessions and lays them out under a command's
summary, a group per kind of reason, each group capped so a folder of 5000 stray files stays
readable.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from .words import plural

if TYPE_CHECKING:
    from ..domain.ledger_queries import LedgerQueries

KINDS = {
    "invalid-name": "not an ALF file name",
    "no-data-format": "no data format on Alyx has the extension",
    "several-data-formats": "several data formats on Alyx have the extension",
    "no-dataset-type": "no dataset type on Alyx matches the name",
    "several-dataset-types": "several dataset types on Alyx match the name",
    "symlink": "symbolic link",
    "not-a-file": "not a regular file",
    "hidden": "hidden file",
    "not-utf8": "name not valid UTF-8",
}
"""A rejection's code -> the heading of its group (a code not listed is its own heading)."""

PER_KIND = 5
"""Files listed per kind of reason; the rest are counted ("… and 12 more")."""


@dataclass(frozen=True)
class LeftOutFile:
    """A file of a session that cannot be registered, and why."""

    session: str
    """The session's key."""
    file: str
    """The file's path in its session folder."""
    code: str
    reason: str
    """The reason in full: it names the file and the fix."""


def rejected_files(ledger: LedgerQueries, session_ids: Iterable[UUID]) -> list[LeftOutFile]:
    """The files of these sessions that the last scan rejected, with the reason it recorded."""
    from ..domain.dataset import Dataset  # the aggregates only when something is listed

    found: list[LeftOutFile] = []
    for session_id in session_ids:
        session = ledger.find_session_by_id(session_id)
        if session is None:
            continue
        # the session notes each file's last verdict: only the rejected files are read
        paths = sorted(path for path, state in session.files.items() if state == "rejected")
        if not paths:
            continue
        datasets = ledger.aggregates(Dataset.create_id(session_id, path) for path in paths)
        for path in paths:
            dataset_id = Dataset.create_id(session_id, path)
            history = ledger.history(dataset_id)
            codes = [e.details.get("code") for e in history if e.event == "Dataset.Rejected"]
            code = str(codes[-1]) if codes and codes[-1] else "rejected"
            reason = datasets[dataset_id].rejection if dataset_id in datasets else None
            found.append(LeftOutFile(session.key, path, code, reason or code))
    return found


def left_out_lines(files: list[LeftOutFile], per_kind: int = PER_KIND) -> list[str]:
    """The files as lines under a summary: a heading, then per kind of reason its files (each
    with its full reason, after its session's key when several sessions are listed)."""
    if not files:
        return []
    several = len({file.session for file in files}) > 1
    groups: dict[str, list[LeftOutFile]] = {}
    for file in files:
        groups.setdefault(file.code, []).append(file)
    lines = [f"left out, not registered ({plural(len(files), 'file')}):"]
    for code, members in sorted(groups.items(), key=lambda item: (-len(item[1]), item[0])):
        lines.append(f"  {KINDS.get(code, code)} ({plural(len(members), 'file')}):")
        for file in members[:per_kind]:
            lines.append(f"    {file.session}: {file.reason}" if several else f"    {file.reason}")
        if len(members) > per_kind:
            lines.append(
                f"    … and {len(members) - per_kind} more "
                "(`labledger audit --kind Rejected` lists every one)"
            )
    return lines


def already_registered(ledger: LedgerQueries, session_ids: Iterable[UUID]) -> list[str]:
    """One line per session a registration found nothing to do for: its eid and its files."""
    lines = []
    for session_id in session_ids:
        session = ledger.session(session_id)
        known = ledger.known_files(session_id).values()
        done = sum(1 for f in known if f.state == "discovered" and not f.awaiting_registration)
        files = f", with {plural(done, 'file')} registered" if done else ""
        if session.eid:
            lines.append(
                f"{session.key}: already registered on Alyx as eid {session.eid}{files}; "
                "nothing to do"
            )
        else:
            lines.append(f"{session.key}: nothing to register")
    return lines
