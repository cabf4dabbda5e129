"""Where settings come from besides the flags: the LABLEDGER_* variables, the settings file and
clabe's settings files, read by pydantic-settings' own sources, and which files those are.

Two things are added to the library's sources. The environment is the mapping the caller gives
(os.environ by default), so that a test or an embedding script controls every input. And what
the library would skip without a word (a misspelt variable, a named file that is not a file) or
raise as a traceback (bad YAML) is one line naming the variable or file and the fix.

clabe's files (`clabe.yml`) hold one section per service (`watchdog:`, `robocopy:`, …) and are
layered: `./local/clabe.yml` over `./clabe.yml` over the machine's `%PROGRAMDATA%/clabe.yml`.
labledger reads the same files in the same order, below its own settings file, and only their
`watchdog:` section: clabe reads a file without that section whole, which lets a top-level
key of an unrelated file change the transfer settings.
"""

from __future__ import annotations

import sys
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    SettingsError,
    YamlConfigSettingsSource,
)

from ..domain.errors import InvalidSettings
from .filesystem.user_dirs import default_config_file, expand_user

ENV_PREFIX = "LABLEDGER_"
ENV_NESTED_DELIMITER = "__"
CONFIG_ENV_VAR = "LABLEDGER_CONFIG"
CLABE_FILE = "clabe.yml"
CLABE_SECTION = "watchdog"
MACHINE_FOLDER_VAR = "PROGRAMDATA"
WINDOWS_MACHINE_FOLDER = "C:/ProgramData"


def sections(settings_cls: type[BaseModel]) -> dict[str, type[BaseModel]]:
    """The nested sections of the settings (``postgres:``, ``alyx:``, …) by key."""
    return {
        name: field.annotation
        for name, field in settings_cls.model_fields.items()
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)
    }


def env_name(key: tuple[str, ...]) -> str:
    """The variable of one setting: ("postgres", "host") -> LABLEDGER_POSTGRES__HOST."""
    return ENV_PREFIX + ENV_NESTED_DELIMITER.join(key).upper()


class EnvironmentSource(EnvSettingsSource):
    """The library's reading of LABLEDGER_* variables, from the mapping it is given.

    Only names that begin with LABLEDGER_, in capitals, are read; the rest of the name in any
    case, as the library matches it. The library reads only the variables of known settings; any
    other LABLEDGER_ name is passed on too, so that the model refuses it like an unknown key of
    the file instead of ignoring it.
    """

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls, case_sensitive=False)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        env = self._environ
        return {name.lower(): env[name] for name in env if name.startswith(ENV_PREFIX)}

    def __call__(self) -> dict[str, Any]:
        known = sections(self.settings_cls)
        try:
            values = super().__call__()
        except SettingsError:  # only a whole section in one variable is decoded, as JSON
            names = (env_name((section,)) for section in known)
            name = next((n for n in names if n.lower() in self.env_vars), "a LABLEDGER_ variable")
            raise InvalidSettings(
                f"{name} in the environment: not a JSON object; correct or unset that variable"
            ) from None
        for name, value in self.env_vars.items():
            key = name[len(ENV_PREFIX) :]
            section = key.split(ENV_NESTED_DELIMITER)[0] if ENV_NESTED_DELIMITER in key else ""
            read = key in self.settings_cls.model_fields or section in known  # or judged there
            if name != CONFIG_ENV_VAR.lower() and not read:
                values[key] = value
        return values


class SettingsFileSource(YamlConfigSettingsSource):
    """The library's YAML source, which reads with ``yaml.safe_load`` (no tag can run code)."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path) -> None:
        if path.is_dir():  # the library would skip it without a word
            raise InvalidSettings(
                f"settings file {path} cannot be read (Is a directory); make it a readable file"
            )
        self.path = path
        super().__init__(settings_cls, yaml_file=path, yaml_file_encoding="utf-8")

    def _read_file(self, file_path: Any) -> dict[str, Any]:
        """The file's top-level mapping ({} for an empty file); every problem in one line."""
        path = self.path
        try:
            # The library's own reader turns a file holding only `false`, `0` or `[]` into {}
            # (`safe_load(...) or {}`): such a file is a mistake, so read it plainly, as safely.
            with open(file_path, encoding=self.yaml_file_encoding) as stream:
                data: object = yaml.safe_load(stream)
        except OSError as exc:
            raise InvalidSettings(
                f"settings file {path} cannot be read ({exc.strerror}); make it a readable file"
            ) from None
        except UnicodeDecodeError:
            raise InvalidSettings(
                f"settings file {path} is not UTF-8 text; save it as UTF-8"
            ) from None
        except yaml.MarkedYAMLError as exc:
            line = exc.problem_mark.line + 1 if exc.problem_mark else "?"
            problem = " ".join(str(exc.problem or exc.context).split())
            raise InvalidSettings(
                f"settings file {path} line {line}: {problem}; fix the YAML (plain values only)"
            ) from None
        except yaml.YAMLError as exc:
            raise InvalidSettings(f"settings file {path}: {' '.join(str(exc).split())}") from None
        if data is None:  # an empty file, or comments only
            return {}
        if not isinstance(data, dict):
            raise InvalidSettings(
                f"settings file {path} must be a mapping of key: value at the top level, "
                f"not a {type(data).__name__}; write e.g. 'store: sqlite'"
            )
        return _text_keys(data)


def _text_keys(mapping: dict[Any, Any]) -> dict[str, Any]:
    """YAML's ``1:`` or ``yes:`` keys as text, so that the model names them as unknown keys."""
    return {str(k): _text_keys(v) if isinstance(v, dict) else v for k, v in mapping.items()}


def choose_settings_file(config_file: Path | None, environ: Mapping[str, str]) -> Path | None:
    """The argument, else LABLEDGER_CONFIG, else the default file if it exists."""
    if config_file is not None:
        named, drop = Path(config_file), "drop --config"
    elif environ.get(CONFIG_ENV_VAR):
        named, drop = Path(environ[CONFIG_ENV_VAR]), f"unset {CONFIG_ENV_VAR}"
    else:
        default = default_config_file(environ)
        return default if default.exists() else None
    named = expand_user(named)
    if not named.exists():
        raise InvalidSettings(f"settings file {named} does not exist; create it or {drop}")
    return named


class ClabeFileSource(SettingsFileSource):
    """A clabe settings file, read as labledger reads its own file but for its `watchdog:`
    section only: the other services' sections (`robocopy:`, …) are clabe's business."""

    def _read_file(self, file_path: Any) -> dict[str, Any]:
        section = super()._read_file(file_path).get(CLABE_SECTION)
        if section is None:
            return {}
        if not isinstance(section, dict):
            raise InvalidSettings(
                f"settings file {self.path}: {CLABE_SECTION}: must be a mapping of key: value, "
                f"not a {type(section).__name__}; correct that file"
            )
        return {CLABE_SECTION: section}


def is_clabe_file(path: Path) -> bool:
    """A file named like clabe's (`clabe.yml`, `clabe.yaml`): read for its `watchdog:` section."""
    return path.name.lower() in (CLABE_FILE, "clabe.yaml")


def settings_file_source(settings_cls: type[BaseSettings], path: Path) -> SettingsFileSource:
    """The source of the chosen settings file: a clabe file gives its `watchdog:` section only."""
    return (ClabeFileSource if is_clabe_file(path) else SettingsFileSource)(settings_cls, path)


def machine_clabe_file(environ: Mapping[str, str]) -> Path | None:
    """The machine-wide clabe file: `%PROGRAMDATA%/clabe.yml` (C:/ProgramData on Windows when the
    variable is unset); elsewhere only when PROGRAMDATA names a folder."""
    folder = environ.get(MACHINE_FOLDER_VAR) or (
        WINDOWS_MACHINE_FOLDER if sys.platform == "win32" else None
    )
    return Path(folder) / CLABE_FILE if folder else None


def clabe_files(environ: Mapping[str, str], cwd: Path | None = None) -> list[Path]:
    """clabe's settings files that exist, highest precedence first: `local/clabe.yml` and
    `clabe.yml` in the working folder (`cwd`), then the machine-wide one."""
    base = Path.cwd() if cwd is None else cwd
    layers = [base / "local" / CLABE_FILE, base / CLABE_FILE, machine_clabe_file(environ)]
    return [path.absolute() for path in layers if path is not None and path.is_file()]


def clabe_file_warnings(paths: list[Path], keys: Collection[str]) -> list[str]:
    """One warning per clabe file without a `watchdog:` section that holds some of its `keys` at
    its top level: clabe would read them, labledger does not."""
    warnings = []
    for path in paths:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue  # loading the settings names that problem
        if not isinstance(data, dict) or CLABE_SECTION in data:
            continue
        stray = sorted(str(key) for key in data if str(key) in keys)
        if stray:
            warnings.append(
                f"{path} has {', '.join(stray)} at its top level and no {CLABE_SECTION}: "
                f"section; labledger reads only that section (clabe would read the whole file): "
                f"move them under {CLABE_SECTION}:"
            )
    return warnings
