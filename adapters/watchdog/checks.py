"""What `labledger watchdog validate` and `status` report: checks and facts about the service.

clabe's `validate()` stops at the first problem and only on request; here every check runs and
gives one row (ok / warning / failed), so an operator sees all that is wrong at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from ...domain.collection_modalities import collection_table
from ...domain.errors import LabledgerError
from ...domain.ledger import Ledger
from ...domain.watchdog import WatchdogService
from ...projections.reports import short_time
from ..database.views import Views
from .folders import check_flag_dir, check_staging_dir
from .modalities import modality_names
from .process import find_service
from .projects import check_project_name
from .restart import this_machine
from .service_config import (
    ServicePaths,
    WatchConfig,
    read_watch_config,
    service_paths,
)
from .settings import WatchdogSettings

Row = dict[str, str]
MANIFEST_SUFFIXES = (".yml", ".yaml")


class _Checks:
    def __init__(self) -> None:
        self.rows: list[Row] = []

    def add(self, check: str, result: str, detail: str) -> None:
        self.rows.append({"check": check, "result": result, "detail": detail})

    def attempt(self, check: str, step: Callable[[], Path]) -> Path | None:
        try:
            path = step()
        except LabledgerError as error:
            self.add(check, "failed", str(error))
            return None
        self.add(check, "ok", str(path))
        return path


def service_checks(
    settings: WatchdogSettings, environ: Mapping[str, str] | None = None
) -> list[Row]:
    """Executable, configuration, folders, process, transfer settings, project name."""
    checks = _Checks()
    paths = service_paths(settings, environ)
    executable = checks.attempt("executable", paths.require_executable)
    config = checks.attempt("config", paths.require_config)
    watch = _watch_config(checks, config)
    if watch is not None:
        _check_folders(checks, watch, settings)
    if executable is not None:
        running = find_service(executable)
        pids = ", ".join(str(process.pid) for process in running)
        checks.add(
            "process",
            "ok" if running else "warning",
            f"running as pid {pids}"
            if running
            else "not running; start it with `labledger watchdog restart`",
        )
    try:
        options = settings.transfer_options()
        checks.add(
            "transfer settings",
            "ok",
            f"project {options.project_name}, destination {options.destination}, "
            f"endpoint {options.transfer_endpoint or 'null (no upload)'}",
        )
    except LabledgerError as error:
        checks.add("transfer settings", "failed", str(error))
    try:
        placement = collection_table(settings.collection_modalities or {}, modality_names())
        checks.add("collections", "ok", placement)
    except LabledgerError as error:
        checks.add("collections", "failed", str(error))
    if settings.project_name:
        url = settings.metadata_service_url
        try:
            check_project_name(settings.project_name, url, settings.metadata_timeout)
            checks.add("project name", "ok", f"{settings.project_name} is known to {url}")
        except LabledgerError as error:
            checks.add("project name", "failed", str(error))
    return checks.rows


def _watch_config(checks: _Checks, config: Path | None) -> WatchConfig | None:
    if config is None:
        return None
    try:
        return read_watch_config(config)
    except LabledgerError as error:
        checks.rows[-1] = {"check": "config", "result": "failed", "detail": str(error)}
        return None


def _check_folders(checks: _Checks, watch: WatchConfig, settings: WatchdogSettings) -> None:
    for label, folder in (
        ("flag_dir", watch.flag_path),
        ("manifest_complete", watch.complete_path),
    ):
        if not folder.is_dir():
            checks.add(
                label, "warning", f"{folder} does not exist; the service creates it at start"
            )
        elif label == "flag_dir":
            checks.attempt(label, lambda: check_flag_dir(watch))
        else:
            checks.add(label, "ok", str(folder))
    staging = watch.staging_path(settings)
    if staging.is_dir() and watch.flag_path.is_dir():
        checks.attempt("staging_dir", lambda: check_staging_dir(watch, settings))
    else:
        checks.add("staging_dir", "ok", f"{staging} (created by the first transfer)")
    if watch.flag_path.is_dir():
        strays = sorted(
            path.name
            for path in watch.flag_path.glob("*manifest*.*")
            if path.suffix.lower() not in MANIFEST_SUFFIXES
        )
        if strays:
            checks.add(
                "stray files",
                "warning",
                f"{', '.join(strays)} in flag_dir will be loaded as manifests at the next "
                "start; move them out",
            )


def waiting_manifests(flag_dir: Path) -> list[Path]:
    """Manifests the service has not completed (or not picked up) yet."""
    if not flag_dir.is_dir():
        return []
    return sorted(
        path
        for path in flag_dir.iterdir()
        if "manifest" in path.name and path.suffix.lower() in MANIFEST_SUFFIXES
    )


def service_status(
    settings: WatchdogSettings, views: Views, environ: Mapping[str, str] | None = None
) -> list[dict[str, str]]:
    """Where the service is, whether it runs, what waits for it, and its last recorded restart."""
    paths = service_paths(settings, environ)
    rows = _located(paths)
    if paths.executable.path is not None and paths.executable.path.is_file():
        running = find_service(paths.executable.path)
        rows["process"] = (
            ", ".join(f"pid {p.pid}: {p.command}" for p in running) if running else "not running"
        )
    if paths.config.path is not None:
        try:
            watch = read_watch_config(paths.config.path)
        except LabledgerError as error:
            rows["config"] = str(error)
        else:
            rows["flag_dir"] = watch.flag_dir
            rows["manifest_complete"] = watch.manifest_complete
            rows["structured_log_file"] = str(watch.structured_log_file or "")
            rows["manifests waiting"] = str(len(waiting_manifests(watch.flag_path)))
    awaiting = views.handovers()
    rows["transfers not confirmed"] = ", ".join(h.session_key for h in awaiting) or "none"
    rows["last restart"] = _last_restart(views.ledger)
    return [{"item": item, "value": value} for item, value in rows.items()]


def _located(paths: ServicePaths) -> dict[str, str]:
    rows = {}
    for item, located in (("executable", paths.executable), ("config", paths.config)):
        rows[item] = (
            f"{located.path} (from {located.source})" if located.path is not None else "not set"
        )
    return rows


def _last_restart(ledger: Ledger) -> str:
    history = ledger.history(WatchdogService.create_id(this_machine()))
    for entry in reversed(history):
        if entry.event in ("WatchdogService.Restarted", "WatchdogService.RestartFailed"):
            details = ", ".join(f"{key} {value}" for key, value in entry.details.items())
            return f"{short_time(entry.timestamp)} {entry.event.split('.')[-1]} ({details})"
    return "none recorded"
