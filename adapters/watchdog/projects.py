"""The project names the AIND metadata service knows (clabe's project-name check).

The transfer service refuses a job whose project it does not know, but only after the copy; the
check here runs before. The URL is a setting (clabe hard-codes it), an unreachable service is one
clear line, and both reply shapes are read: a JSON list (clabe >= 0.10.2) or `{"data": [...]}`.
"""

from __future__ import annotations

import difflib
import socket

import httpx

from ...domain.errors import LabledgerError


class MetadataServiceUnavailable(LabledgerError):
    """The metadata service did not answer, or not with a list of project names."""


class UnknownProject(LabledgerError):
    """The configured project name is not one the metadata service knows."""


def project_names(url: str, timeout: float) -> list[str]:
    """The project names at `url` (GET, JSON)."""
    fix = "check the network, or set watchdog.metadata_service_url"
    try:
        response = httpx.get(url, timeout=timeout)
    except httpx.HTTPError as error:
        if _host_not_found(error):
            host = httpx.URL(url).host
            raise MetadataServiceUnavailable(
                f"metadata service {url}: the host name {host} could not be resolved (no such "
                "host, or no DNS); check the network, or correct watchdog.metadata_service_url"
            ) from None
        detail = " ".join(str(error).split()) or type(error).__name__
        raise MetadataServiceUnavailable(
            f"metadata service {url} is unreachable ({detail}); {fix}"
        ) from None
    if response.status_code != 200:
        body = " ".join(response.text.split())[:200]
        raise MetadataServiceUnavailable(
            f"metadata service {url} answered HTTP {response.status_code} ({body}); {fix}"
        )
    try:
        data = response.json()
    except ValueError:
        raise MetadataServiceUnavailable(
            f"metadata service {url} did not answer JSON; {fix}"
        ) from None
    if isinstance(data, dict):
        data = data.get("data")
    if not isinstance(data, list) or not all(isinstance(name, str) for name in data):
        raise MetadataServiceUnavailable(
            f"metadata service {url} did not answer a list of project names; {fix}"
        )
    return data


def _host_not_found(error: BaseException) -> bool:
    """Whether the name lookup failed (httpx wraps the resolver's `socket.gaierror`, whose own
    words, "[Errno -2] Name or service not known", say nothing of which name or setting)."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, socket.gaierror):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def check_project_name(name: str, url: str, timeout: float) -> None:
    """Raise a one-line error unless `name` is one of the service's project names."""
    names = project_names(url, timeout)
    if name in names:
        return
    close = difflib.get_close_matches(name, names, n=3)
    hint = f" (close: {', '.join(close)})" if close else ""
    raise UnknownProject(
        f'watchdog.project_name "{name}" is not among the {len(names)} project names of '
        f"{url}{hint}; correct watchdog.project_name"
    )
