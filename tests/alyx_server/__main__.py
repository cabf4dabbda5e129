"""Run the Alyx test server on its own, to try labledger's online commands without a lab's Alyx.

From the clone's root (it is test tooling: the installed package does not carry it):

    .venv/bin/python -m tests.alyx_server --port 8000

It listens on 127.0.0.1 only, prints the user and password to log in with and the settings that
point labledger at it, then `ready: <url>`, then one line per request it receives, until Ctrl-C.
Its database lives in memory: a new start is a fresh Alyx. The reference data come from
`../shared/fixtures/alyx` beside the clone when it is there, else from the lists labledger
packages (`tests.alyx_server.seed`), so it runs from a fresh clone. `--faults 0.3 --seed 1` makes
about 30 % of the requests meet a fault (503, a dropped connection, a reply lost after acting),
the same ones at every start with the same seed.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from tests.alyx_server.faults import LoggedRequest, RequestLog
from tests.alyx_server.seed import packaged_fixtures
from tests.alyx_server.server import AlyxTestServer
from tests.alyx_server.state import TEST_PASSWORD, TEST_USER, AlyxState, Fixtures
from tests.fixture_paths import ALYX_FIXTURES

DEFAULT_PORT = 8000
PACKAGED = "packaged"
# The server matches file names to dataset types with ONE's own ALF parser, as Alyx does, so it
# needs one-api, which only the test extra installs (the README's command (a) does not).
INSTALL_TEST_EXTRA = ".venv/bin/pip install -q -e '.[test]'"


class _EchoedLog(RequestLog):
    """The request log that also prints each request as it arrives.

    Each line goes out in one write under a lock: `print` from the server's request threads
    writes the text and its newline separately, so two requests at once could share a line
    (`POST /register-filePOST /register-file`) and a reader counting lines would miss one."""

    _printing = threading.Lock()

    def append(self, entry: LoggedRequest) -> None:
        super().append(entry)
        fault = f"  (fault: {entry.fault})" if entry.fault else ""
        with self._printing:
            sys.stdout.write(f"{entry.line}{fault}\n")
            sys.stdout.flush()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tests.alyx_server",
        description="A local Alyx 3.6.1 stand-in for trying labledger without a lab: in memory, "
        "on 127.0.0.1 only, until Ctrl-C.",
        epilog="example: .venv/bin/python -m tests.alyx_server --port 8000 --faults 0.3 --seed 1",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port on 127.0.0.1 (default {DEFAULT_PORT}; 0 picks a free one, printed at start)",
    )
    parser.add_argument(
        "--fixtures",
        default=None,
        metavar=f"DIR|{PACKAGED}",
        help="Alyx fixture folder, or 'packaged' for the reference data labledger ships "
        f"(default: {ALYX_FIXTURES} when it exists, else 'packaged')",
    )
    parser.add_argument(
        "--faults",
        type=float,
        default=0.0,
        metavar="RATE",
        help="share of requests, 0 to 1, that meet a fault: 503, dropped connection, lost reply "
        "(default 0)",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the random faults (default 1)")
    return parser


def _fixtures(choice: str | None) -> tuple[Path | Fixtures, str]:
    """The fixtures to load and how to name them at start."""
    if choice is None:
        choice = str(ALYX_FIXTURES) if ALYX_FIXTURES.is_dir() else PACKAGED
    if choice == PACKAGED:
        return packaged_fixtures(), "the reference data packaged with labledger"
    folder = Path(choice)
    if not folder.is_dir():
        raise SystemExit(f"alyx test server: --fixtures {folder} is not a folder")
    return folder, str(folder)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:  # what `AlyxState` imports when it first matches a file name
        for module in ("one.alf.path", "one.alf.spec"):
            importlib.import_module(module)
    except ModuleNotFoundError:
        print(
            "alyx test server: it needs the test dependencies (one-api), which are not "
            f"installed; run {INSTALL_TEST_EXTRA} in the clone's folder, then start it again",
            file=sys.stderr,
        )
        return 1
    if not 0 <= args.faults <= 1:
        raise SystemExit(f"alyx test server: --faults is between 0 and 1, not {args.faults}")
    fixtures, source = _fixtures(args.fixtures)
    server = AlyxTestServer(AlyxState(fixtures), port=args.port)
    server.requests = _EchoedLog()
    if args.faults:
        server.faults.at_random(args.faults, args.seed)
    try:
        server.start()
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        print(
            f"alyx test server: port {args.port} is in use; give another with --port "
            "(0 picks a free one)",
            file=sys.stderr,
        )
        return 1
    url = server.base_url
    faults = (
        f"about {args.faults:.0%} of requests (503, dropped connection, lost reply), "
        f"seed {args.seed}"
        if args.faults
        else "none"
    )
    print(
        f"Alyx 3.6.1 test server at {url} (127.0.0.1 only; its data live in memory)\n"
        f"  log in as {TEST_USER}, password {TEST_PASSWORD}\n"
        "  lab cortexlab; subjects algernon and ZM_1085; project main\n"
        f"  fixtures: {source}\n"
        f"  faults: {faults}\n"
        "labledger's settings for it (in another shell), with a ledger of its own in try/:\n"
        f"  export LABLEDGER_LAB=cortexlab LABLEDGER_ALYX_USER={TEST_USER} "
        "LABLEDGER_SQLITE_PATH=try/ledger.sqlite3\n"
        f"  export LABLEDGER_ALYX__BASE_URL={url} LABLEDGER_ALYX__USERNAME={TEST_USER} "
        f"LABLEDGER_ALYX__PASSWORD={TEST_PASSWORD}\n"
        f"ready: {url} (Ctrl-C stops it; each request is listed below)",
        flush=True,
    )
    # Ctrl-C stops it even when started in the background, where a shell ignores SIGINT
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
