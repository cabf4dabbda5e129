"""The arguments of Alyx's commands (new-session, register, check-protected, weigh, water), with
their help and examples; what each does is in `alyx_commands`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from . import alyx_commands
from .command_parser import SESSION, calendar_date, examples, number, whole_number
from .options import add_global_options
from .output_flags import add_quiet, add_wide

FLAG_GLOB = "**/create_me.flag"
AGAIN_HELP = (
    "record another one even if the same value was recorded moments ago (without --date-time, "
    "the same measurement within 10 minutes is taken to be a re-run and not recorded twice)"
)


def _session_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("session fields (only those given are sent or changed)")
    group.add_argument(
        "--users", nargs="+", metavar="USER", help="who ran the session (default: the Alyx user)"
    )
    group.add_argument(
        "--start-time", metavar="ISO", help="start, local time without offset: 2026-11-21T09:30"
    )
    group.add_argument(
        "--end-time", metavar="ISO", help="end, local time without offset: 2026-11-21T10:45"
    )
    group.add_argument(
        "--procedures", nargs="+", metavar="NAME", help="Alyx procedures, e.g. 'Behavior training'"
    )
    group.add_argument(
        "--projects", nargs="+", metavar="NAME", help="Alyx projects, e.g. ibl_neuropixel"
    )
    group.add_argument("--location", metavar="NAME", help="the rig's Alyx location")
    group.add_argument(
        "--task-protocol", metavar="TEXT", help="the task and its version, e.g. _iblrig_tasks_v8"
    )
    group.add_argument(
        "--type", dest="session_type", metavar="TYPE", help="session type (default Experiment)"
    )
    group.add_argument("--n-trials", type=whole_number, metavar="N", help="number of trials")
    group.add_argument(
        "--n-correct-trials", type=whole_number, metavar="N", help="number of correct trials"
    )
    group.add_argument("--narrative", metavar="TEXT", help="free-text notes on the session")
    group.add_argument(
        "--session-json", metavar="JSON", help='the session\'s json field: \'{"rig": "b2"}\''
    )


def _file_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("file registration (ONE's register_files keywords)")
    group.add_argument(
        "--versions", nargs="+", metavar="V", help="one version for all files, or one per file"
    )
    group.add_argument("--no-default", action="store_true", help="do not make them the default")
    group.add_argument("--server-only", action="store_true", help="records on server repos only")
    group.add_argument("--repository", metavar="NAME", help="data repository holding the files")
    group.add_argument(
        "--not-exists", action="store_true", help="the files are not yet in the repository"
    )
    group.add_argument(
        "--max-md5-size",
        type=whole_number,
        metavar="BYTES",
        help="send no md5 for files this big or more",
    )
    group.add_argument(
        "--field",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a further register-file field (labs, qc, hostname...), sent as given",
    )
    group.add_argument(
        "--refuse-protected",
        action="store_true",
        help="fail instead of moving a protected file into a new revision folder",
    )


def add_commands(commands: Any) -> None:
    new = commands.add_parser(
        "new-session",
        help="make the next numbered session folder of a subject, and register it",
        description="Takes the next number after those on this disk, in the ledger and on Alyx "
        "(when reachable), makes the folder and (unless --no-register) registers the session.",
        epilog=examples(
            "labledger new-session algernon --root cortexlab/Subjects",
            "labledger new-session algernon --root cortexlab/Subjects --date 2026-11-21",
            "labledger new-session algernon --root cortexlab/Subjects --no-register  # folder only",
        ),
    )
    new.add_argument("subject", help="the subject's nickname, e.g. algernon")
    new.add_argument(
        "--root",
        type=Path,
        required=True,
        metavar="FOLDER",
        help="the folder holding the subjects' folders, e.g. cortexlab/Subjects",
    )
    new.add_argument(
        "--date",
        type=calendar_date,
        metavar="YYYY-MM-DD",
        help="the session's date (default: today, local time)",
    )
    new.add_argument("--no-register", action="store_true", help="only make the folder")
    add_wide(new)
    _session_options(new)
    add_global_options(new)
    new.set_defaults(handler=alyx_commands.new_session)

    register = commands.add_parser(
        "register",
        help="register sessions and their files on Alyx (queued when offline)",
        description="Session folders (the session and all its files not yet registered as "
        "they are), files inside session folders (those files), or with --flags the roots to "
        "search for flag files (each flag's folder; the flag is removed once registered).",
        epilog=examples(
            f"labledger register {SESSION}",
            f"labledger register {SESSION}/alf/licks.times.npy   # one file",
            "labledger register --flags .   # every folder below with a create_me.flag",
            f"labledger register --dry-run --json {SESSION}",
        ),
    )
    register.add_argument(
        "paths",
        nargs="+",
        type=Path,
        metavar="PATH",
        help="a session folder, a file inside one, or with --flags a root to search",
    )
    register.add_argument("--flags", action="store_true", help="PATHs are roots with flag files")
    register.add_argument("--glob", default=FLAG_GLOB, help=f"flag pattern (default {FLAG_GLOB})")
    register.add_argument("--no-files", action="store_true", help="the session only, not its files")
    register.add_argument(
        "--dry-run", action="store_true", help="print the requests; record and send nothing"
    )
    register.add_argument("--json", action="store_true", help="print results as JSON")
    add_wide(register)
    add_quiet(register, "the files left out and why (listed under the results)")
    _session_options(register)
    _file_options(register)
    add_global_options(register)
    register.set_defaults(handler=alyx_commands.register_command)

    check = commands.add_parser(
        "check-protected",
        help="ask Alyx which files are protected and where each would go",
        description="Sends ONE's GET /check-protected per session and shows, per file, the "
        "existing revisions and the revision-table row that registering would apply.",
        epilog=examples(
            f"labledger check-protected {SESSION}",
            f"labledger check-protected --json {SESSION}/alf/licks.times.npy",
        ),
    )
    check.add_argument(
        "paths", nargs="+", type=Path, metavar="PATH", help="session folders or files inside them"
    )
    check.add_argument("--json", action="store_true", help="print the rows as JSON")
    add_wide(check)
    add_global_options(check)
    check.set_defaults(handler=alyx_commands.check_protected)

    weigh = commands.add_parser(
        "weigh",
        help="record a weighing (grams) on Alyx, once",
        description="Records the subject's weight in the ledger, then posts it to Alyx (queued "
        "when offline: `labledger sync` sends it). The same weighing typed again within 10 "
        "minutes is taken to be a re-run and not recorded twice.",
        epilog=examples(
            "labledger weigh algernon 24.3",
            "labledger weigh algernon 24.3 --date-time 2026-11-21T08:15 --user olivier",
        ),
    )
    weigh.add_argument("subject", help="the subject's nickname, e.g. algernon")
    weigh.add_argument("grams", type=number, help="the weight in grams, e.g. 24.3")
    weigh.add_argument("--date-time", metavar="ISO", help="local time (default: now)")
    weigh.add_argument("--user", help="who weighed (default: the Alyx user)")
    weigh.add_argument("--again", action="store_true", help=AGAIN_HELP)
    weigh.add_argument("--json", action="store_true", help="print the result as JSON")
    add_wide(weigh)
    add_global_options(weigh)
    weigh.set_defaults(handler=alyx_commands.weigh_command)

    water = commands.add_parser(
        "water",
        help="record a water administration (mL) on Alyx, once",
        description="Records water given to the subject in the ledger, then posts it to Alyx "
        "(queued when offline: `labledger sync` sends it). The same administration typed again "
        "within 10 minutes is taken to be a re-run and not recorded twice.",
        epilog=examples(
            "labledger water algernon 0.8",
            "labledger water algernon 0.8 --water-type 'Water 10% Sucrose'",
            f"labledger water algernon 0.8 --session {SESSION}   # or its eid",
            "labledger water algernon 1.5 --adlib",
        ),
    )
    water.add_argument("subject", help="the subject's nickname, e.g. algernon")
    water.add_argument("millilitres", type=number, help="the volume in mL, e.g. 0.8")
    water.add_argument(
        "--water-type",
        default="Water",
        metavar="TYPE",
        help="the water type as Alyx names it, e.g. 'Water 10%% Sucrose' (default: Water)",
    )
    water.add_argument(
        "--adlib", action="store_true", help="given ad libitum (free access), not measured out"
    )
    water.add_argument("--session", metavar="EID_OR_FOLDER", help="the session it belongs to")
    water.add_argument("--date-time", metavar="ISO", help="local time (default: now)")
    water.add_argument("--user", help="who gave it (default: the Alyx user)")
    water.add_argument("--again", action="store_true", help=AGAIN_HELP)
    water.add_argument("--json", action="store_true", help="print the result as JSON")
    add_wide(water)
    add_global_options(water)
    water.set_defaults(handler=alyx_commands.water_command)
