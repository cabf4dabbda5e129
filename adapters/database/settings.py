"""The `postgres:` settings section: how to reach the PostgreSQL event store."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from ..filesystem.user_dirs import expand_user

SslMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
"""libpq's `sslmode` values: only verify-full checks both the CA and the host name."""


def _os_user() -> str:
    """The login name, like libpq's default; "" (libpq's own default) if the OS has none."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no USER/LOGNAME and no passwd entry (bare containers)
        return ""


class PostgresSettings(BaseModel):
    """How to reach the PostgreSQL event store (used when ``store`` is "postgres")."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, hide_input_in_errors=True)

    host: str = "127.0.0.1"
    port: int = Field(default=5432, ge=1, le=65535)
    dbname: str = "labledger"
    user: str = Field(default_factory=_os_user)
    password: SecretStr | None = None
    # "schema" would shadow BaseModel.schema(), so the attribute is renamed and the key kept.
    schema_name: str = Field(default="", alias="schema")
    connect_timeout: int = Field(default=5, gt=0, description="seconds")
    # false where a DBA created the schema and tables and the rigs' role may only use them
    create_tables: bool = True
    # TLS, as libpq names it; unset leaves libpq's own default (PGSSLMODE, else "prefer").
    sslmode: SslMode | None = None
    sslrootcert: Path | None = None  # the CA that signed the server's certificate
    sslcert: Path | None = None  # this rig's client certificate, if the server asks for one
    sslkey: Path | None = None  # its private key

    @field_validator("sslrootcert", "sslcert", "sslkey")
    @classmethod
    def _expand_user(cls, value: Path | None) -> Path | None:
        return None if value is None else expand_user(value)

    def tls(self) -> dict[str, str]:
        """The TLS settings given, as libpq connection parameters (none given: none)."""
        given = {
            "sslmode": self.sslmode,
            "sslrootcert": self.sslrootcert,
            "sslcert": self.sslcert,
            "sslkey": self.sslkey,
        }
        return {key: str(value) for key, value in given.items() if value is not None}
