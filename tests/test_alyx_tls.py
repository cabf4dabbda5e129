"""Which TLS context an Alyx client verifies with: none for a plain-http server without a proxy,
httpx's own verifying context otherwise, built once per process."""

from __future__ import annotations

import ssl

import pytest

from labledger.adapters.alyx.tls import shared_context, tls_for


@pytest.mark.parametrize(
    ("base_url", "proxy", "uses_tls"),
    [
        ("http://127.0.0.1:8000", None, False),
        ("HTTP://alyx.internal", None, False),
        ("https://alyx.example.org", None, True),
        ("http://alyx.internal", ("HTTPS_PROXY", "https://proxy:3128"), True),
        ("http://alyx.internal", ("http_proxy", "http://proxy:3128"), True),
        ("http://alyx.internal", ("ALL_PROXY", "socks5://proxy:1080"), True),
    ],
)
def test_tls_row(
    monkeypatch: pytest.MonkeyPatch, base_url: str, proxy: tuple[str, str] | None, uses_tls: bool
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    if proxy is not None:
        monkeypatch.setenv(*proxy)
    verify = tls_for(base_url)
    if uses_tls:
        assert isinstance(verify, ssl.SSLContext)
        assert verify.verify_mode == ssl.CERT_REQUIRED and verify.check_hostname
    else:
        assert verify is False


def test_context_is_built_once() -> None:
    assert shared_context() is shared_context()
