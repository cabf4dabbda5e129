"""`labledger config init`'s test of the Alyx connection, with labledger's own client: does the
server answer, and does it accept the user?

Two requests, each tried once (an operator is waiting): a GET of the API root without a token
(any JSON reply, even a refusal, shows an Alyx answers at that address), then, when a user is
given, a GET of that user with the client's login: the cached token, or a login with the password
(which caches a token for later runs). With neither, the login is not tried and the result says
how to give one. Nothing the server could take as work is sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from .client import AlyxClient
from .command_run import one_run
from .errors import RUN_AGAIN, AlyxError, AlyxLoginNeeded, AlyxRefused
from .settings import AlyxSettings


@dataclass(frozen=True)
class ConnectionCheck:
    """The outcome: whether it worked, and one line saying what was found."""

    ok: bool
    message: str


def check_connection(alyx: AlyxSettings, username: str | None) -> ConnectionCheck:
    """Ask the server at ``alyx.base_url`` as ``username`` (None: only whether it answers)."""
    # The client wants a user; without one only the root is asked, and no name is ever sent.
    client = AlyxClient(alyx.model_copy(update={"max_attempts": 1}), username or "anonymous")
    url = client.base_url
    with one_run(), client:
        try:
            client.get_root()
        except AlyxRefused:
            pass  # a JSON refusal (401, 403, 404) is an answer: Alyx is there
        except AlyxError as error:  # no answer, a 5xx, or a reply that is not Alyx's JSON
            return ConnectionCheck(False, _problem(error))
        if username is None:
            return ConnectionCheck(True, f"Alyx at {url} answers (no user given: login not tried)")
        try:
            client.get(f"/users/{username}")
        except AlyxLoginNeeded:
            return ConnectionCheck(
                True,
                f"Alyx at {url} answers; login not tried: no password given and no token cached "
                f"for {username} (set alyx.password or LABLEDGER_ALYX__PASSWORD once)",
            )
        except AlyxError as error:
            return ConnectionCheck(False, _problem(error))
    return ConnectionCheck(True, f"logged in to Alyx at {url} as {username}")


def _problem(error: AlyxError) -> str:
    """The error's line without "then run again (nothing was sent)": no work of a command waits
    here to be run again, only the address or the network is to check."""
    problem = error.message.removesuffix(RUN_AGAIN)
    return (
        problem if problem == error.message else f"{problem}; check alyx.base_url and the network"
    )
