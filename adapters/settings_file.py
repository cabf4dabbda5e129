"""Writing labledger's settings file (`labledger config init`): where, with which mode, and never
over an existing file unless asked.

The file is YAML written with ``yaml.safe_dump`` (plain values only, read back with
``yaml.safe_load``), replaced atomically so a crash leaves the old file or the new one. A file
that holds a password is readable by its owner alone (0600), like the Alyx token cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from ..domain.errors import LabledgerError
from .filesystem.atomic import write_atomically
from .filesystem.user_dirs import default_config_file, expand_user
from .settings_sources import CONFIG_ENV_VAR

PRIVATE = 0o600
"""The mode of a settings file that holds a password: its owner reads it, nobody else."""

SHARED = 0o644
"""The mode of a settings file without a secret."""

HEADER = (
    "# labledger settings, written by `labledger config init`.\n"
    "# `labledger config show` lists every effective setting and where it comes from.\n"
)


class SettingsFileExists(LabledgerError):
    """`config init` would replace a settings file that is already there."""


def settings_file_to_write(config_file: Path | None, environ: Mapping[str, str]) -> Path:
    """Where `config init` writes: ``--config FILE``, else $LABLEDGER_CONFIG, else the default
    settings file (the one every command reads when neither names another)."""
    if config_file is not None:
        return expand_user(Path(config_file)).absolute()
    if environ.get(CONFIG_ENV_VAR):
        return expand_user(Path(environ[CONFIG_ENV_VAR])).absolute()
    return default_config_file(environ)


def refuse_to_replace(path: Path, force: bool) -> None:
    """Stop before anything is asked or written when ``path`` exists and ``force`` is not set."""
    if force or not (path.exists() or path.is_symlink()):
        return
    raise SettingsFileExists(
        f"settings file {path} already exists; pass --force to replace it, or --config FILE to "
        "write another one (`labledger config show` lists what it holds)"
    )


def holds_secret(values: Mapping[str, Any]) -> bool:
    """Whether a password (at any depth) is among ``values``."""
    return any(
        holds_secret(value) if isinstance(value, Mapping) else key == "password" and bool(value)
        for key, value in values.items()
    )


def write_settings_file(path: Path, values: Mapping[str, Any], *, force: bool) -> int:
    """Write ``values`` (nested as in the file, plain values) to ``path``; the file's mode."""
    refuse_to_replace(path, force)
    mode = PRIVATE if holds_secret(values) else SHARED
    text = HEADER + yaml.safe_dump(
        dict(values), sort_keys=False, allow_unicode=True, default_flow_style=False
    )
    write_atomically(path, text, mode=mode)
    return mode
