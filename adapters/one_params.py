"""What labledger takes from ONE: the Alyx server and user, never ONE's token.

Two ways. A ONE instance passed to `RegistrationClient(one)` lends its server and user, and only
when labledger's own settings name no server. And `labledger config init --from-one` copies the
server and user from ONE's parameter files (`~/.one`, as ONE-api 3.6.1 writes them) into
labledger's settings file, once. At run time nothing is read from `~/.one`. ONE's token (and any
password its files hold) is dropped as the file is parsed: labledger logs in with its own
password, or its own cached token.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..domain.errors import InvalidSettings
from .alyx.settings import AlyxSettings
from .settings import Settings

SET_THEM = (
    "set alyx.base_url and alyx.username in labledger's settings file (or LABLEDGER_ALYX__BASE_URL "
    "and LABLEDGER_ALYX__USERNAME) to choose them there"
)


def server_of(one: object) -> tuple[str | None, str | None]:
    """The base URL and user of a ONE instance's Alyx client (`one.alyx`), None where absent."""
    alyx = getattr(one, "alyx", None)
    base_url, user = getattr(alyx, "base_url", None), getattr(alyx, "user", None)
    return (
        base_url if isinstance(base_url, str) and base_url.strip() else None,
        user if isinstance(user, str) and user.strip() else None,
    )


def settings_with_server_of_one(
    settings: Settings, base_url: str | None, user: str | None
) -> tuple[Settings, str | None]:
    """The settings to use given the server and user found on a ONE instance, and the warning
    to give (None: nothing to say).

    labledger's settings win: ONE's server is taken only when they name none, and ONE's user
    then fills only `alyx.username` and `alyx_user` where they are unset. A ONE server that
    differs from the configured one is ignored, with a warning."""
    alyx = settings.alyx
    if base_url is None:
        return settings, None
    try:
        url = AlyxSettings.model_validate({"base_url": base_url}).base_url
    except ValidationError:
        raise InvalidSettings(
            f"the ONE instance's Alyx address {base_url!r} does not start with http:// or "
            "https://; set alyx.base_url in labledger's settings"
        ) from None
    if alyx.base_url is not None:
        if alyx.base_url == url:
            return settings, None
        return settings, (
            f"RegistrationClient(one): ONE's Alyx {url} is ignored; labledger uses its own "
            f"alyx.base_url {alyx.base_url} (pass a ONE instance of that server, or change the "
            "setting)"
        )
    username = alyx.username or user
    taken = {"base_url": url} | ({"username": username} if alyx.username is None else {})
    updated = settings.model_copy(
        update={
            "alyx": alyx.model_copy(update=taken),
            "alyx_user": settings.alyx_user or username,
        }
    )
    named = f"Alyx {url}" + (f" and user {user}" if alyx.username is None and user else "")
    warning = (
        f"RegistrationClient(one): labledger's settings name no Alyx server, so it uses {named} "
        f"of the ONE instance; {SET_THEM}"
    )
    if username is None:
        warning += "; no Alyx user is known either: set alyx.username"
    if alyx.password is None or not alyx.password.get_secret_value():
        warning += (
            "; labledger logs in itself and never uses ONE's token: set alyx.password (or "
            "LABLEDGER_ALYX__PASSWORD) unless labledger already holds a token for this user"
        )
    return updated, warning


def settings_for_one(settings: Settings, one: object, warn: Callable[[str], None]) -> Settings:
    """`settings_with_server_of_one` applied to `one`; its warning is given to `warn` and as a
    Python warning (at the caller of `RegistrationClient(one)`)."""
    if one is None:
        return settings
    updated, warning = settings_with_server_of_one(settings, *server_of(one))
    if warning is not None:
        warn(warning)
        warnings.warn(warning, UserWarning, stacklevel=3)
    return updated


ONE_FOLDER = ".one"
"""ONE's parameter folder, in the home folder (in %APPDATA% on Windows), as iblutil names it."""

CACHES_FILE = ".caches"
"""ONE's map of servers: ``{"CLIENT_MAP": {client key: download cache}, "DEFAULT": key}``."""

UNUSED = ("HTTP_DATA_SERVER", "CACHE_DIR")
"""ONE parameters labledger has no setting for (it downloads nothing), named when found."""


@dataclass(frozen=True)
class OneParameters:
    """The parameters of one Alyx server in ONE's files, as far as labledger uses them."""

    file: Path
    base_url: str | None  # ALYX_URL
    username: str | None  # ALYX_LOGIN
    unused: tuple[str, ...]  # ONE parameters found that labledger does not use


def one_folder(environ: Mapping[str, str]) -> Path:
    """Where ONE keeps its parameters: ``~/.one``, or ``%APPDATA%/.one`` on Windows."""
    if sys.platform in ("win32", "cygwin"):
        return Path(environ.get("APPDATA") or Path.home() / "AppData" / "Roaming") / ONE_FOLDER
    return Path(environ.get("HOME") or Path.home()) / ONE_FOLDER


def client_key(url: str) -> str:
    """ONE's name for a server's parameter file: the URL without scheme, safe as a file name
    (``http://127.0.0.1:8000/`` -> ``127.0.0.1_8000``), as ONE-api 3.6.1 makes it."""
    url = unicodedata.normalize("NFKC", url)
    url = re.sub("^https?://", "", url).strip("/")
    url = re.sub(r"[^.\w\s-]", "_", url.lower())
    return re.sub(r"[-\s]+", "-", url)


def read_one_parameters(url: str | None, environ: Mapping[str, str]) -> OneParameters:
    """The parameters ONE holds for ``url`` (None: ONE's default server); a missing or broken
    file is one line saying what to do."""
    folder = one_folder(environ)
    caches = _read(folder / CACHES_FILE, "ONE is not set up for this user")
    known = caches.get("CLIENT_MAP")
    servers: dict[str, Any] = known if isinstance(known, dict) else {}
    if url is None:
        key = caches.get("DEFAULT")
        if not isinstance(key, str) or not key:
            raise InvalidSettings(
                f"ONE's {folder / CACHES_FILE} names no default Alyx; name one: --from-one URL"
            )
    else:
        key = client_key(url)
    file = folder / f".{key}"
    if not file.is_file():
        having = ", ".join(sorted(servers)) or "none"
        raise InvalidSettings(
            f"ONE has no parameters for {url or key} in {folder} (it has: {having}); name one "
            "of those with --from-one URL, or give --alyx-url"
        )
    params = _read(file, "ONE's parameters of that server are missing")
    unused = [name for name in UNUSED if params.get(name)]
    if "CACHE_DIR" not in unused and servers.get(key):
        unused.append("CACHE_DIR")
    return OneParameters(
        file, _text(params.get("ALYX_URL")), _text(params.get("ALYX_LOGIN")), tuple(unused)
    )


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _without_secrets(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """One JSON object of ONE's file without its TOKEN and passwords (*PWD), dropped unread."""
    return {key: value for key, value in pairs if key != "TOKEN" and "PWD" not in key}


def _read(path: Path, missing: str) -> dict[str, Any]:
    """One of ONE's JSON parameter files, secrets dropped; each problem in one line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidSettings(
            f"{missing}: {path} does not exist; run ONE's one.params.setup() first, or give "
            "--alyx-url and --alyx-user instead of --from-one"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        why = getattr(error, "strerror", None) or "not UTF-8 text"
        raise InvalidSettings(f"ONE's parameter file {path} cannot be read ({why})") from None
    try:
        data = json.loads(text, object_pairs_hook=_without_secrets)
    except json.JSONDecodeError as error:
        raise InvalidSettings(
            f"ONE's parameter file {path} is not valid JSON (line {error.lineno}); run ONE's "
            "one.params.setup() again"
        ) from None
    if not isinstance(data, dict):
        raise InvalidSettings(f"ONE's parameter file {path} does not hold a JSON object")
    return data
