"""labledger settings: one model, filled by pydantic-settings' own sources.

Precedence is flags > environment > file > clabe's files > defaults: the flags are the init
values, then the ``LABLEDGER_*`` variables (the library's EnvSettingsSource, ``__`` between
nested keys, so ``LABLEDGER_POSTGRES__HOST`` overrides only ``postgres.host`` of the file), then
the settings file (its YamlConfigSettingsSource, which reads with ``yaml.safe_load``), then the
``watchdog:`` section of clabe's layered ``clabe.yml`` files (see ``settings_sources``).
labledger's own part is choosing the files and telling any problem in one line that names the
key, the file, variable or flag it came from, and the fix, never a pydantic dump; the same record
of what each source gave names the source of every value for `labledger config show`. The
password is a ``SecretStr``, kept out of every message and shown only as set or not.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import (
    BaseModel,
    Field,
    SecretStr,
    StringConstraints,
    ValidationError,
    field_validator,
)
from pydantic_core import ErrorDetails
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from ..domain.errors import InvalidSettings
from .alyx.settings import AlyxSettings
from .database.settings import PostgresSettings
from .filesystem.user_dirs import LEDGER_FILE_NAME, default_data_dir, expand_user
from .settings_sources import (
    ENV_NESTED_DELIMITER,
    ENV_PREFIX,
    ClabeFileSource,
    EnvironmentSource,
    SettingsFileSource,
    choose_settings_file,
    clabe_files,
    env_name,
    sections,
    settings_file_source,
)
from .validation_words import plain_problem
from .watchdog.settings import WatchdogSettings

#: An ALF lab name (the folder before ``Subjects/``): word characters only.
LabName = Annotated[str, StringConstraints(pattern=r"^\w+$")]

_CHOSEN: ContextVar[tuple[PydanticBaseSettingsSource, ...]] = ContextVar("_CHOSEN", default=())
"""The environment and file sources of the load_settings call in progress, lowest last."""


class Settings(BaseSettings):
    """Every setting of labledger; build it with :func:`load_settings`.

    ``Settings(...)`` alone uses only its arguments and defaults: the file and environment are
    read through :func:`load_settings`, which can name the source of each bad value.
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
    # NoDecode: "a, b" is split below; the library would insist on a JSON list.
    known_labs: Annotated[list[LabName], NoDecode] = []  # other labs accepted before Subjects/
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
        """Flags (init values) first, then what load_settings chose; alone, never os.environ."""
        return (init_settings, *_CHOSEN.get())

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
        return None if value is None else expand_user(value)

    def effective(self) -> dict[str, object]:
        """Every effective setting by its dotted key (as in the YAML file: ``alyx.base_url``),
        a secret as MASK when set and None otherwise, so that no caller can show one."""
        flat: dict[str, object] = {}
        for key, value in self.model_dump(by_alias=True).items():
            if key in SECTIONS and isinstance(value, dict):
                flat.update({f"{key}.{sub}": _masked(v) for sub, v in value.items()})
            else:
                flat[key] = _masked(value)
        return flat

    def describe(self) -> dict[str, str]:
        """Every effective setting as text (keys as in the YAML file), a password as MASK."""
        return {key: _show(value) for key, value in self.effective().items()}


SECTIONS: dict[str, type[BaseModel]] = sections(Settings)
"""Nested sections of the settings file (``postgres:``, ``alyx:``, …) by key."""


MASK = "********"
"""What is shown for a password that is set (nothing is shown for one that is not)."""


def _masked(value: object) -> object:
    if isinstance(value, SecretStr):
        return MASK if value.get_secret_value() else None
    return value


def _show(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


Key = tuple[str, ...]


_SCHEMA_ALIAS = {"schema_name": "schema"}


def _flags(overrides: Mapping[str, Any], path: Key = ()) -> dict[str, Any]:
    """Flags the user did not give arrive as None: they must not hide the file or environment.
    postgres' ``schema_name`` is spelt ``schema``, as in the file, so that the flag wins."""
    flags: dict[str, Any] = {}
    for key, value in overrides.items():
        if value is not None:
            key = _SCHEMA_ALIAS.get(key, key) if path == ("postgres",) else key
            flags[key] = _flags(value, (*path, key)) if isinstance(value, Mapping) else value
    return flags


class Origin(NamedTuple):
    """Where one value came from: how to name it, where it is, and how to fix it."""

    name: str  # "postgres.port" or "LABLEDGER_POSTGRES__PORT"
    source: str  # "/x/settings.yaml", "the environment", "the command line"
    kind: Literal["file", "environment", "flag", "answer", "default"]


def _holds(values: Mapping[str, Any], key: Key) -> bool:
    node: object = values
    for part in key:
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


Layers = Sequence[tuple[Origin, Mapping[str, Any]]]
"""What each source gave, highest precedence first."""


def _origin(key: Key, layers: Layers, exact: bool = False) -> Origin:
    """The source that gave ``key`` (or, unless ``exact``, the nearest mapping above it: where a
    bad value of a whole section came from), highest precedence first."""
    for n in range(len(key), len(key) - 1 if exact else 0, -1):
        for where, values in layers:
            if _holds(values, key[:n]):
                name = env_name(key[:n]) if where.kind == "environment" else ".".join(key[:n])
                return where._replace(name=name)
    return Origin(".".join(key), "the defaults", "default")


def _known_keys(parent: Key) -> list[str]:
    """The keys accepted at one level of the file (top level or one section)."""
    if parent and parent[0] in SECTIONS:
        return [f.alias or name for name, f in SECTIONS[parent[0]].model_fields.items()]
    return list(Settings.model_fields)


def _known_env_names() -> str:
    keys: list[Key] = [(name,) for name in Settings.model_fields if name not in SECTIONS]
    keys += [(section, key) for section in SECTIONS for key in _known_keys((section,))]
    return ", ".join(map(env_name, keys))


def _describe_error(error: ErrorDetails, origin: Origin) -> str:
    """One pydantic error as one line naming the source; inputs shown only if harmless."""
    key: Key = tuple(str(part) for part in error["loc"])
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
    problem = plain_problem(error, show_value="password" not in key)
    fix = {
        "file": "correct it in that file",
        "environment": "correct or unset that variable",
        "flag": "correct that flag",
        "answer": "answer again",
        "default": "please report this bug",
    }[origin.kind]
    where = origin.name if origin.kind == "environment" else ".".join(key)
    return f"{where} in {origin.source}: {problem}; {fix}"


def load_settings(
    config_file: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """The effective settings: flags (``overrides``) > ``environ`` > settings file > clabe's
    files > defaults.

    ``environ`` defaults to os.environ and, when given, is the only environment consulted
    (also for XDG_* folders and PROGRAMDATA), so tests and embedding code control every input.
    clabe's files give their ``watchdog:`` section only, in clabe's order: ``local/clabe.yml``
    and ``clabe.yml`` in ``cwd`` (default: the working folder), then the machine-wide
    ``%PROGRAMDATA%/clabe.yml``. Every problem is raised as one-line :class:`InvalidSettings`.
    """
    return _Inputs.read(config_file, overrides, environ, cwd).settings()


def load_settings_with_sources(
    config_file: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> tuple[Settings, dict[str, Origin]]:
    """The effective settings as :func:`load_settings` gives them, and where each value came
    from, by the dotted key of :meth:`Settings.effective`: the flag (named by its setting), the
    ``LABLEDGER_*`` variable, the settings file or clabe file (by path), or the defaults."""
    inputs = _Inputs.read(config_file, overrides, environ, cwd)
    settings, layers = inputs.settings(), inputs.layers()
    return settings, {
        key: _origin(tuple(key.split(".")), layers, exact=True) for key in settings.effective()
    }


def check_values(
    values: Mapping[str, Any], source: str, kind: Literal["flag", "answer"] = "flag"
) -> Settings:
    """``values`` (nested as in the settings file) over the defaults, nothing else read; a bad
    one is :class:`InvalidSettings` naming its key and ``source`` ("the command line", or "your
    answer" of `config init`, whose ``kind`` says to answer again)."""
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise _invalid(exc, [(Origin("", source, kind), values)]) from None


def _invalid(exc: ValidationError, layers: Layers) -> InvalidSettings:
    """The first error of ``exc`` as one line naming the source that gave the value."""
    errors = exc.errors(include_url=False)
    key = tuple(str(part) for part in errors[0]["loc"])
    message = _describe_error(errors[0], _origin(key, layers))
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more)"
    return InvalidSettings(message)


class _Inputs(NamedTuple):
    """The sources of one load, chosen once: read for the model, and again to name sources."""

    flags: dict[str, Any]
    environment: EnvironmentSource
    files: list[SettingsFileSource]
    data_dir: InitSettingsSource

    @classmethod
    def read(
        cls,
        config_file: Path | None,
        overrides: Mapping[str, Any] | None,
        environ: Mapping[str, str] | None,
        cwd: Path | None,
    ) -> _Inputs:
        env = os.environ if environ is None else environ
        path = choose_settings_file(config_file, env)
        own = [settings_file_source(Settings, path)] if path is not None else []
        clabe = [ClabeFileSource(Settings, file) for file in clabe_files(env, cwd)]
        # The default ledger path depends on XDG_DATA_HOME, which must come from `env` too.
        data_dir = {"sqlite_path": default_data_dir(env) / LEDGER_FILE_NAME}
        return cls(
            _flags(overrides or {}),
            EnvironmentSource(Settings, env),
            [*own, *clabe],
            InitSettingsSource(Settings, data_dir),
        )

    def settings(self) -> Settings:
        token = _CHOSEN.set((self.environment, *self.files, self.data_dir))
        try:
            return Settings(**self.flags)
        except ValidationError as exc:
            # `from None`: pydantic's own text includes raw inputs, the password among them.
            raise _invalid(exc, self.layers()) from None
        finally:
            _CHOSEN.reset(token)

    def layers(self) -> Layers:
        """What the flags, the environment and each file gave, highest precedence first."""
        layers = [
            (Origin("", "the command line", "flag"), self.flags),
            (Origin("", "the environment", "environment"), self.environment()),
        ]
        return layers + [(Origin("", str(f.path), "file"), f()) for f in self.files]
