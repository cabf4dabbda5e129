"""The registration use cases: record what the operator asks, then perform it if Alyx is there.

Every command first records its intents (so nothing asked is ever lost, online or not), then runs
the same executors as `labledger sync` on just that work. With no server configured, or the server
down, the intents stay queued and `labledger sync` performs them later, in order, to the same end
state. The CLI and the RegistrationClient-compatible API both call this module.

`Registrar` is assembled from one module per use case: what they all stand on
(`registration_core`), registrations asked (`registration_requests`), new sessions
(`new_sessions`), weighings and water (`weighings_water`). Callers import from here.
"""

from __future__ import annotations

from .new_sessions import NewSessions
from .registration_requests import FileChoice, Requested
from .weighings_water import WeighingsWater, repeat_notice

__all__ = ["FileChoice", "Registrar", "Requested", "repeat_notice"]


class Registrar(NewSessions, WeighingsWater):
    """Records registration intents in the ledger and performs them through the executors."""
