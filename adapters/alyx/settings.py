"""The `alyx:` settings section: how to reach the lab's Alyx server."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from ..filesystem.user_dirs import expand_user


class AlyxSettings(BaseModel):
    """How to reach the lab's Alyx server; with no ``base_url`` labledger works offline (queued).

    The password is read from here only to obtain a token, which is cached in ``token_file``
    (readable by the user alone); neither is ever printed, logged or recorded in an event.
    """

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    base_url: str | None = None  # e.g. https://alyx.example.org; None = offline, work is queued
    username: str | None = None  # defaults to alyx_user
    password: SecretStr | None = None
    token_file: Path | None = None  # default: alyx-tokens.json beside the default ledger
    connect_timeout: float = Field(default=5.0, gt=0, description="seconds")
    read_timeout: float = Field(default=30.0, gt=0, description="seconds")
    max_attempts: int = Field(default=5, ge=1)  # tries of an idempotent call on 429/503/no answer
    interactive_attempts: int = Field(
        default=1,
        ge=1,
        description="tries of an idempotent call made by an operator's command (register, "
        "new-session, weigh, water, …; not sync, which makes max_attempts) before its work is "
        "queued for sync: 1 gives up after one read timeout, and at once on a refused connection",
    )
    max_wait: float = Field(default=60.0, ge=0, description="seconds of back-off, at most")
    repository: str | None = None  # data repository named in register-file ('name')
    session_workers: int = Field(default=4, ge=1)  # sessions registered in parallel by sync

    @field_validator("base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("token_file")
    @classmethod
    def _expand_user(cls, value: Path | None) -> Path | None:
        return None if value is None else expand_user(value)
