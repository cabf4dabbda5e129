"""`WatchdogService`: clabe's `WatchdogDataTransferService` operations for rig launchers,
recorded in the ledger as `labledger transfer` and `labledger watchdog ...` record them.

A launcher that called clabe::

    service = WatchdogDataTransferService(source, settings, session)
    service.transfer()

calls instead::

    from labledger import WatchdogService

    service = WatchdogService()                 # labledger's settings (and clabe's files)
    service.transfer(session_folder, acquired=session_start)

`transfer`, `validate`, `is_running`, `force_restart` and `dump_manifest_config` keep clabe's
names and meanings; what differs is said in each docstring. The same use cases serve the command
line (`adapters.watchdog_handover`), so both record the same events.
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import os
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

from ..domain.errors import LabledgerError
from ..domain.ledger import Ledger
from ..domain.outcomes import SyncResult
from ..domain.watchdog import WatchdogService as ServiceRecord
from .database.event_store import open_ledger
from .database.views import Views, open_views
from .filesystem.atomic import write_atomically
from .filesystem.user_dirs import expand_user
from .identity import entered
from .settings import Settings, load_settings
from .watchdog.checks import service_checks
from .watchdog.overrides import TransferOverrides
from .watchdog.process import find_service
from .watchdog.restart import this_machine
from .watchdog.service_config import service_paths
from .watchdog_handover import (
    RESTART_NOTE,
    ServiceNotStarted,
    TransferRun,
    restart,
    settings_warnings,
    status_rows,
    transfer,
)

Method = TypeVar("Method", bound=Callable[..., Any])
MANIFEST_MODE = 0o644
PACKAGE = str(Path(__file__).resolve().parent.parent)


def _caller_level() -> int:
    """The `stacklevel` of the launcher's line that called into labledger: a warning names it."""
    level, frame = 1, inspect.currentframe()
    while frame is not None and frame.f_code.co_filename.startswith(PACKAGE):
        frame, level = frame.f_back, level + 1
    return level - 1


def _entry_point(method: Method) -> Method:
    """Each public call records who acts, on which host, with which labledger (unless the caller
    already established it): a launcher needs no set-up before calling."""

    @functools.wraps(method)
    def call(self: WatchdogService, *args: Any, **kwargs: Any) -> Any:
        with entered(self.settings.alyx_user or self.settings.alyx.username):
            return method(self, *args, **kwargs)

    return cast(Method, call)


class WatchdogService:
    """Hand sessions to aind-watchdog-service and look after the service, as clabe's
    `WatchdogDataTransferService` does, with every hand-over and restart in the ledger.

    Unlike clabe's, one object serves every session: the session is given to `transfer`, not to
    the constructor. Settings come from labledger's settings file, the `watchdog:` section of
    clabe's `clabe.yml` files and the `LABLEDGER_*` variables, or `settings`; the service's
    executable and config from those settings or WATCHDOG_EXE / WATCHDOG_CONFIG, which clabe
    requires. `validate=True` runs `validate()` at once, as clabe's does (its result is kept in
    `last_checks`).

    `warnings` collects what the operator should read (each is also a Python warning);
    `last_results` says what the last call did, line by line.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        ledger: Ledger | None = None,
        *,
        validate: bool = False,
    ) -> None:
        self.settings = settings or load_settings()
        self.ledger = ledger or open_ledger(self.settings)
        self.warnings: list[str] = []
        self.last_results: list[SyncResult] = []
        """What the last `transfer` or `force_restart` did or queued, one line per action."""
        self.last_checks: list[dict[str, str]] = []
        """The rows of the last `validate()`: check, result (ok / warning / failed), detail."""
        self.last_manifest: str | None = None
        """The YAML text of the manifest the last `transfer` planned (also in a dry run)."""
        self._last_path: Path | None = None
        self._last_run: TransferRun | None = None
        self._views: Views | None = None
        for message in settings_warnings(self.settings):
            self._warn(message)
        if validate:
            self.validate()

    # -- clabe's operations --------------------------------------------------------------------

    @_entry_point
    def transfer(
        self,
        session: str | os.PathLike[str],
        *,
        acquired: str | dt.datetime | None = None,
        force: bool = False,
        dry_run: bool = False,
        platform: str | None = None,
        data_description_tags: str | Sequence[str] | None = None,
        user_email: str | None = None,
        name: str | None = None,
        destination: str | None = None,
    ) -> Path | None:
        """Hand the scanned session folder `session` to the watchdog: plan its manifest, start
        the service if it is not running, record the intent, write the manifest into the
        service's `flag_dir` (atomically, once) and record its sha256.

        Returns the manifest's path in `flag_dir`, or None when the emission is queued (the
        folder is not there yet: `labledger sync` writes it later) and in a dry run, where
        nothing is recorded or written (`last_manifest` holds the text). clabe's returns None.

        `acquired`: when the session was acquired (clabe's `session.date`): a datetime, an ISO
        date-time or HH:MM:SS on the session's date; default the Alyx start time the ledger
        recorded, else midnight with a warning. `force` emits a session again (the service then
        copies and uploads it again). The other keywords replace the `watchdog:` setting of that
        name for this session only: `platform`, `data_description_tags` (replace, not add to,
        the settings' tags), `user_email` (clabe looks it up from the experimenter), `name` (the
        manifest's name: clabe's `<subject>_<YYYY-MM-DDTHHMMSS>` is accepted, with a warning
        when it is not the AIND data name the transfer service gives the cloud asset) and
        `destination` (used as given: no `<subject>` folder is added below it).

        Raises `LabledgerError` (one line naming the fix) where clabe raises `RuntimeError`
        ("Failed to start watchdog service."), `ValueError` or a validation error: a session not
        scanned, a check the manifest fails, a service that cannot be started (with its last
        lines of output), a second emission without `force`, a manifest that cannot be written.
        """
        when = acquired.isoformat() if isinstance(acquired, dt.datetime) else acquired
        overrides = TransferOverrides.checked(
            lambda key: f"{key}=",
            platform=platform,
            data_description_tags=data_description_tags,
            user_email=user_email,
            name=name,
            destination=destination,
        )
        run = transfer(
            self._open_views(),
            self.settings,
            Path(session),
            self._warn,
            acquired=when,
            overrides=overrides,
            force=force,
            dry_run=dry_run,
        )
        self._last_run, self._last_path = run, None
        self.last_results = run.results
        self.last_manifest = run.plan.manifest.render().decode("utf-8")
        if dry_run:
            return None
        return self._emitted(run)

    def validate(self) -> bool:
        """Every check of `labledger watchdog validate`: the executable, the service's config,
        `flag_dir` and `manifest_complete`, stray files, the process, the transfer settings and
        the project name. True when none failed and the service runs.

        clabe's stops at the first problem, raising `FileNotFoundError` for a missing executable
        or config and an HTTP error when the metadata service fails; here each problem is a
        failed row of `last_checks` (and a warning), and the result is False."""
        self.last_checks = service_checks(self.settings.watchdog)
        for row in self.last_checks:
            if row["result"] != "ok":
                self._warn(f"watchdog {row['check']}: {row['detail']}")
        failed = any(row["result"] == "failed" for row in self.last_checks)
        return not failed and self.is_running()

    def is_running(self) -> bool:
        """Whether the service's executable runs on this machine (on any OS: clabe's asks
        `tasklist`, which only Windows has). Raises when the executable is not configured or
        missing, as clabe's constructor does."""
        executable = service_paths(self.settings.watchdog).require_executable()
        return bool(find_service(executable))

    @_entry_point
    def force_restart(self, kill_if_running: bool = True) -> int:
        """Stop the service and start `<executable> -c <config>` again, from an argument list
        (never a shell), recorded as `labledger watchdog restart` records it; returns the new
        process id (clabe's returns the `Popen` of a shell it does not watch).

        With `kill_if_running=False` a running service is left alone and its process id is
        returned (clabe's would start a second service beside it, and both would act on every
        manifest). A service that exits at once raises `LabledgerError` with its last lines of
        output (the whole of it is in the `service output` file `status()` names)."""
        if not kill_if_running:
            running = find_service(service_paths(self.settings.watchdog).require_executable())
            if running:
                self.last_results = []
                return running[0].pid
        self._warn(RESTART_NOTE)
        self.last_results = restart(self._open_views(), self.settings)
        failed = [result for result in self.last_results if result.outcome != "done"]
        if failed:
            raise ServiceNotStarted(
                f"the watchdog service did not start: {failed[0].detail}; fix that and call "
                "force_restart() again"
            )
        for entry in reversed(self.ledger.history(ServiceRecord.create_id(this_machine()))):
            if entry.event == "WatchdogService.Restarted":
                return int(entry.details["pid"])
        raise LabledgerError("the restart left no record; run `labledger watchdog status`")

    def dump_manifest_config(
        self, path: str | os.PathLike[str] | None = None, make_dir: bool = True
    ) -> Path:
        """Write a copy of the last planned manifest (from `transfer`, dry run included) to
        `path`, atomically; returns where it went. A folder as `path` (one that exists, or a
        name without a suffix) gets `manifest_<name>.yml` inside it.

        Without `path`, nothing is written and the manifest `transfer` wrote into `flag_dir`
        is returned. clabe's writes into `flag_dir` there (that is its `transfer()`); a copy in
        `flag_dir` would be a second emission the service copies and uploads again, so a
        `path` inside `flag_dir` is refused: use `transfer(..., force=True)`. clabe also
        rewrites the suffix to `.yaml` and adds a `manifest_` prefix; here `path` is used as
        given."""
        run = self._last_run
        if run is None or self.last_manifest is None:
            raise LabledgerError(
                "no manifest planned yet: call transfer(session) first (dry_run=True writes "
                "nothing into flag_dir)"
            )
        if path is None:
            if self._last_path is None:
                raise LabledgerError(
                    "the last transfer wrote no manifest into flag_dir; give a path to write "
                    "a copy to"
                )
            return self._last_path
        target = expand_user(Path(path)).absolute()
        if target.is_dir() or not target.suffix:
            target = target / run.plan.manifest.file_name
        watch = run.plan.watch
        if watch is not None and target.parent.resolve() == watch.flag_path.resolve():
            raise LabledgerError(
                f"{target} is in the service's flag_dir: the service would copy and upload it "
                "as another emission; write the copy elsewhere, or use transfer(session, "
                "force=True)"
            )
        if not make_dir and not target.parent.is_dir():
            raise LabledgerError(f"folder {target.parent} does not exist; create it first")
        write_atomically(target, self.last_manifest, mode=MANIFEST_MODE)
        return target

    # -- labledger's additions -----------------------------------------------------------------

    def status(self) -> list[dict[str, str]]:
        """The rows of `labledger watchdog status`: where the service is, whether it runs, what
        waits for it, its last recorded restart and where its output goes."""
        return status_rows(self._open_views(), self.settings)

    # -- helpers -------------------------------------------------------------------------------

    def _open_views(self) -> Views:
        if self._views is None:
            self._views = open_views(self.settings, self.ledger)
        return self._views

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        warnings.warn(message, UserWarning, stacklevel=_caller_level())

    def _emitted(self, run: TransferRun) -> Path | None:
        failed = [result for result in run.results if result.outcome == "failed"]
        if failed:
            raise LabledgerError(f"{failed[0].target}: {failed[0].action}: {failed[0].detail}")
        path = self.ledger.session(run.session.id).manifest_path
        emitted = any(r.action == "emit manifest" and r.outcome == "done" for r in run.results)
        self._last_path = Path(path) if emitted and path is not None else None
        return self._last_path
