"""A local Alyx 3.6.1 test server (real HTTP on 127.0.0.1) with fault injection.

`AlyxTestServer` runs it, `AlyxState` is its database and behaviour, `Faults` the fault rules,
`RequestLog` what arrived on the wire. Fixtures are in `tests/alyx_fixtures.py`.
`python -m tests.alyx_server` runs it on its own (see `__main__.py`), for trying labledger.
"""

from tests.alyx_server.faults import (
    PROXY_HTML,
    FaultKind,
    FaultRule,
    Faults,
    LoggedRequest,
    RequestLog,
)
from tests.alyx_server.server import AlyxTestServer
from tests.alyx_server.state import (
    FIXTURE_BASE_URL,
    TEST_PASSWORD,
    TEST_TOKEN,
    TEST_USER,
    AlyxState,
    ApiError,
    ApiRequest,
    Reply,
)

__all__ = [
    "FIXTURE_BASE_URL",
    "PROXY_HTML",
    "TEST_PASSWORD",
    "TEST_TOKEN",
    "TEST_USER",
    "AlyxState",
    "AlyxTestServer",
    "ApiError",
    "ApiRequest",
    "FaultKind",
    "FaultRule",
    "Faults",
    "LoggedRequest",
    "Reply",
    "RequestLog",
]
