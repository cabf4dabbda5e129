"""The arguments of the reports (status, audit, pending, replay, project), with their help and
examples; what each does is in `report_commands`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from . import report_commands
from .command_parser import SESSION, examples, number, unknown, whole_number
from .options import add_global_options
from .output_flags import add_wide


def add_commands(commands: Any) -> None:
    status = commands.add_parser(
        "status",
        help="per session: files discovered, rejected, registered, protected, moved; Alyx eid, "
        "transfer, pending work and the latest error",
        description="One row per session. discovered: valid files (registered or not); "
        "registered: on Alyx as they are now; protected: files that met a protected revision; "
        "moved: files moved into a revision folder; pending: intents sync has still to perform.",
        epilog=examples(
            "labledger status",
            f"labledger status {SESSION}   # or its key, or its Alyx eid",
            "labledger status --html -o status.html",
        ),
    )
    _sessions_argument(status, "only these sessions (default: all)")
    _output_options(status)
    status.set_defaults(handler=report_commands.run_status)

    audit = commands.add_parser(
        "audit",
        help="who did what, when and from which host (filter by session, subject, user, time, "
        "kind)",
        description="The audit trail: every event with its Alyx and OS user, host, tool version "
        "and operation. Times are UTC; --since/--until take ISO dates or times (local time "
        "unless an offset is given; a date-only --until includes that day).",
        epilog=examples(
            "labledger audit --subject algernon --since 2026-11-21",
            "labledger audit --kind RegistrationFailed --kind Rejected",
            "labledger audit --user olivier --since 2026-11-21T09:00 --until 2026-11-21T12:00",
            "labledger audit --limit 20 --csv -o audit.csv",
        ),
    )
    audit.add_argument(
        "--session",
        action="append",
        default=[],
        metavar="SESSION",
        help="a session folder, key (lab/subject/date/number) or Alyx eid (repeat for several)",
    )
    audit.add_argument(
        "--subject",
        action="append",
        default=[],
        help="a subject's nickname, e.g. algernon (repeat for several)",
    )
    audit.add_argument(
        "--user", action="append", default=[], help="Alyx or OS user name (repeat for several)"
    )
    audit.add_argument(
        "--since", metavar="TIME", help="from this time, inclusive: 2026-11-21 or 2026-11-21T09:30"
    )
    audit.add_argument(
        "--until", metavar="TIME", help="up to this time, exclusive (a date alone: to its end)"
    )
    audit.add_argument(
        "--kind",
        action="append",
        default=[],
        type=audit_kind,
        help="intent, outcome, fact, or an event name such as Registered or "
        "Session.RegistrationFailed (repeat for several)",
    )
    audit.add_argument("--limit", type=whole_number, metavar="N", help="only the latest N events")
    _output_options(audit)
    audit.set_defaults(handler=report_commands.run_audit)

    pending = commands.add_parser(
        "pending",
        help="everything `labledger sync` would do, in the order it would do it",
        description="The pending work, numbered in the order sync performs it: Alyx first, "
        "session by session (the session, its moves into revision folders, its files), then "
        "weighings and water, then the watchdog's manifests, a service restart last. Each step "
        "says since when it waits, who asked, failed attempts, what it waits for and the last "
        "error.",
        epilog=examples(
            "labledger pending",
            f"labledger pending {SESSION}",
            "labledger pending --json   # with each step's operation id, for `labledger retry`",
        ),
    )
    _sessions_argument(pending, "only the work of these sessions (default: all)")
    _output_options(pending)
    pending.set_defaults(handler=report_commands.run_pending)

    replay = commands.add_parser(
        "replay",
        help="rebuild the reports' read models from the first event of the log",
        description="Forgets the read models and folds the whole log again, a page per "
        "transaction. The result equals what the incremental updates built; use it after an "
        "upgrade that changes a report, or to check.",
        epilog=examples("labledger replay", "labledger replay --store postgres"),
    )
    add_global_options(replay)
    replay.set_defaults(handler=report_commands.run_replay)

    project = commands.add_parser(
        "project",
        help="bring the read models up to date with the log (--follow: keep them current)",
        description="Folds the events recorded since the last update. With --follow (PostgreSQL "
        "only) it keeps doing so as other rigs write, through eventsourcing's projection runner, "
        "until interrupted.",
        epilog=examples(
            "labledger project",
            "labledger project --store postgres --follow   # as a service, until stopped",
            "labledger project --store postgres --follow --timeout 60",
        ),
    )
    project.add_argument(
        "--follow", action="store_true", help="keep following new events (PostgreSQL)"
    )
    project.add_argument(
        "--timeout",
        type=number,
        metavar="SECONDS",
        help="with --follow: stop after this long (default: until Ctrl-C)",
    )
    add_global_options(project)
    project.set_defaults(handler=report_commands.run_project)


def _sessions_argument(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument(
        "sessions",
        nargs="*",
        metavar="SESSION",
        help=f"a session folder, key (lab/subject/date/number) or Alyx eid; {help_text}",
    )


def _output_options(parser: argparse.ArgumentParser) -> None:
    formats = parser.add_mutually_exclusive_group()
    formats.add_argument("--json", action="store_true", help="JSON: every field of every row")
    formats.add_argument("--csv", action="store_true", help="CSV: every field of every row")
    formats.add_argument(
        "--html",
        action="store_true",
        help="one self-contained HTML page with a timeline per session",
    )
    parser.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write to FILE instead of the terminal"
    )
    add_wide(parser)
    add_global_options(parser)


def audit_kind(text: str) -> str:
    """A `--kind` value, checked as it is parsed (a usage error, exit 2, when unknown) against
    the kinds and the ledger's event names, by class name or with its aggregate (`Registered`,
    `Session.Registered`). The event classes are imported only when --kind is given."""
    from ..domain.event_catalog import event_classes
    from ..projections.audit_query import KINDS

    events = sorted({cls.__qualname__ for cls in event_classes().values()})
    short = sorted({name.rpartition(".")[2] for name in events})
    if text in KINDS or text in events or text in short:
        return text
    listing = f"{', '.join(KINDS)}, or an event name: {', '.join(short)} (or Aggregate.Name)"
    raise argparse.ArgumentTypeError(unknown("kind", text, [*KINDS, *short, *events], listing))
