"""The TLS context of the Alyx clients: built once per process, and only when TLS can be used.

httpx builds a verifying SSL context (loading the whole CA bundle) for every client it makes,
about 40 ms of CPU each, and a command opens one client to refresh the reference lists and one to
perform its work. A plain-http Alyx (a loopback server, a lab's internal address) never uses TLS:
every request goes to URLs under its base URL, redirects are not followed, and no proxy is set,
so its clients get no context at all. Any other case gets the same verifying context as httpx
would build, made once and shared by every client of the process (an SSL context is safe to
share between connections and threads).
"""

from __future__ import annotations

import os
import ssl
from functools import cache

import httpx

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")
"""httpx reads these (upper or lower case) from the environment; an https proxy needs TLS even
for a plain-http Alyx."""


def tls_for(base_url: str) -> ssl.SSLContext | bool:
    """What an Alyx client at `base_url` verifies TLS with (httpx's `verify`)."""
    plain = base_url.lower().startswith("http://")
    proxied = any(os.environ.get(name) or os.environ.get(name.lower()) for name in PROXY_VARIABLES)
    if plain and not proxied:
        return False  # never used: no request of this client can be made over TLS
    return shared_context()


@cache
def shared_context() -> ssl.SSLContext:
    """httpx's own default verifying context (it honours SSL_CERT_FILE / SSL_CERT_DIR), once."""
    return httpx.create_ssl_context()
