"""The per-user folders labledger uses by default: the data folder (the ledger, the Alyx token
cache, the reference lists) and the settings file, on Linux (XDG), macOS and Windows.

Standard library only, so no platformdirs dependency. Every function takes the environment to
consult, so that a caller given one (tests, embedding code) never reads os.environ behind it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from ...domain.errors import LabledgerError

APP_NAME = "labledger"
LEDGER_FILE_NAME = "ledger.sqlite3"


def _user_dir(
    environ: Mapping[str, str] | None,
    xdg_var: str,
    xdg_default: str,
    windows_var: str,
    windows_default: str,
) -> Path:
    """The per-user base folder of one kind."""
    env = os.environ if environ is None else environ
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


def expand_user(path: Path) -> Path:
    """`path` with a leading `~` or `~user` expanded, as a shell would; a `~user` naming no user
    of this machine is a one-line error (Python raises a bare RuntimeError)."""
    try:
        return path.expanduser()
    except RuntimeError:
        first = path.parts[0] if path.parts else str(path)
        raise LabledgerError(
            f"{path}: there is no user {first[1:]!r} on this machine to expand {first}; "
            "give the full path"
        ) from None
