"""A lab's shared ledger on PostgreSQL, as the README's "The lab's database" sets it up: TLS, the
README's roles and grants, and connection errors that name their cause.

TLS and grants are tried on a private PostgreSQL cluster started for this module (initdb from the
machine's PostgreSQL binaries, as the `postgres` OS user when the tests run as root): `ssl = on`
with a self-signed certificate made by openssl, `hostssl` lines only in pg_hba.conf (so a
connection without TLS is refused, and every command that works proves it used TLS), password
authentication for every role but the superuser, and a free port on 127.0.0.1. The machine's
shared server keeps its configuration; it serves the cases that need no TLS. Every command runs
as a user runs it (tests/doors.py).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from labledger.adapters.database.settings import PostgresSettings
from labledger.adapters.database.store_failures import CAUSES, explain
from labledger.adapters.settings import load_settings
from tests.cli_helpers import ROOT, sample_session
from tests.conftest import PG
from tests.doors import Door, Ran

SUPERUSER = "root"
INITDB_OPTIONS = ("-U", SUPERUSER, "-A", "trust", "--no-sync", "-E", "UTF8")
SECTION = "## The lab's database"


@dataclass(frozen=True)
class Cluster:
    """A private PostgreSQL server: where it listens and the certificate it presents."""

    port: int
    server_cert: Path
    other_cert: Path
    """A CA that did not sign the server's certificate."""

    def connect(self, dbname: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            dbname=dbname,
            user=SUPERUSER,
            sslmode="verify-full",
            sslrootcert=str(self.server_cert),
            autocommit=True,
        )

    def env(self, **settings: str) -> dict[str, str]:
        """LABLEDGER_* variables for a rig of cortexlab on this server."""
        chosen = {
            "STORE": "postgres",
            "LAB": "cortexlab",
            "ALYX_USER": "operator",
            "POSTGRES__HOST": "127.0.0.1",
            "POSTGRES__PORT": str(self.port),
            "POSTGRES__DBNAME": "labledger",
            "POSTGRES__USER": SUPERUSER,
            "POSTGRES__SSLMODE": "verify-full",
            "POSTGRES__SSLROOTCERT": str(self.server_cert),
            **settings,
        }
        return {f"LABLEDGER_{key}": value for key, value in chosen.items()}


def _binaries() -> Path:
    """The newest PostgreSQL server's binaries (Debian's layout, as on CI)."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: float(p.parts[-3])
    )
    if not found or shutil.which("openssl") is None:
        pytest.skip(
            "the PostgreSQL server binaries (/usr/lib/postgresql/*/bin) or openssl are absent"
        )
    if os.geteuid() == 0 and (shutil.which("runuser") is None or not _has_user("postgres")):
        pytest.skip("running as root, and no `postgres` OS user (or runuser) to run the server")
    return found[-1].parent


def _has_user(name: str) -> bool:
    import pwd  # POSIX only; reached only where Debian's PostgreSQL binaries are

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _certificate(folder: Path, name: str) -> Path:
    """A self-signed certificate for 127.0.0.1 (its own CA) and its key, in `folder`."""
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(folder / f"{name}.key"), "-out", str(folder / f"{name}.crt"),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return folder / f"{name}.crt"


HBA = """\
local all all trust
hostssl all root 127.0.0.1/32 trust
hostssl all all 127.0.0.1/32 scram-sha-256
"""
"""TLS only (no `host` line), the superuser trusted, every other role by password."""


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    bin_dir = _binaries()
    folder = Path(tempfile.mkdtemp(prefix="labledger-pg-"))
    as_owner: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(folder, "postgres")
        as_owner = ["runuser", "-u", "postgres", "--"]
    data = folder / "data"
    try:
        subprocess.run(
            [*as_owner, str(bin_dir / "initdb"), "-D", str(data), *INITDB_OPTIONS],
            check=True,
            capture_output=True,
        )
        server_cert = _certificate(folder, "server")
        other_cert = _certificate(folder, "other")
        if as_owner:
            shutil.chown(folder / "server.key", "postgres")
        (folder / "server.key").chmod(0o600)
        (data / "pg_hba.conf").write_text(HBA, encoding="utf-8")
        port = _free_port()
        options = (
            f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c ssl=on "
            f"-c ssl_cert_file={server_cert} -c ssl_key_file={folder / 'server.key'}"
        )
        pg_ctl = [*as_owner, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(folder / "log")]
        subprocess.run([*pg_ctl, "-w", "-o", options, "start"], check=True, capture_output=True)
        try:
            yield Cluster(port, server_cert, other_cert)
        finally:
            subprocess.run([*pg_ctl, "-m", "immediate", "-w", "stop"], capture_output=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def lab_database(cluster: Cluster) -> Cluster:
    """The README's SQL run on the private server: the database, the roles and the lab's schema
    owned by the lab's role (the grants of the rig's role come later, in their test)."""
    first, owner, _rig = readme_sql()
    with cluster.connect() as connection:
        run_sql(connection, first)
    with cluster.connect("labledger") as connection:
        run_sql(connection, owner)
    return cluster


def readme_sql() -> list[str]:
    """The SQL blocks of the README's section on the lab's database, in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index(SECTION) :]
    section = section[: section.index("\n## ", len(SECTION))]
    blocks = re.findall(r"```sql\n(.*?)```", section, re.DOTALL)
    assert len(blocks) == 3, "the README's lab database section has three SQL blocks"
    return blocks


def statements(block: str) -> list[str]:
    """The statements of an SQL block, without comment lines."""
    found = []
    for statement in block.split(";"):
        lines = [line for line in statement.splitlines() if not line.startswith("--")]
        if "".join(lines).strip():
            found.append("\n".join(lines).strip())
    return found


def run_sql(connection: psycopg.Connection[tuple[object, ...]], block: str) -> None:
    for statement in statements(block):
        connection.execute(statement.encode())


def machine_server(**settings: str) -> dict[str, str]:
    """LABLEDGER_* variables for a PostgreSQL ledger on the machine's server (tests/conftest)."""
    chosen = {f"POSTGRES__{key.upper()}": str(value) for key, value in PG.items()}
    chosen |= {"STORE": "postgres", **settings}
    return {f"LABLEDGER_{key}": value for key, value in chosen.items()}


def one_line_error(ran: Ran, *needles: str) -> str:
    """Exit 1 with one `labledger: error: ...` line naming each needle; returns the line."""
    assert ran.code == 1, ran
    lines = ran.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("labledger: error: "), ran.err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def events_in_schema(cluster: Cluster, schema: str) -> int:
    with cluster.connect("labledger") as connection:
        table = sql.Identifier(schema, "labledger_events")
        row = connection.execute(sql.SQL("SELECT count(*) FROM {}").format(table)).fetchone()
        assert row is not None
        return int(str(row[0]))


def schema_exists(cluster: Cluster, schema: str) -> bool:
    with cluster.connect("labledger") as connection:
        found = connection.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
        return found.fetchone() is not None


# -- TLS -------------------------------------------------------------------------------------------


def test_verify_full_with_the_servers_ca_records_and_reports(
    lab_database: Cluster, door: Door
) -> None:
    door.env.update(lab_database.env(POSTGRES__SCHEMA="tls_ok"))
    assert "nothing recorded yet" in door("status").ok().out
    session = sample_session(door.cwd / "data")
    assert "queued" in door("register", session).ok().out  # no Alyx configured: offline
    [row] = door("status", "--json").ok().json()
    assert (row["discovered"], row["rejected"], row["pending"]) == (6, 2, 7), row
    assert events_in_schema(lab_database, "tls_ok") > 0
    followed = door("project", "--follow", "--timeout", "1").ok()  # LISTEN over TLS too
    assert "stopped at position" in followed.out


def test_a_ca_that_did_not_sign_the_servers_certificate_is_refused(
    lab_database: Cluster, door: Door
) -> None:
    env = lab_database.env(
        POSTGRES__SCHEMA="tls_wrong_ca", POSTGRES__SSLROOTCERT=str(lab_database.other_cert)
    )
    line = one_line_error(door("status", env=env), "TLS", "not signed by the CA", "other.crt")
    assert "check that PostgreSQL is running" not in line
    assert not schema_exists(lab_database, "tls_wrong_ca")


def test_without_tls_the_lab_server_refuses_and_says_so(lab_database: Cluster, door: Door) -> None:
    env = lab_database.env(POSTGRES__SCHEMA="no_tls", POSTGRES__SSLMODE="disable")
    one_line_error(door("status", env=env), "does not accept role root", "without TLS")


def test_require_against_a_server_without_tls_names_it(door: Door) -> None:
    env = machine_server(POSTGRES__SSLMODE="require")
    with psycopg.connect(**PG) as connection:
        row = connection.execute("SHOW ssl").fetchone()
        if row is None or row[0] != "off":
            pytest.skip(f"the server at {PG['host']}:{PG['port']} offers TLS")
    one_line_error(door("status", env=env), "does not offer TLS", "sslmode (require)")


def test_the_readmes_tls_settings_are_settings(tmp_path: Path) -> None:
    section = (ROOT / "README.md").read_text(encoding="utf-8").split(SECTION)[1]
    [block] = re.findall(r"```yaml\n(.*?)```", section.split("\n## ")[0], re.DOTALL)
    (tmp_path / "settings.yaml").write_text(block, encoding="utf-8")
    pg = load_settings(tmp_path / "settings.yaml", environ={"HOME": str(tmp_path)}).postgres
    assert (pg.sslmode, pg.create_tables) == ("verify-full", False)
    assert pg.tls()["sslrootcert"] == str(Path("~/.postgresql/cortexlab-ca.crt").expanduser())


# -- the README's roles and grants -----------------------------------------------------------------


def test_the_lab_role_owning_its_schema_creates_the_tables_and_records(
    lab_database: Cluster, door: Door
) -> None:
    door.env.update(
        lab_database.env(
            POSTGRES__USER="cortexlab",
            POSTGRES__PASSWORD="cortexlab-password",
            POSTGRES__SCHEMA="cortexlab",
        )
    )
    door("register", sample_session(door.cwd / "data")).ok()
    [row] = door("status", "--json").ok().json()
    assert row["discovered"] == 6
    assert door("replay").ok()


def test_a_rig_role_with_the_readme_grants_reads_and_writes_tables_it_cannot_create(
    lab_database: Cluster, door: Door
) -> None:
    rig = lab_database.env(
        POSTGRES__USER="cortexlab_rig01",
        POSTGRES__PASSWORD="rig01-password",
        POSTGRES__SCHEMA="cortexlab",
        POSTGRES__CREATE_TABLES="false",
    )
    owner = lab_database.env(
        POSTGRES__USER="cortexlab", POSTGRES__PASSWORD="cortexlab-password"
    ) | {"LABLEDGER_POSTGRES__SCHEMA": "cortexlab"}
    door("project", env=owner).ok()  # the schema's owner creates the tables (once)
    one_line_error(door("status", env=rig), "cortexlab_rig01 may not connect to database labledger")
    connect, *rest = statements(readme_sql()[2])
    with lab_database.connect("labledger") as connection:
        connection.execute(connect.encode())
    one_line_error(door("status", env=rig), "role cortexlab_rig01 may not use schema cortexlab")
    with lab_database.connect("labledger") as connection:
        for statement in rest:
            connection.execute(statement.encode())
    door.env.update(rig)
    door("register", sample_session(door.cwd / "data", "bilbo/2026-11-21/001")).ok()
    keys = {row["session"] for row in door("status", "--json").ok().json()}
    assert "cortexlab/bilbo/2026-11-21/001" in keys
    door("replay").ok()
    with_create = rig | {"LABLEDGER_POSTGRES__CREATE_TABLES": "true"}
    one_line_error(door("status", env=with_create), "cortexlab_rig01", "schema cortexlab")


def test_a_refused_password_and_an_unknown_role_are_named(
    lab_database: Cluster, door: Door
) -> None:
    wrong = lab_database.env(POSTGRES__USER="cortexlab", POSTGRES__PASSWORD="not-it")
    one_line_error(
        door("status", env=wrong), 'refused the password of role "cortexlab"', "postgres.password"
    )
    nobody = lab_database.env(POSTGRES__USER="nobody", POSTGRES__PASSWORD="x")
    # scram hides whether the role exists: the server says the password failed
    one_line_error(door("status", env=nobody), 'role "nobody"')


# -- connection errors on the machine's server ---------------------------------------------------


def test_a_missing_database_is_named_with_the_fix(door: Door) -> None:
    env = machine_server(POSTGRES__DBNAME="labledger_no_such_db")
    line = one_line_error(
        door("status", env=env),
        'database "labledger_no_such_db" does not exist',
        "CREATE DATABASE labledger_no_such_db",
    )
    assert "running" not in line


def test_a_missing_role_and_a_closed_port_are_named(door: Door) -> None:
    role = machine_server(POSTGRES__USER="labledger_no_such_role")
    one_line_error(door("status", env=role), 'role "labledger_no_such_role" does not exist')
    port = str(_free_port())
    closed = machine_server(POSTGRES__PORT=port)
    one_line_error(door("status", env=closed), f"nothing accepts connections at 127.0.0.1:{port}")


# -- the decision table, row by row ----------------------------------------------------------------

SAMPLES = {
    "sqlite locked": ("database is locked", "another labledger"),
    "disk full": ("database or disk is full", "free space on it"),
    "sqlite corrupt": ("file is not a database", "the file is corrupt"),
    "missing database": (
        'connection to server at "db", port 5432 failed: FATAL:  database "lab" does not exist',
        "CREATE DATABASE lab",
    ),
    "missing role": ('FATAL:  role "rig" does not exist', "CREATE ROLE rig LOGIN"),
    "password refused": (
        'FATAL:  password authentication failed for user "rig"',
        'refused the password of role "rig"',
    ),
    "password missing": ("fe_sendauth: no password supplied", "asks role"),
    "host not allowed": (
        'FATAL:  no pg_hba.conf entry for host "10.0.0.7", user "rig", database "lab", '
        "no encryption",
        "from 10.0.0.7 without TLS",
    ),
    "tls not offered": ("server does not support SSL, but SSL was required", "does not offer"),
    "tls no ca file": (
        'root certificate file "/x/ca.crt" does not exist',
        "CA certificate file /x/ca.crt",
    ),
    "tls untrusted": (
        "SSL error: certificate verify failed",
        "not signed by the CA in postgres.sslrootcert (/ca.crt)",
    ),
    "tls wrong host": (
        'server certificate for "db.lab" (and 1 other name) does not match host name "db"',
        'certificate is for "db.lab", not for db',
    ),
    "tls other": ("SSL SYSCALL error: EOF detected", "TLS failed"),
    "refused": ("failed: Connection refused Is the server running", "nothing accepts"),
    "unknown host": ("failed to resolve host 'db': Name or service not known", "host db is not"),
    "no answer": ("couldn't get a connection after 5.00 sec", "no answer from db:5432 within 5"),
    "schema privileges": ("permission denied for schema lab", "may not use schema lab"),
    "connect privilege": (
        'FATAL:  permission denied for database "labledger" DETAIL:  User does not have CONNECT '
        "privilege.",
        "may not connect to database labledger; grant it CONNECT",
    ),
    "database privileges": (
        "permission denied for database labledger",
        "may not create schema lab in database labledger",
    ),
    "table privileges": (
        "permission denied for table labledger_events",
        "lacks privileges on table labledger_events",
    ),
    "other connection": ("server closed the connection unexpectedly", "check that PostgreSQL"),
}
"""Each row's name -> an error text of its kind, and what the line must then say."""

SETTINGS = PostgresSettings(host="db", user="rig", schema="lab", sslrootcert=Path("/ca.crt"))


def test_every_row_has_a_sample() -> None:
    assert [cause.name for cause in CAUSES] == list(SAMPLES)


@pytest.mark.parametrize("name", list(SAMPLES))
def test_row(name: str) -> None:
    text, says = SAMPLES[name]
    [first] = [cause for cause in CAUSES if cause.sign.search(text)][:1]
    assert first.name == name, f"{text!r} is taken by an earlier row: {first.name}"
    line = explain(Exception(text), SETTINGS)
    assert says in line and "\n" not in line, line


def test_an_unknown_failure_is_shown_as_it_is() -> None:
    assert explain(Exception("deadlock\n  detected"), SETTINGS) == "deadlock detected"
