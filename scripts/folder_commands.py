"""`scan` and `history`: the commands that read session folders and what the ledger knows."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from ..domain.errors import LabledgerError
from .options import say, warner
from .output_flags import apply_wide

if TYPE_CHECKING:
    from rich.console import Console

    from ..adapters.settings import Settings


def scan(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    from ..adapters.database.event_store import open_ledger
    from ..adapters.executors import scan_options
    from ..adapters.filesystem.scan import scan as scan_sessions
    from ..adapters.filesystem.scan import session_folder
    from ..projections.left_out import left_out_lines, rejected_files
    from ..projections.render import print_lines, table, to_json
    from ..projections.table_layout import SCAN
    from ..projections.words import plural

    options = scan_options(settings)
    for path in args.sessions:  # a path refused (not a session, an unknown lab) changes nothing:
        session_folder(path, options)  # checked before the ledger file is made
    ledger = open_ledger(settings)
    errors = Console(stderr=True)
    with Progress(
        TextColumn("hashing {task.fields[files]}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
        disable=not errors.is_terminal,
    ) as bar:

        def progress(files: int, total: int) -> Callable[[int], None]:
            task = bar.add_task("hash", total=total, files=plural(files, "file"))
            return lambda done: bar.advance(task, done)

        summaries = scan_sessions(ledger, args.sessions, options, progress)
    for summary in summaries:
        lab = summary.session_key.split("/")[0]
        if settings.lab and lab != settings.lab and lab in settings.known_labs:
            warner()(
                f"{summary.session_key} belongs to lab {lab} (from its path), "
                f"not to this rig's lab {settings.lab}"
            )
    rows = [
        {
            "session": s.session_key,
            "new_or_changed": s.discovered,
            "rejected": s.rejected,
            "unchanged": s.unchanged,
        }
        for s in summaries
    ]
    if args.json:
        console.print_json(to_json(rows))
        return 0
    apply_wide(console, args)
    table(
        console, "scan", rows, ["session", "new_or_changed", "rejected", "unchanged"], layout=SCAN
    )
    if not args.quiet:
        print_lines(
            console, left_out_lines(rejected_files(ledger, [s.session_id for s in summaries]))
        )
    return 0


def history(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from ..adapters.database.event_store import open_ledger, settings_to_read
    from ..adapters.executors import scan_options
    from ..adapters.filesystem.scan import session_at
    from ..domain.dataset import Dataset
    from ..domain.ledger_queries import session_id_of
    from ..projections.render import history_lines, to_json
    from ..projections.summaries import summarize

    ref, _, rel_path = session_at(args.path, scan_options(settings))
    ledger = open_ledger(settings_to_read(settings))  # a report never creates a ledger
    session_id = session_id_of(ref)
    if rel_path:
        targets = {Dataset.create_id(session_id, rel_path): rel_path}
    else:
        targets = {session_id: ""}
        if args.files:
            session = ledger.find_session(ref)
            files = session.files if session else {}
            targets.update({Dataset.create_id(session_id, path): path for path in files})
    rows: list[dict[str, Any]] = []
    for aggregate_id, file in targets.items():
        entries = ledger.history(aggregate_id, summarize)
        rows.extend({"file": file, **asdict(entry)} for entry in entries)
    if not rows:
        raise LabledgerError(
            f"the ledger has no events for {args.path}; record it first with `labledger scan`"
        )
    rows.sort(key=lambda row: (row["timestamp"], row["file"], row["version"]))
    if args.json:
        console.print_json(to_json(rows))
    else:
        for line in history_lines(rows):
            say(console, line)
    return 0
