"""Where the watchdog service is, and its own configuration (`WatchConfig`).

The executable and the configuration file come from the `watchdog:` settings or, when a setting
is absent, from WATCHDOG_EXE / WATCHDOG_CONFIG as clabe reads them. The configuration is YAML read
with safe_load; labledger needs `flag_dir`, `manifest_complete` and `structured_log_file` of it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from ...domain.errors import LabledgerError
from ..filesystem.user_dirs import expand_user
from ..settings_sources import env_name
from ..validation_words import plain_problem
from .settings import WatchdogSettings

EXE_ENV_VAR = "WATCHDOG_EXE"
CONFIG_ENV_VAR = "WATCHDOG_CONFIG"
STAGING_FOLDER = ".labledger-staging"
SERVICE_LOG_DEFAULT = (
    "C:\\ProgramData\\AIBS_MPE\\aind_watchdog_service\\logs\\aind_watchdog_service.log.jsonl"
)


class WatchdogNotConfigured(LabledgerError):
    """The settings do not say where the service's executable or configuration is."""


class InvalidWatchConfig(LabledgerError):
    """The service's configuration file is missing, unreadable or lacks a required key."""


@dataclass(frozen=True)
class Located:
    """A path and where it was named (for messages: the fix depends on the source)."""

    path: Path | None
    source: str
    """'watchdog.config in the settings', 'LABLEDGER_WATCHDOG__CONFIG', 'WATCHDOG_CONFIG' or
    'nowhere'."""


@dataclass(frozen=True)
class ServicePaths:
    executable: Located
    config: Located

    def require_executable(self) -> Path:
        return _require(self.executable, "executable", EXE_ENV_VAR, "the service's executable")

    def require_config(self) -> Path:
        return _require(self.config, "config", CONFIG_ENV_VAR, "the service's config YAML")


def service_paths(
    settings: WatchdogSettings, environ: Mapping[str, str] | None = None
) -> ServicePaths:
    """The executable and configuration locations: the setting if given, else the variable."""
    env = os.environ if environ is None else environ

    def locate(value: Path | None, key: str, variable: str) -> Located:
        if value is not None:  # the file's key, or its LABLEDGER_ variable (no flag sets it)
            variable_of_setting = env_name(("watchdog", key))
            if env.get(variable_of_setting):
                return Located(value, variable_of_setting)
            return Located(value, f"watchdog.{key} in the settings")
        if env.get(variable):
            return Located(expand_user(Path(env[variable])), variable)
        return Located(None, "nowhere")

    return ServicePaths(
        executable=locate(settings.executable, "executable", EXE_ENV_VAR),
        config=locate(settings.config, "config", CONFIG_ENV_VAR),
    )


def _require(located: Located, key: str, variable: str, what: str) -> Path:
    if located.path is None:
        raise WatchdogNotConfigured(
            f"{what} is not set; set watchdog.{key} in the settings file or {variable}"
        )
    if not located.path.is_file():
        raise WatchdogNotConfigured(
            f"{what} {located.path} (from {located.source}) does not exist; correct it"
        )
    return located.path


class WatchConfig(BaseModel):
    """The keys of the service's WatchConfig that labledger reads (others are ignored)."""

    model_config = ConfigDict(extra="ignore")

    flag_dir: str
    manifest_complete: str
    misfire_grace_time_s: int | None = 3 * 3600
    structured_log_file: str | None = SERVICE_LOG_DEFAULT

    @property
    def flag_path(self) -> Path:
        return Path(self.flag_dir)

    @property
    def complete_path(self) -> Path:
        return Path(self.manifest_complete)

    def staging_path(self, settings: WatchdogSettings) -> Path:
        """Where manifests are written before the rename into flag_dir (outside it, same disk)."""
        if settings.staging_dir is not None:
            return settings.staging_dir
        return self.flag_path.absolute().parent / STAGING_FOLDER


def read_watch_config(path: Path) -> WatchConfig:
    """The service's configuration file, parsed with safe_load; one-line errors."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InvalidWatchConfig(
            f"watchdog config {path} cannot be read ({error.strerror}); correct watchdog.config"
        ) from None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        problem = " ".join(str(error).split())
        raise InvalidWatchConfig(f"watchdog config {path} is not valid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise InvalidWatchConfig(
            f"watchdog config {path} must be a mapping with flag_dir and manifest_complete"
        )
    try:
        return WatchConfig.model_validate(data)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        key = ".".join(str(part) for part in first["loc"])
        raise InvalidWatchConfig(
            f"watchdog config {path}: {key} {plain_problem(first)}; correct that file"
        ) from None
