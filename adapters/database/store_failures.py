"""What a store's failure means, as one line with the fix: a decision table read top to bottom.

libpq and SQLite say what went wrong in their message text (a failed connection carries no
SQLSTATE), so each row is a pattern searched in that text and the line to print when it matches,
filled with the pattern's named groups and the settings in use. The first matching row wins; a
failure no row knows is shown as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .settings import PostgresSettings

README = 'see "The lab\'s database" in the README'


@dataclass(frozen=True)
class Cause:
    """One row: the failure's sign in the error text, and what to say about it."""

    name: str
    sign: re.Pattern[str]
    advice: str
    """Filled with the sign's named groups, `text` (the error) and the postgres settings
    (`host`, `port`, `dbname`, `user`, `schema`, `sslmode`, `sslrootcert`, `timeout`)."""


def _cause(name: str, sign: str, advice: str) -> Cause:
    return Cause(name, re.compile(sign, re.IGNORECASE), advice)


CAUSES = (
    _cause(
        "sqlite locked",
        r"locked",
        "{text}; another labledger (or a program holding the file) is writing. "
        "Wait for it to finish and run again",
    ),
    _cause(
        "disk full",
        r"database or disk is full|No space left on device|\[Errno 28\]",
        "{text}; the disk holding the ledger is full: free space on it and run the command "
        "again (what was recorded is whole)",
    ),
    _cause(
        "sqlite corrupt",
        r"not a database|malformed",
        "{text}; the file is corrupt. Move it aside, or set sqlite_path to another file",
    ),
    _cause(
        "missing database",
        r'database "(?P<name>[^"]+)" does not exist',
        'database "{name}" does not exist on {host}:{port}; create it (CREATE DATABASE {name}, '
        f"{README}) or set postgres.dbname",
    ),
    _cause(
        "missing role",
        r'role "(?P<name>[^"]+)" does not exist',
        'role "{name}" does not exist on {host}:{port}; create it (CREATE ROLE {name} LOGIN '
        f"PASSWORD '...', {README}) or set postgres.user",
    ),
    _cause(
        "password refused",
        r'password authentication failed for user "(?P<name>[^"]+)"',
        'the server refused the password of role "{name}"; set postgres.password (or '
        "LABLEDGER_POSTGRES__PASSWORD) to the role's password",
    ),
    _cause(
        "password missing",
        r"no password supplied|password is required|fe_sendauth",
        'the server asks role "{user}" for a password; set postgres.password '
        "(or LABLEDGER_POSTGRES__PASSWORD)",
    ),
    _cause(
        "host not allowed",
        r'no pg_hba\.conf entry for host "(?P<client>[^"]+)"',
        "the server at {host}:{port} does not accept role {user} from {client}"
        "{encryption}; ask its administrator for a pg_hba.conf line for this rig",
    ),
    _cause(
        "tls not offered",
        r"server does not support SSL",
        "the server at {host}:{port} does not offer TLS, which postgres.sslmode ({sslmode}) "
        "requires; turn ssl on in the server's postgresql.conf, or check postgres.host/port",
    ),
    _cause(
        "tls no ca file",
        r'root certificate file "(?P<path>[^"]+)" does not exist',
        "TLS: the CA certificate file {path} does not exist; set postgres.sslrootcert to the "
        "file of the CA that signed the server's certificate",
    ),
    _cause(
        "tls untrusted",
        r"certificate verify failed",
        "TLS: the server's certificate at {host}:{port} is not signed by the CA in "
        "postgres.sslrootcert ({sslrootcert}); set it to the CA that signed the server's "
        "certificate",
    ),
    _cause(
        "tls wrong host",
        r'server certificate for "(?P<name>[^"]+)".* does not match host name',
        'TLS: the server\'s certificate is for "{name}", not for {host}; set postgres.host to '
        "the name in its certificate (sslmode verify-full checks it)",
    ),
    _cause(
        "tls other",
        r"\bSSL\b|certificate|\bTLS\b",
        "TLS failed: {text}; check postgres.sslmode, sslrootcert, sslcert and sslkey",
    ),
    _cause(
        "refused",
        r"connection refused",
        "nothing accepts connections at {host}:{port}; check that PostgreSQL is running there "
        "and postgres.host/postgres.port",
    ),
    _cause(
        "unknown host",
        r"failed to resolve host|could not translate host name",
        "host {host} is not known; check postgres.host",
    ),
    _cause(
        "no answer",
        r"timeout expired|couldn't get a connection|timed out",
        "no answer from {host}:{port} within {timeout} s; check the network and "
        "postgres.host/postgres.port (postgres.connect_timeout to wait longer)",
    ),
    _cause(
        "schema privileges",
        r"permission denied for schema (?P<name>\S+)",
        "role {user} may not use schema {name}; grant it USAGE (and CREATE, the first time, "
        f"to create the tables) on the schema ({README})",
    ),
    _cause(
        "connect privilege",
        r'permission denied for database "?(?P<name>[^"\s]+)"?.*CONNECT privilege',
        f"role {{user}} may not connect to database {{name}}; grant it CONNECT ({README})",
    ),
    _cause(
        "database privileges",
        r'permission denied for database "?(?P<name>[^"\s]+)',
        "role {user} may not create schema {schema} in database {name}; create the schema for "
        f"it as the database's owner, or grant it CREATE on the database ({README})",
    ),
    _cause(
        "table privileges",
        r"permission denied for (?P<kind>table|sequence|relation) (?P<name>\S+)",
        "role {user} lacks privileges on {kind} {name}; grant them "
        f"(SELECT, INSERT, UPDATE, DELETE on the tables, USAGE on the sequences, {README})",
    ),
    _cause(
        "other connection",
        r"connect",
        "{text}; check that PostgreSQL is running and the postgres.* settings",
    ),
)
"""The failures a store has been seen to give, most specific first."""


def explain(error: BaseException, postgres: PostgresSettings) -> str:
    """One line: what went wrong with the store and what to do about it."""
    text = " ".join(str(error).split()) or type(error).__name__
    for cause in CAUSES:
        found = cause.sign.search(text)
        if found:
            return cause.advice.format(**_facts(text, postgres), **found.groupdict())
    return text


def _facts(text: str, pg: PostgresSettings) -> dict[str, object]:
    return {
        "text": text,
        "host": pg.host,
        "port": pg.port,
        "dbname": pg.dbname,
        "user": pg.user,
        "schema": pg.schema_name or "public",
        "sslmode": pg.sslmode or "unset, so PGSSLMODE",
        "sslrootcert": pg.sslrootcert or "not set: ~/.postgresql/root.crt",
        "timeout": pg.connect_timeout,
        "encryption": " without TLS" if "no encryption" in text else "",
    }
