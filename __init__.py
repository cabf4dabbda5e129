"""labledger: an event-sourced ledger of a lab's experiment sessions.

A rig script needs only this namespace::

    from labledger import RegistrationClient

    client = RegistrationClient()          # settings from the file and LABLEDGER_* variables
    folder, eid = client.create_new_session("algernon")

A rig launcher hands sessions to the AIND watchdog with clabe's operations::

    from labledger import WatchdogService

    WatchdogService().transfer(session_folder)

Everything else a script may want is here too: `load_settings` and `Settings` (the settings
model, read from the same file, variables and overrides as the command line), `LabledgerError`
(the base of every error that names what to fix) and `WorkRefused` (Alyx refused what a call
asked), `Ledger` (the ledger application, for reading
the log) and `__version__`.

The names are imported on first use, so `import labledger` stays cheap for the commands that do
not need the Alyx client.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from ._version import __version__

if TYPE_CHECKING:
    from .adapters.registration_client import RegistrationClient
    from .adapters.settings import Settings, load_settings
    from .adapters.watchdog_service import WatchdogService
    from .domain.errors import LabledgerError, WorkRefused
    from .domain.ledger import Ledger


__all__ = [
    "LabledgerError",
    "Ledger",
    "RegistrationClient",
    "Settings",
    "WatchdogService",
    "WorkRefused",
    "__version__",
    "load_settings",
]

_HOMES = {
    "RegistrationClient": ".adapters.registration_client",
    "Settings": ".adapters.settings",
    "load_settings": ".adapters.settings",
    "WatchdogService": ".adapters.watchdog_service",
    "LabledgerError": ".domain.errors",
    "WorkRefused": ".domain.errors",
    "Ledger": ".domain.ledger",
}


def __getattr__(name: str) -> object:
    """Import a public name from its module the first time it is asked for (PEP 562)."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'labledger' has no attribute {name!r}")
    value = getattr(import_module(home, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public API (what `__all__` names), not the module's own helpers."""
    return sorted(__all__)
