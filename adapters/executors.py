"""Which executors this installation has, built from the settings (the composition root).

The Alyx client and the executors are imported by the functions that build them: the offline
commands use `scan_options` only, and must not load the HTTP client (see scripts/cli.py).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

from ..domain.errors import LabledgerError
from ..domain.ledger_queries import session_id_of
from .alyx.reference_data import load_reference_data
from .filesystem.scan import ScanOptions, session_at
from .filesystem.user_dirs import default_data_dir
from .settings import Settings

if TYPE_CHECKING:
    from ..domain.outcomes import Executor
    from .alyx.client import AlyxClient
    from .alyx.sessions import Warn
    from .database.views import Views

LABS_FILE = "labs.json"


def reference_dir(settings: Settings) -> Path:
    """Where the server's dataset types, data formats and labs are cached for offline use."""
    return settings.reference_dir or default_data_dir() / "reference"


def scan_options(settings: Settings) -> ScanOptions:
    """How to classify files: the cached server lists (else the packaged Alyx 3.6.1 ones), and
    the labs Alyx knows besides the configured ones (a folder above `Subjects` must be a lab)."""
    cache = reference_dir(settings)
    labs_file = cache / LABS_FILE
    alyx_labs: list[str] = json.loads(labs_file.read_text()) if labs_file.is_file() else []
    return ScanOptions(
        lab=settings.lab,
        known_labs=[*settings.known_labs, *alyx_labs],
        reference=load_reference_data(cache if cache.is_dir() else None),
        workers=settings.hash_workers,
    )


def refresh_reference(settings: Settings, warn: Warn) -> None:
    """Fetch the server's dataset types, data formats and labs into the cache, when it answers.

    ONE fetches the lists whenever its client is built and cannot work offline; here a server
    that does not serve them (down, a login to fix, a 500 or a malformed list on one of these
    GETs) leaves the cache (or the packaged lists) in use, with a warning: the lists only
    classify files, and the registration itself then meets the server's own answer."""
    from .alyx.reference_data import fetch_labs, fetch_reference_data
    from .filesystem.atomic import write_if_changed

    cache = reference_dir(settings)
    try:
        with alyx_client(settings) as client:
            if client is None:
                return
            fetch_reference_data(client, cache)
            write_if_changed(cache / LABS_FILE, json.dumps(fetch_labs(client)), mode=0o644)
    except LabledgerError as error:
        kept = "cached" if cache.is_dir() and any(cache.iterdir()) else "packaged"
        warn(f"using the {kept} dataset types and labs: {error}")


def session_ids_of(paths: Sequence[Path], options: ScanOptions) -> frozenset[UUID]:
    """The ledger ids of the sessions of session folders or files given on the command line."""
    return frozenset(session_id_of(session_at(path, options)[0]) for path in paths)


def alyx_username(settings: Settings) -> str:
    """Who logs in to Alyx and is sent as `created_by` / `user`."""
    return settings.alyx.username or settings.alyx_user or ""


@contextmanager
def alyx_client(settings: Settings) -> Iterator[AlyxClient | None]:
    """A client of the configured Alyx, or None when none is configured (offline: queued)."""
    if settings.alyx.base_url is None:
        yield None
        return
    from .alyx.client import AlyxClient

    with AlyxClient(settings.alyx, alyx_username(settings)) as client:
        yield client


def local_today() -> str:
    """The rig's local date: the revision table names new revisions after it, as ONE does."""
    return dt.date.today().isoformat()


@contextmanager
def build_executors(settings: Settings, views: Views, warn: Warn) -> Iterator[list[Executor]]:
    """Every executor, in the order sync runs them; closed (connections) on exit."""
    from .alyx.intents import AlyxOnDemand, OfflineAlyx
    from .watchdog.emission import TransferExecutor
    from .watchdog.restart import RestartExecutor

    ledger = views.ledger
    with ExitStack() as stack:

        def open_alyx() -> Executor:
            from .alyx.client import AlyxClient
            from .alyx.executor import AlyxExecutor
            from .alyx.sessions import AlyxContext

            client = stack.enter_context(AlyxClient(settings.alyx, alyx_username(settings)))
            context = AlyxContext(ledger, client, alyx_username(settings), local_today, warn)
            return AlyxExecutor(context, settings.alyx.session_workers, views.pending_intents)

        executors: list[Executor] = []
        if settings.alyx.base_url is None:
            executors.append(OfflineAlyx())
        else:
            executors.append(AlyxOnDemand(open_alyx))
        executors.append(TransferExecutor(views, settings.watchdog, warn=warn))
        executors.append(RestartExecutor(ledger, settings.watchdog))
        yield executors
