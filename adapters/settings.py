"""labledger settings: one model, filled from a YAML file, LABLEDGER_* variables and CLI flags.

Precedence is flags > environment > file > defaults. The layers are merged here, key by key
(so ``LABLEDGER_POSTGRES__HOST`` overrides only ``postgres.host`` of the file), and remembered,
so that any problem is reported as one line naming the file, variable or flag to fix, never as
a pydantic dump. The password is a ``SecretStr`` and is kept out of every message.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    ValidationError,
    field_validator,
)
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from ..domain.errors import InvalidSettings
from .watchdog.settings import WatchdogSettings

ENV_PREFIX = "LABLEDGER_"
ENV_NESTED_DELIMITER = "__"
CONFIG_ENV_VAR = "LABLEDGER_CONFIG"
APP_NAME = "labledger"
LEDGER_FILE_NAME = "ledger.sqlite3"

#: An ALF lab name (the folder before ``Subjects/``): word characters only.
LabName = Annotated[str, StringConstraints(pattern=r"^\w+$")]


def _environ(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def _user_dir(
    environ: Mapping[str, str] | None,
    xdg_var: str,
    xdg_default: str,
    windows_var: str,
    windows_default: str,
) -> Path:
    """The per-user base folder of one kind; stdlib only, so no platformdirs dependency."""
    env = _environ(environ)
    home = Path.home()
    platform = sys.platform  # read at call time so tests can pretend to be another OS
    if platform == "win32":
        return Path(env.get(windows_var) or home / windows_default)
    if platform == "darwin":
        return home / "Library" / "Application Support"
    xdg = env.get(xdg_var, "")
    # The XDG spec says relative values are invalid and must be ignored.
    return Path(xdg) if os.path.isabs(xdg) else home / xdg_default


def default_data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where the ledger lives by default; not created here, the store creates it when opened."""
    return (
        _user_dir(environ, "XDG_DATA_HOME", ".local/share", "LOCALAPPDATA", "AppData/Local")
        / APP_NAME
    )


def default_config_file(environ: Mapping[str, str] | None = None) -> Path:
    """The settings file read when neither ``--config`` nor LABLEDGER_CONFIG names one."""
    return (
        _user_dir(environ, "XDG_CONFIG_HOME", ".config", "APPDATA", "AppData/Roaming")
        / APP_NAME
        / "settings.yaml"
    )


def _os_user() -> str:
    """The login name, like libpq's default; "" (libpq's own default) if the OS has none."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no USER/LOGNAME and no passwd entry (bare containers)
        return ""


class PostgresSettings(BaseModel):
    """How to reach the PostgreSQL event store (used when ``store`` is "postgres")."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, hide_input_in_errors=True)

    host: str = "127.0.0.1"
    port: int = Field(default=5432, ge=1, le=65535)
    dbname: str = "labledger"
    user: str = Field(default_factory=_os_user)
    password: SecretStr | None = None
    # "schema" would shadow BaseModel.schema(), so the attribute is renamed and the key kept.
    schema_name: str = Field(default="", alias="schema")
    connect_timeout: int = Field(default=5, gt=0, description="seconds")


class AlyxSettings(BaseModel):
    """How to reach the lab's Alyx server; with no ``base_url`` labledger works offline (queued).

    The password is read from here only to obtain a token, which is cached in ``token_file``
    (readable by the user alone); neither is ever printed, logged or recorded in an event.
    """

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    base_url: str | None = None  # e.g. https://alyx.example.org; None = offline, work is queued
    username: str | None = None  # defaults to alyx_user
    password: SecretStr | None = None
    token_file: Path | None = None  # default: alyx-tokens.json beside the default ledger
    connect_timeout: float = Field(default=5.0, gt=0, description="seconds")
    read_timeout: float = Field(default=30.0, gt=0, description="seconds")
    max_attempts: int = Field(default=5, ge=1)  # tries of an idempotent call on 429/503/no answer
    max_wait: float = Field(default=60.0, ge=0, description="seconds of back-off, at most")
    repository: str | None = None  # data repository named in register-file ('name')
    session_workers: int = Field(default=4, ge=1)  # sessions registered in parallel by sync

    @field_validator("base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("token_file")
    @classmethod
    def _expand_user(cls, value: Path | None) -> Path | None:
        return None if value is None else value.expanduser()


SECTIONS: dict[str, type[BaseModel]] = {}
"""Nested sections of the settings file (``postgres:``, ``alyx:``, …) by key; filled below."""


class Settings(BaseSettings):
    """Every setting of labledger; build it with :func:`load_settings`.

    ``Settings(...)`` alone uses only its arguments and defaults: the file and environment are
    read by :func:`load_settings`, which can name the source of each bad value.
    """

    model_config = SettingsConfigDict(
        extra="forbid",
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_NESTED_DELIMITER,
        hide_input_in_errors=True,  # the outer model decides; keeps the password out of dumps
    )

    store: Literal["sqlite", "postgres", "memory"] = "sqlite"
    sqlite_path: Path = Field(default_factory=lambda: default_data_dir() / LEDGER_FILE_NAME)
    sqlite_lock_timeout: int = Field(default=10, ge=1)  # whole seconds a writer waits for a lock
    postgres: PostgresSettings = Field(default_factory=PostgresSettings)
    lab: LabName | None = None  # the lab this rig belongs to
    known_labs: list[LabName] = []  # other labs accepted before Subjects/ in session paths
    alyx_user: str | None = None  # recorded on every event as who did it
    hash_workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    reference_dir: Path | None = None  # cache of the server's dataset types and data formats
    alyx: AlyxSettings = Field(default_factory=AlyxSettings)
    watchdog: WatchdogSettings = Field(default_factory=WatchdogSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only init values: load_settings does the rest, so os.environ is never read behind it."""
        return (init_settings,)

    @field_validator("known_labs", mode="before")
    @classmethod
    def _split_labs(cls, value: object) -> object:
        """Accept "a, b" (handy in LABLEDGER_KNOWN_LABS) as well as a YAML list."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("sqlite_path", "reference_dir")
    @classmethod
    def _expand_user(cls, value: Path | None) -> Path | None:
        return None if value is None else value.expanduser()

    def describe(self) -> dict[str, str]:
        """Every effective setting as text (keys as in the YAML file), the password as "***"."""
        described: dict[str, str] = {}
        for key, value in self.model_dump(by_alias=True).items():
            if isinstance(value, dict):
                described.update({f"{key}.{sub}": _show(v) for sub, v in value.items()})
            else:
                described[key] = _show(value)
        return described


SECTIONS.update(
    {
        name: field.annotation
        for name, field in Settings.model_fields.items()
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)
    }
)


def _show(value: object) -> str:
    if isinstance(value, SecretStr):
        return "***"
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


Key = tuple[str, ...]


class _Origin(NamedTuple):
    """Where one value came from: how to name it, where it is, and how to fix it."""

    name: str  # "postgres.port" or "LABLEDGER_POSTGRES__PORT"
    source: str  # "/x/settings.yaml", "the environment", "the command line"
    kind: Literal["file", "environment", "flag", "default"]


_SCHEMA_ALIAS = {"schema_name": "schema"}


def _merge(
    into: dict[str, Any],
    values: Mapping[Any, Any],
    origin: Callable[[Key], _Origin],
    origins: dict[Key, _Origin],
    path: Key = (),
) -> None:
    """Deep-merge ``values`` over ``into``, recording where each leaf came from."""
    for raw_key, value in values.items():
        key = str(raw_key)
        if path == ("postgres",):  # one spelling, so "schema" and "schema_name" cannot both win
            key = _SCHEMA_ALIAS.get(key, key)
        here = (*path, key)
        origins[here] = origin(here)  # also for a mapping, which may be what is wrong
        if isinstance(value, Mapping):
            if not isinstance(into.get(key), dict):
                into[key] = {}
            _merge(into[key], value, origin, origins, here)
        else:
            into[key] = value


def _drop_none(flags: Mapping[str, Any]) -> dict[str, Any]:
    """Flags the user did not give arrive as None; they must not hide the file or environment."""
    return {
        key: _drop_none(value) if isinstance(value, Mapping) else value
        for key, value in flags.items()
        if value is not None
    }


def _from_environment(env: Mapping[str, str]) -> dict[str, Any]:
    """LABLEDGER_POSTGRES__HOST=x -> {"postgres": {"host": "x"}}; unknown names fail later."""
    values: dict[str, Any] = {}
    for var, value in env.items():
        if var.startswith(ENV_PREFIX) and var != CONFIG_ENV_VAR:
            *parents, leaf = var[len(ENV_PREFIX) :].lower().split(ENV_NESTED_DELIMITER)
            node = values
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = value
    return values


def _env_name(key: Key) -> str:
    return ENV_PREFIX + ENV_NESTED_DELIMITER.join(key).upper()


def _choose_file(config_file: Path | None, env: Mapping[str, str]) -> Path | None:
    """The argument, else LABLEDGER_CONFIG, else the default file if it exists."""
    if config_file is not None:
        named, drop = Path(config_file), "drop --config"
    elif env.get(CONFIG_ENV_VAR):
        named, drop = Path(env[CONFIG_ENV_VAR]), f"unset {CONFIG_ENV_VAR}"
    else:
        default = default_config_file(env)
        return default if default.exists() else None
    named = named.expanduser()
    if not named.exists():
        raise InvalidSettings(f"settings file {named} does not exist; create it or {drop}")
    return named


def _read_yaml(path: Path) -> Mapping[Any, Any]:
    """The file's top-level mapping, parsed with safe_load so no tag can run code."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidSettings(
            f"settings file {path} cannot be read ({exc.strerror}); make it a readable file"
        ) from None
    except UnicodeDecodeError:
        raise InvalidSettings(f"settings file {path} is not UTF-8 text; save it as UTF-8") from None
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else "?"
        problem = " ".join(str(exc.problem or exc.context).split())
        raise InvalidSettings(
            f"settings file {path} line {line}: {problem}; fix the YAML (plain values only)"
        ) from None
    except yaml.YAMLError as exc:
        raise InvalidSettings(f"settings file {path}: {' '.join(str(exc).split())}") from None
    if data is None:  # an empty file is a valid "nothing to change"
        return {}
    if not isinstance(data, Mapping):
        raise InvalidSettings(
            f"settings file {path} must be a mapping of key: value at the top level, "
            f"not a {type(data).__name__}; write e.g. 'store: sqlite'"
        )
    return data


def _known_keys(parent: Key) -> list[str]:
    """The keys accepted at one level of the file (top level or one section)."""
    if parent and parent[0] in SECTIONS:
        return [f.alias or name for name, f in SECTIONS[parent[0]].model_fields.items()]
    return list(Settings.model_fields)


def _known_env_names() -> str:
    keys: list[Key] = [(name,) for name in Settings.model_fields if name not in SECTIONS]
    keys += [(section, key) for section in SECTIONS for key in _known_keys((section,))]
    return ", ".join(map(_env_name, keys))


def _describe_error(error: ErrorDetails, origins: Mapping[Key, _Origin]) -> str:
    """One pydantic error as one line naming the source; inputs shown only if harmless."""
    key: Key = tuple(str(part) for part in error["loc"])
    owner = next((key[:n] for n in range(len(key), 0, -1) if key[:n] in origins), None)
    origin = origins[owner] if owner else _Origin(".".join(key), "the defaults", "default")
    if error["type"] == "extra_forbidden":
        if origin.kind == "environment":
            return (
                f"unknown setting {origin.name} in the environment; "
                f"unset it (known: {_known_env_names()})"
            )
        return (
            f'unknown key "{origin.name}" in {origin.source}; '
            f"known keys: {', '.join(_known_keys(key[:-1]))}"
        )
    shown = error.get("input")
    hide = "password" in key or not isinstance(shown, str | int | float | bool)
    detail = "" if hide else f" ({json.dumps(shown)})"
    fix = {
        "file": "correct it in that file",
        "environment": "correct or unset that variable",
        "flag": "correct that flag",
        "default": "please report this bug",
    }[origin.kind]
    where = origin.name if origin.kind == "environment" else ".".join(key)
    return f"{where} in {origin.source}: {error['msg']}{detail}; {fix}"


def load_settings(
    config_file: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """The effective settings: flags (``overrides``) > ``environ`` > settings file > defaults.

    ``environ`` defaults to os.environ and, when given, is the only environment consulted
    (also for XDG_* folders), so tests and embedding code control every input.
    Every problem is raised as one-line :class:`InvalidSettings`.
    """
    env = _environ(environ)
    path = _choose_file(config_file, env)
    merged: dict[str, Any] = {"sqlite_path": default_data_dir(env) / LEDGER_FILE_NAME}
    origins: dict[Key, _Origin] = {}
    if path is not None:
        _merge(merged, _read_yaml(path), lambda k: _Origin(".".join(k), str(path), "file"), origins)
    _merge(
        merged,
        _from_environment(env),
        lambda k: _Origin(_env_name(k), "the environment", "environment"),
        origins,
    )
    _merge(
        merged,
        _drop_none(overrides or {}),
        lambda k: _Origin(".".join(k), "the command line", "flag"),
        origins,
    )
    try:
        return Settings.model_validate(merged)  # validates only `merged`, reads nothing else
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        message = _describe_error(errors[0], origins)
        if len(errors) > 1:
            message += f" (and {len(errors) - 1} more)"
        # `from None`: pydantic's own text includes raw inputs, the password among them.
        raise InvalidSettings(message) from None
