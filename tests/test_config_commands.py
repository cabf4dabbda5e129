"""`labledger config show` and `labledger config init`, run as users run them: the installed
command in a subprocess with a scratch home (`tests/doors.py`), on a pseudo-terminal 100 columns
wide where a person would type the answers, against the loopback Alyx and a refused port.
"""

from __future__ import annotations

import socket
import stat
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from labledger.scripts.config_questions import QUESTIONS
from tests.alyx_server import TEST_PASSWORD, TEST_USER, AlyxTestServer
from tests.doors import Door
from tests.terminal import Terminal

SECRET = "s3cret-never-shown"
ONE_TOKEN = "one-token-never-read"
COLUMNS = 100


def settings_file(door: Door) -> Path:
    """The default settings file of the scratch home (XDG)."""
    return door.home / ".config" / "labledger" / "settings.yaml"


def shown(door: Door, *args: str, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """`config show --json` by key: {"value": ..., "source": ..., "kind": ...}."""
    rows = door("config", "show", "--json", *args, env=env).ok().json()
    return {row.pop("key"): row for row in rows}


def refused_port() -> int:
    with socket.socket() as probe:  # a loopback port nothing listens on once the block ends
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_init_with_flags_writes_the_file_and_show_names_it_as_the_source(door: Door) -> None:
    ledger = door.home / "rig" / "ledger.sqlite3"
    ran = door(
        "config", "init", "--lab", "cortexlab", "--ledger", ledger,
        "--alyx-url", "https://alyx.example.org/", "--alyx-user", "jdoe",
        "--watchdog-email", "jdoe@example.org", "--watchdog-endpoint", "null", "--no-test",
    ).ok()  # fmt: skip
    path = settings_file(door)
    assert f"wrote {path}" in ran.out and not ran.err
    assert yaml.safe_load(path.read_text(encoding="utf-8")) == {
        "lab": "cortexlab",
        "sqlite_path": str(ledger),
        "alyx": {"base_url": "https://alyx.example.org/", "username": "jdoe"},
        "watchdog": {"user_email": "jdoe@example.org", "transfer_endpoint": "null"},
    }
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # no password in it
    settings = shown(door)
    for key in (
        "lab",
        "sqlite_path",
        "alyx.base_url",
        "alyx.username",
        "watchdog.user_email",
    ):
        assert settings[key]["source"] == str(path) and settings[key]["kind"] == "file", key
    assert settings["alyx.base_url"]["value"] == "https://alyx.example.org"
    assert settings["watchdog.transfer_endpoint"] == {
        "value": None,
        "source": str(path),
        "kind": "file",
    }
    assert settings["store"] == {"value": "sqlite", "source": "default", "kind": "default"}


def test_init_never_replaces_a_file_without_force(door: Door) -> None:
    path = door.cwd / "rig.yaml"
    door("config", "init", "--config", path, "--lab", "cortexlab").ok()
    before = path.read_text(encoding="utf-8")
    again = door("config", "init", "--config", path, "--lab", "mainenlab")
    assert again.code == 1 and not again.out
    assert again.err.startswith(f"labledger: error: settings file {path} already exists; pass")
    assert "--force" in again.err and path.read_text(encoding="utf-8") == before
    path.write_text("lab: [not closed\n", encoding="utf-8")  # a broken file does not stop it
    door("config", "init", "--config", path, "--lab", "mainenlab", "--force").ok()
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["lab"] == "mainenlab"


def test_a_bad_flag_is_one_line_and_nothing_is_written(door: Door) -> None:
    ran = door("config", "init", "--watchdog-email", "jdoe", "--lab", "cortexlab")
    assert ran.code == 1 and not ran.out
    assert ran.err.startswith("labledger: error: watchdog.user_email in the command line: ")
    assert ran.err.count("\n") == 1 and not settings_file(door).exists()


def test_show_names_the_variable_and_the_flag_that_override_the_file(door: Door) -> None:
    door("config", "init", "--lab", "cortexlab", "--alyx-user", "jdoe").ok()
    path = settings_file(door)
    env = {"LABLEDGER_LAB": "mainenlab", "LABLEDGER_ALYX__PASSWORD": SECRET}
    ledger = door.cwd / "other.sqlite3"
    settings = shown(door, "--ledger", str(ledger), env=env)
    assert settings["lab"] == {
        "value": "mainenlab",
        "source": "LABLEDGER_LAB",
        "kind": "environment",
    }
    assert settings["sqlite_path"] == {"value": str(ledger), "source": "--ledger", "kind": "flag"}
    assert settings["alyx.password"]["value"] == "********"
    assert settings["postgres.password"]["value"] is None  # unset: nothing shown
    assert settings["alyx.base_url"]["source"] == "default"
    table = door("config", "show", "--ledger", str(ledger), env=env).ok()
    rows = {line.split("│")[1].strip(): line for line in table.out.splitlines() if "│" in line}
    assert "LABLEDGER_LAB" in rows["lab"] and "--ledger" in rows["sqlite_path"]
    assert "********" in rows["alyx.password"] and "store" not in rows  # a default: counted
    assert f"file: {path}" in table.out and "more at their defaults" in table.out
    everything = door("config", "show", "--all", env=env).ok()
    for ran in (table, everything):
        assert SECRET not in ran.out + ran.err
    assert "watchdog.metadata_service_url" in everything.out


def test_show_fits_a_terminal_of_100_columns(door: Door) -> None:
    door.env["LABLEDGER_WATCHDOG__CONFIG"] = "C:/ProgramData/aind/watchdog_config.yml"
    door("config", "init", "--lab", "cortexlab", "--alyx-url", "https://alyx.example.org",
         "--alyx-user", "jdoe", "--no-test").ok()  # fmt: skip
    ledger = "D:/rig/ledger.sqlite3"
    terminal = Terminal(door, "config", "show", "--ledger", ledger, columns=COLUMNS)
    assert terminal.finish() == 0
    lines = terminal.screen.splitlines()
    table = [line for line in lines if line[:1] in "┏┃┡│└"]
    assert max(len(line) for line in table) <= COLUMNS, terminal.screen
    rows = {line.split("│")[1].strip(): line for line in table if line.count("│") == 4}
    assert "LABLEDGER_WATCHDOG__CONFIG" in rows["watchdog.config"]
    assert ledger in rows["sqlite_path"] and "--ledger" in rows["sqlite_path"]
    # under the table: "file: PATH", the path whole (on a line of its own when it does not fit)
    said = [line.removeprefix("file:").strip() for line in lines]
    path = str(settings_file(door))
    assert path in said
    assert max(len(line) for line in lines if line.strip() != path) <= COLUMNS  # a long path, whole


def test_init_on_a_terminal_asks_logs_in_and_keeps_the_password_private(
    door: Door, server: AlyxTestServer
) -> None:
    terminal = Terminal(door, "config", "init")
    terminal.answer("This rig's lab", "not a lab!")
    terminal.expect("answer again (empty: leave it unset)")  # wrapped between words at 100
    assert (
        'lab in your answer: "not a lab!" is not one word: use letters, digits and _ only, '
        "e.g. cortexlab; answer again (empty: leave it unset)"
    ) in " ".join(terminal.screen.split())
    terminal.answer("This rig's lab", "cortexlab")  # asked again as it was asked first
    terminal.answer("The ledger file (SQLite) of this rig [", "")  # the default
    terminal.answer("The lab's Alyx address", server.base_url)
    terminal.answer("Your Alyx user", TEST_USER)
    terminal.answer("Your Alyx password (not shown", TEST_PASSWORD)
    terminal.answer("Does this rig hand sessions to the AIND watchdog service? [y/N]", "jdoe")
    terminal.expect("answer y or n (empty: the default)")  # not taken as no
    terminal.answer("Does this rig hand sessions to the AIND watchdog service? [y/N]", "no")
    terminal.expect(f"logged in to Alyx at {server.base_url} as {TEST_USER}")
    assert terminal.finish() == 0, terminal.screen
    path = settings_file(door)
    assert TEST_PASSWORD not in terminal.screen  # never echoed, never printed
    said = " ".join(terminal.screen.split())  # prose wraps between words at the terminal's width
    assert "alyx.password: ********" in terminal.screen and f"wrote {path}" in said
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # it holds the password
    written = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert written["alyx"] == {
        "base_url": server.base_url,
        "username": TEST_USER,
        "password": TEST_PASSWORD,
    }
    assert written["lab"] == "cortexlab" and "watchdog" not in written
    assert written["sqlite_path"] == str(door.ledger_file)
    calls = [(c.method, c.path.rstrip("/")) for c in server.requests]
    assert calls == [("GET", ""), ("POST", "/auth-token"), ("GET", f"/users/{TEST_USER}")]
    show = door("config", "show").ok()
    assert TEST_PASSWORD not in show.out + show.err and "********" in show.out


def test_init_takes_the_server_and_user_from_one_but_never_its_token(door: Door) -> None:
    url = "https://alyx.example.org"
    # ONE-api's own set-up, as a user runs it, then the token it stores at its first login
    door.python(
        "import one.params\n"
        "from iblutil.io import params\n"
        f"one.params.setup({url!r}, silent=True, username='jdoe', make_default=True)\n"
        f"name = 'one/' + one.params._key_from_url({url!r})\n"
        "par = params.read(name)\n"
        f"params.write(name, par.set('TOKEN', {{'jdoe': {{'token': {ONE_TOKEN!r}}}}}))\n",
        name="one_setup.py",
    ).ok()
    parameters = door.home / ".one" / ".alyx.example.org"
    assert ONE_TOKEN in parameters.read_text(encoding="utf-8")
    ran = door("config", "init", "--from-one", "--lab", "cortexlab", "--no-test").ok()
    assert f"from ONE's {parameters}: alyx.base_url {url}, alyx.username jdoe" in ran.out
    assert "not used by labledger: HTTP_DATA_SERVER, CACHE_DIR" in ran.out
    written = settings_file(door).read_text(encoding="utf-8")
    assert yaml.safe_load(written)["alyx"] == {"base_url": url, "username": "jdoe"}
    assert ONE_TOKEN not in written + ran.out + ran.err
    other = door("config", "init", "--from-one", "https://other.example.org", "--force")
    assert other.code == 1 and "(it has: alyx.example.org)" in other.err


def test_init_without_one_parameters_says_how_to_make_them(door: Door) -> None:
    ran = door("config", "init", "--from-one")
    assert ran.code == 1 and not settings_file(door).exists()
    assert ran.err.startswith("labledger: error: ONE is not set up for this user: ")
    assert "one.params.setup()" in ran.err and ran.err.count("\n") == 1


def test_the_connection_test_logs_in_with_the_password_of_the_environment(
    door: Door, server: AlyxTestServer
) -> None:
    env = {"LABLEDGER_ALYX__PASSWORD": TEST_PASSWORD}
    ran = door(
        "config", "init", "--alyx-url", server.base_url, "--alyx-user", TEST_USER, env=env
    ).ok()
    assert f"connection: logged in to Alyx at {server.base_url} as {TEST_USER}" in ran.out
    assert TEST_PASSWORD not in settings_file(door).read_text(encoding="utf-8")  # not written
    assert stat.S_IMODE(settings_file(door).stat().st_mode) == 0o644


def test_without_a_password_the_server_is_asked_only_whether_it_answers(
    door: Door, server: AlyxTestServer
) -> None:
    ran = door("config", "init", "--alyx-url", server.base_url, "--alyx-user", TEST_USER).ok()
    assert "answers; login not tried: no password given and no token cached" in ran.out
    assert [c.method for c in server.requests] == ["GET"]  # the API root, without a token
    assert not server.requests[0].has_auth


def test_a_failed_connection_is_reported_and_the_file_still_written(door: Door) -> None:
    url = f"http://127.0.0.1:{refused_port()}"
    started = time.monotonic()
    ran = door("config", "init", "--alyx-url", url, "--alyx-user", "jdoe").ok()
    assert time.monotonic() - started < 10  # one try, no back-off
    assert ran.err.startswith(
        f"labledger: warning: the Alyx connection test failed: Alyx at {url} is unreachable "
        "(connection refused)"
    )
    # the file is written: the warning says so, not "then run again (nothing was sent)"
    warning = " ".join(ran.err.split())
    assert "nothing was sent" not in warning and "run again" not in warning
    assert warning.endswith(
        "check alyx.base_url and the network; the settings are written anyway "
        "(change them with config init --force)"
    )
    assert (
        yaml.safe_load(settings_file(door).read_text(encoding="utf-8"))["alyx"]["base_url"] == url
    )


def test_on_a_terminal_a_failed_connection_asks_whether_to_write(door: Door) -> None:
    url = f"http://127.0.0.1:{refused_port()}"
    terminal = Terminal(door, "config", "init", "--lab", "cortexlab", "--alyx-url", url)
    terminal.answer("The ledger file (SQLite) of this rig [", "")
    terminal.answer("Your Alyx user", "jdoe")
    terminal.answer("Your Alyx password (not shown", "")
    terminal.answer("Does this rig hand sessions to the AIND watchdog service? [y/N]", "")
    terminal.expect("the Alyx connection test failed: ")
    terminal.answer("Write the settings anyway? [Y/n]", "n")
    assert terminal.finish() == 1
    said = " ".join(terminal.screen.split())  # prose wraps between words at the terminal's width
    assert f"nothing written to {settings_file(door)}" in said
    assert not settings_file(door).exists()


FLAG_ANSWERS = {
    "lab": "cortexlab",
    "sqlite_path": "/data/rig/ledger.sqlite3",
    "alyx.base_url": "https://alyx.example.org",
    "alyx.username": "jdoe",
    "watchdog.config": "/etc/aind/watchdog_config.yml",
    "watchdog.executable": "/opt/aind/watchdog_service",
    "watchdog.destination": "//server/staging",
    "watchdog.project_name": "Cognitive",
    "watchdog.user_email": "jdoe@example.org",
    "watchdog.transfer_endpoint": "http://aind-data-transfer-service/api/v2/submit_jobs",
}
"""A valid answer for each question that has a flag."""


def test_each_flag_writes_its_setting(door: Door) -> None:
    """Row by row: each question's flag lands on its setting in the file (one run, all flags)."""
    assert set(FLAG_ANSWERS) == {q.key for q in QUESTIONS if q.flag}  # a new question needs a row
    flags = [part for q in QUESTIONS if q.flag for part in (q.flag, FLAG_ANSWERS[q.key])]
    door("config", "init", "--no-test", "--yes", *flags).ok()
    written = yaml.safe_load(settings_file(door).read_text(encoding="utf-8"))
    for key, answer in FLAG_ANSWERS.items():
        section, _, name = key.rpartition(".")
        assert (written[section] if section else written)[name] == answer, key
    settings = shown(door)
    assert all(settings[key]["source"] == str(settings_file(door)) for key in FLAG_ANSWERS)


def test_broken_one_parameters_are_one_line(door: Door) -> None:
    caches = door.home / ".one" / ".caches"
    caches.parent.mkdir()
    caches.write_text('{"CLIENT_MAP": {', encoding="utf-8")
    ran = door("config", "init", "--from-one")
    assert ran.code == 1 and not settings_file(door).exists()
    assert ran.err == (
        f"labledger: error: ONE's parameter file {caches} is not valid JSON (line 1); run ONE's "
        "one.params.setup() again\n"
    )
