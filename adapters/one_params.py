"""What labledger takes from a ONE instance passed to `RegistrationClient(one)`: the Alyx server
and user, and only when labledger's own settings name no server. Nothing is read from ONE's
parameter files (~/.one), and ONE's token is never touched: labledger logs in with its own
password (or its own cached token).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

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
