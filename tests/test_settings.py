"""Settings: precedence flags > environment > file > defaults, and one-line errors that name
the file, variable or flag to fix without ever showing the password."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from labledger.adapters.database.settings import PostgresSettings
from labledger.adapters.filesystem.user_dirs import default_config_file, default_data_dir
from labledger.adapters.settings import SECTIONS, Settings, load_settings
from labledger.domain.errors import InvalidSettings

SECRET = "hunter2-s3cret"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """An environment whose XDG folders and home are inside tmp_path, never the real home."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return {
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }


def write(tmp_path: Path, text: str, name: str = "settings.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def fails(**kwargs: object) -> str:
    with pytest.raises(InvalidSettings) as caught:
        load_settings(**kwargs)  # type: ignore[arg-type]
    message = str(caught.value)
    assert "\n" not in message
    # No chained pydantic error (its text would show raw inputs, the password among them).
    error = caught.value
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)
    return message


def test_defaults(env: dict[str, str], tmp_path: Path) -> None:
    settings = load_settings(environ=env)
    assert settings.store == "sqlite"
    assert settings.sqlite_path == tmp_path / "data" / "labledger" / "ledger.sqlite3"
    assert not settings.sqlite_path.parent.exists()  # created by the store, not here
    assert settings.postgres == PostgresSettings(user=getpass.getuser())
    assert settings.postgres.host == "127.0.0.1" and settings.postgres.port == 5432
    assert settings.postgres.dbname == "labledger" and settings.postgres.password is None
    assert settings.postgres.schema_name == "" and settings.postgres.connect_timeout == 5
    assert settings.lab is None and settings.known_labs == [] and settings.alyx_user is None
    assert settings.hash_workers >= 1 and settings.reference_dir is None


def test_yaml_file(env: dict[str, str], tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
store: postgres
sqlite_path: ~/ledger.db
lab: cortexlab
known_labs: [hoferlab, mrsicflogellab]
alyx_user: olivier
hash_workers: 3
reference_dir: ~/ref
postgres:
  host: db.lab
  port: 5433
  dbname: ledger
  user: rig1
  password: pw
  schema: rig1
  connect_timeout: 10
""",
    )
    settings = load_settings(path, environ=env)
    home = tmp_path / "home"
    assert settings.store == "postgres"
    assert settings.sqlite_path == home / "ledger.db"
    assert settings.reference_dir == home / "ref"
    assert settings.lab == "cortexlab" and settings.known_labs == ["hoferlab", "mrsicflogellab"]
    assert settings.alyx_user == "olivier" and settings.hash_workers == 3
    pg = settings.postgres
    assert (pg.host, pg.port, pg.dbname, pg.user, pg.schema_name, pg.connect_timeout) == (
        "db.lab",
        5433,
        "ledger",
        "rig1",
        "rig1",
        10,
    )
    assert pg.password is not None and pg.password.get_secret_value() == "pw"


def test_empty_file_means_defaults(env: dict[str, str], tmp_path: Path) -> None:
    assert load_settings(write(tmp_path, "# nothing yet\n"), environ=env).store == "sqlite"


def test_env_beats_file_key_by_key(env: dict[str, str], tmp_path: Path) -> None:
    path = write(tmp_path, "store: sqlite\nlab: filelab\npostgres: {host: filehost, port: 6000}\n")
    env |= {
        "LABLEDGER_STORE": "memory",
        "LABLEDGER_POSTGRES__HOST": "envhost",
        "LABLEDGER_KNOWN_LABS": "a, b",
        "LABLEDGER_POSTGRES__SCHEMA": "s1",
    }
    settings = load_settings(path, environ=env)
    assert settings.store == "memory"
    assert settings.lab == "filelab"  # not overridden: file value kept
    assert settings.postgres.host == "envhost"
    assert settings.postgres.port == 6000  # the file's sibling key survives the env override
    assert settings.postgres.schema_name == "s1"
    assert settings.known_labs == ["a", "b"]


def test_flags_beat_env_and_file(env: dict[str, str], tmp_path: Path) -> None:
    path = write(tmp_path, "lab: filelab\npostgres: {host: filehost, port: 6000, dbname: f}\n")
    env |= {
        "LABLEDGER_LAB": "envlab",
        "LABLEDGER_POSTGRES__HOST": "envhost",
        "LABLEDGER_POSTGRES__PORT": "7000",
    }
    flags = {
        "lab": "flaglab",
        "alyx_user": None,
        "store": None,
        "postgres": {"host": "flaghost", "port": None, "schema_name": "flagschema"},
    }
    settings = load_settings(path, overrides=flags, environ=env)
    assert settings.lab == "flaglab"
    assert settings.store == "sqlite" and settings.alyx_user is None  # None = flag not given
    assert settings.postgres.host == "flaghost"
    assert settings.postgres.port == 7000  # env, since the flag was None
    assert settings.postgres.dbname == "f"  # file
    assert settings.postgres.schema_name == "flagschema"


def test_flag_schema_name_beats_file_schema(env: dict[str, str], tmp_path: Path) -> None:
    path = write(tmp_path, "postgres: {schema: fromfile}\n")
    settings = load_settings(path, {"postgres": {"schema_name": "fromflag"}}, environ=env)
    assert settings.postgres.schema_name == "fromflag"


def test_unknown_key_in_file(env: dict[str, str], tmp_path: Path) -> None:
    path = write(tmp_path, "sqlte_path: /x\n")
    message = fails(config_file=path, environ=env)
    assert message.startswith(f'unknown key "sqlte_path" in {path}; known keys: ')
    assert "sqlite_path" in message


def test_unknown_nested_key_in_file_hides_its_value(env: dict[str, str], tmp_path: Path) -> None:
    path = write(tmp_path, f"postgres:\n  pasword: {SECRET}\n")
    message = fails(config_file=path, environ=env)
    assert message.startswith(f'unknown key "postgres.pasword" in {path}; known keys: ')
    assert "password" in message and SECRET not in message


def test_unknown_setting_in_env(env: dict[str, str]) -> None:
    env |= {"LABLEDGER_FOO": "1", "LABLEDGER_CONFIG": ""}
    message = fails(environ=env)
    assert message.startswith("unknown setting LABLEDGER_FOO in the environment")
    assert "LABLEDGER_SQLITE_PATH" in message and "LABLEDGER_POSTGRES__HOST" in message


def test_unknown_nested_setting_in_env(env: dict[str, str]) -> None:
    env["LABLEDGER_POSTGRES__HOTS"] = "x"
    assert fails(environ=env).startswith(
        "unknown setting LABLEDGER_POSTGRES__HOTS in the environment"
    )


def test_unknown_flag(env: dict[str, str]) -> None:
    assert fails(overrides={"bogus": 1}, environ=env).startswith(
        'unknown key "bogus" in the command line'
    )


def test_bad_value_in_file_names_key(env: dict[str, str], tmp_path: Path) -> None:
    path = write(tmp_path, "postgres:\n  port: abc\n")
    message = fails(config_file=path, environ=env)
    assert message.startswith(
        f'postgres.port in {path}: "abc" is not a whole number; correct it in that file'
    )
    assert "more)" not in message


def test_bad_value_in_env_names_variable(env: dict[str, str]) -> None:
    env["LABLEDGER_HASH_WORKERS"] = "0"
    message = fails(environ=env)
    assert message.startswith("LABLEDGER_HASH_WORKERS in the environment: ")
    assert '"0" is too small: give 1 or more' in message and "unset" in message


def test_bad_value_in_flag_names_flag(env: dict[str, str]) -> None:
    assert fails(overrides={"store": "mysql"}, environ=env).startswith(
        "store in the command line: \"mysql\" is not one of 'sqlite', 'postgres' or 'memory'; "
        "correct that flag"
    )


def test_bad_lab_name(env: dict[str, str], tmp_path: Path) -> None:
    path = write(tmp_path, "known_labs: [ok, not ok]\n")
    assert fails(config_file=path, environ=env).startswith(f"known_labs.1 in {path}: ")


def test_several_errors_reports_first_and_count(env: dict[str, str], tmp_path: Path) -> None:
    path = write(tmp_path, "store: nope\nhash_workers: 0\npostgres: {port: 0}\n")
    message = fails(config_file=path, environ=env)
    assert message.startswith(f"store in {path}: ")
    assert message.endswith("(and 2 more)")


def test_malformed_yaml_gives_line(env: dict[str, str], tmp_path: Path) -> None:
    path = write(tmp_path, "store: sqlite\nlab: [unclosed\n")
    message = fails(config_file=path, environ=env)
    assert message.startswith(f"settings file {path} line ")
    assert "fix the YAML" in message


def test_non_mapping_yaml(env: dict[str, str], tmp_path: Path) -> None:
    path = write(tmp_path, "- store\n- sqlite\n")
    message = fails(config_file=path, environ=env)
    assert message.startswith(f"settings file {path} must be a mapping")
    assert "not a list" in message


@pytest.mark.parametrize(("text", "kind"), [("false\n", "bool"), ("0\n", "int"), ("[]\n", "list")])
def test_a_file_of_one_falsy_value_is_not_read_as_empty(
    env: dict[str, str], tmp_path: Path, text: str, kind: str
) -> None:
    path = write(tmp_path, text)
    message = fails(config_file=path, environ=env)
    assert message.startswith(f"settings file {path} must be a mapping")
    assert f"not a {kind}" in message


def test_an_empty_file_or_comments_only_means_defaults(env: dict[str, str], tmp_path: Path) -> None:
    path = write(tmp_path, "# nothing yet\n")
    assert load_settings(config_file=path, environ=env).store == "sqlite"


def test_unreadable_file(env: dict[str, str], tmp_path: Path) -> None:
    folder = tmp_path / "adir.yaml"
    folder.mkdir()
    assert fails(config_file=folder, environ=env).startswith(
        f"settings file {folder} cannot be read"
    )


def test_missing_explicit_file(env: dict[str, str], tmp_path: Path) -> None:
    missing = tmp_path / "settings.yaml"
    assert fails(config_file=missing, environ=env) == (
        f"settings file {missing} does not exist; create it or drop --config"
    )


def test_missing_file_from_labledger_config(env: dict[str, str], tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    env["LABLEDGER_CONFIG"] = str(missing)
    assert fails(environ=env) == (
        f"settings file {missing} does not exist; create it or unset LABLEDGER_CONFIG"
    )


def test_labledger_config_selects_file(env: dict[str, str], tmp_path: Path) -> None:
    env["LABLEDGER_CONFIG"] = str(write(tmp_path, "lab: fromenvfile\n", "a.yaml"))
    assert load_settings(environ=env).lab == "fromenvfile"
    explicit = write(tmp_path, "lab: fromargument\n", "b.yaml")
    assert load_settings(explicit, environ=env).lab == "fromargument"


def test_default_config_file_used_only_if_present(env: dict[str, str], tmp_path: Path) -> None:
    default = default_config_file(env)
    assert default == tmp_path / "config" / "labledger" / "settings.yaml"
    assert load_settings(environ=env).lab is None  # absent: fine
    default.parent.mkdir(parents=True)
    default.write_text("lab: fromdefault\n", encoding="utf-8")
    assert load_settings(environ=env).lab == "fromdefault"


def test_os_environ_not_read_when_environ_given(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LABLEDGER_FOO", "x")
    monkeypatch.setenv("LABLEDGER_LAB", "fromosenviron")
    assert load_settings(environ=env).lab is None


def test_os_environ_read_by_default(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("LABLEDGER_CONFIG", raising=False)
    monkeypatch.setenv("LABLEDGER_LAB", "fromosenviron")
    assert load_settings().lab == "fromosenviron"


def test_password_never_leaked(env: dict[str, str], tmp_path: Path) -> None:
    path = write(tmp_path, f"postgres:\n  password: {SECRET}\n  port: abc\n")
    message = fails(config_file=path, environ=env)
    assert message.startswith(f"postgres.port in {path}")
    assert SECRET not in message

    settings = load_settings(
        write(tmp_path, f"postgres: {{password: {SECRET}}}\n", "ok.yaml"), environ=env
    )
    for text in (
        repr(settings),
        str(settings),
        repr(settings.postgres),
        str(settings.postgres),
        str(settings.describe()),
    ):
        assert SECRET not in text
    assert settings.describe()["postgres.password"] == "********"


@pytest.mark.parametrize("value", ["12345678", "[hunter2-s3cret]", "{a: hunter2-s3cret}"])
def test_bad_password_value_hidden(env: dict[str, str], tmp_path: Path, value: str) -> None:
    path = write(tmp_path, f"postgres:\n  password: {value}\n")
    message = fails(config_file=path, environ=env)
    assert message.startswith(f"postgres.password in {path}: ")
    assert "12345678" not in message and SECRET not in message


def test_bad_password_in_env_hidden(env: dict[str, str]) -> None:
    env |= {"LABLEDGER_POSTGRES__PASSWORD": SECRET, "LABLEDGER_POSTGRES__PORT": "99999"}
    message = fails(environ=env)
    assert message.startswith("LABLEDGER_POSTGRES__PORT in the environment")
    assert SECRET not in message


def test_direct_validation_error_hides_password() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(postgres={"password": 12345678, "port": SECRET})  # type: ignore[arg-type]
    assert "12345678" not in str(caught.value) and SECRET not in str(caught.value)


def test_describe(env: dict[str, str]) -> None:
    described = load_settings(environ=env, overrides={"known_labs": ["a", "b"]}).describe()
    assert set(described) == {
        "store",
        "sqlite_path",
        "sqlite_lock_timeout",
        "lab",
        "known_labs",
        "alyx_user",
        "hash_workers",
        "reference_dir",
        "postgres.host",
        "postgres.port",
        "postgres.dbname",
        "postgres.user",
        "postgres.password",
        "postgres.schema",
        "postgres.connect_timeout",
        "postgres.create_tables",
        "postgres.sslmode",
        "postgres.sslrootcert",
        "postgres.sslcert",
        "postgres.sslkey",
    } | {
        f"{section}.{field.alias or name}"
        for section, model in SECTIONS.items()
        if section != "postgres"
        for name, field in model.model_fields.items()
    }
    assert all(isinstance(value, str) for value in described.values())
    assert described["known_labs"] == "a, b" and described["postgres.port"] == "5432"
    assert described["postgres.password"] == "" and described["lab"] == ""


def test_settings_alone_ignores_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABLEDGER_STORE", "memory")
    assert Settings().store == "sqlite"


def test_default_data_dir_honours_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_data_dir() == tmp_path / "xdg" / "labledger"
    assert not (tmp_path / "xdg").exists()
    monkeypatch.setenv("XDG_DATA_HOME", "relative/is/ignored")
    assert default_data_dir() == tmp_path / "home" / ".local" / "share" / "labledger"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert default_data_dir() == tmp_path / "home" / ".local" / "share" / "labledger"


def test_default_dirs_on_macos_and_windows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(sys, "platform", "darwin")
    support = tmp_path / "Library" / "Application Support" / "labledger"
    assert default_data_dir({}) == support
    assert default_config_file({}) == support / "settings.yaml"
    monkeypatch.setattr(sys, "platform", "win32")
    assert default_data_dir({"LOCALAPPDATA": str(tmp_path / "L")}) == tmp_path / "L" / "labledger"
    assert default_data_dir({}) == tmp_path / "AppData" / "Local" / "labledger"
    assert default_config_file({"APPDATA": str(tmp_path / "R")}) == (
        tmp_path / "R" / "labledger" / "settings.yaml"
    )


def test_yaml_is_loaded_safely(env: dict[str, str], tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = write(tmp_path, f'lab: !!python/object/apply:os.system ["touch {marker}"]\n')
    message = fails(config_file=path, environ=env)
    assert message.startswith(f"settings file {path} line 1: ")
    assert "python/object/apply" in message
    assert not marker.exists()


def test_alyx_section_from_env_and_file(env: dict[str, str], tmp_path: Path) -> None:
    path = write(tmp_path, f"alyx:\n  base_url: http://alyx.local/\n  password: {SECRET}\n")
    env |= {"LABLEDGER_ALYX__READ_TIMEOUT": "2.5"}
    settings = load_settings(path, environ=env)
    assert settings.alyx.base_url == "http://alyx.local" and settings.alyx.read_timeout == 2.5
    assert SECRET not in str(settings.describe()) and SECRET not in repr(settings)


def test_alyx_bad_url_is_one_line(env: dict[str, str], tmp_path: Path) -> None:
    message = fails(config_file=write(tmp_path, "alyx: {base_url: alyx.local}\n"), environ=env)
    assert message.startswith(f"alyx.base_url in {tmp_path}")
    assert "http://" in message and "\n" not in message


def test_unknown_alyx_key_lists_known(env: dict[str, str], tmp_path: Path) -> None:
    message = fails(config_file=write(tmp_path, "alyx: {url: x}\n"), environ=env)
    assert 'unknown key "alyx.url"' in message and "base_url" in message


def test_whole_section_variable_is_json(env: dict[str, str]) -> None:
    """pydantic-settings decodes a section given whole; what it cannot decode is one line."""
    env["LABLEDGER_POSTGRES"] = '{"host": "db.lab"}'
    assert load_settings(environ=env).postgres.host == "db.lab"
    env["LABLEDGER_POSTGRES"] = f"host={SECRET}"
    message = fails(environ=env)
    assert message.startswith("LABLEDGER_POSTGRES in the environment: not a JSON object")
    assert SECRET not in message


def test_variable_below_a_plain_setting_is_unknown(env: dict[str, str]) -> None:
    env["LABLEDGER_STORE__X"] = "1"
    assert fails(environ=env).startswith("unknown setting LABLEDGER_STORE__X in the environment")
