"""The `postgres:` settings section: how to reach the PostgreSQL event store."""

from __future__ import annotations

import getpass

from pydantic import BaseModel, ConfigDict, Field, SecretStr


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
