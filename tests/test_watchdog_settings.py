"""The `watchdog:` settings section, the service's paths and its WatchConfig file.

Every key of clabe 0.14.1's WatchdogSettings is read from the file and the environment; keys the
0.1.9 service ignores are warned about one by one; YAML's sexagesimal trap is refused.
"""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest
import yaml
from aind_watchdog_service.models.watch_config import WatchConfig as ServiceWatchConfig

from labledger.adapters.settings import load_settings
from labledger.adapters.watchdog.service_config import (
    InvalidWatchConfig,
    WatchdogNotConfigured,
    read_watch_config,
    service_paths,
)
from labledger.adapters.watchdog.settings import IGNORED_KEYS, WatchdogSettings
from labledger.domain.errors import InvalidSettings

FULL = """
watchdog:
  destination: //allen/aind/scratch
  schedule_time: '20:00:00'
  project_name: Example Project
  platform: behavior
  capsule_id: 1a2b
  script: {run: [echo]}
  s3_bucket: private
  mount: data
  force_cloud_sync: true
  transfer_endpoint: http://aind-data-transfer-service/api/v2/submit_jobs
  delete_modalities_source_after_success: false
  extra_identifying_info: {rig: rig-01}
  upload_tasks:
    custom_task:
      job_settings: {input_dir: "{{ destination }}/behavior"}
  job_config: ecephys
  data_description_tags: [tag-a]
  extra_modality_data: {behavior: [/data/extra]}
  user_email: jdoe@example.org
"""


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return {"XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}


def settings_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, env: dict[str, str], text: str) -> WatchdogSettings:
    return load_settings(settings_file(tmp_path, text), environ=env).watchdog


def refused(tmp_path: Path, env: dict[str, str], text: str) -> str:
    with pytest.raises(InvalidSettings) as caught:
        load_settings(settings_file(tmp_path, text), environ=env)
    assert "\n" not in str(caught.value)
    return str(caught.value)


def test_every_clabe_field_is_read_from_the_file(tmp_path: Path, env: dict[str, str]) -> None:
    watchdog = load(tmp_path, env, FULL)
    assert watchdog.destination == "//allen/aind/scratch"
    assert watchdog.schedule_time == time(20, 0)
    assert watchdog.project_name == "Example Project" and watchdog.platform == "behavior"
    assert (watchdog.capsule_id, watchdog.mount, watchdog.force_cloud_sync) == (
        "1a2b",
        "data",
        True,
    )
    assert watchdog.script == {"run": ["echo"]} and watchdog.s3_bucket == "private"
    assert watchdog.extra_identifying_info == {"rig": "rig-01"}
    assert watchdog.upload_tasks == {
        "custom_task": {"job_settings": {"input_dir": "{{ destination }}/behavior"}}
    }
    assert watchdog.job_type == "ecephys"  # job_config is the old name of job_type
    assert watchdog.data_description_tags == ["tag-a"]
    assert watchdog.extra_modality_data == {"behavior": ["/data/extra"]}
    options = watchdog.transfer_options()
    assert options.s3_bucket == "private" and options.job_type == "ecephys"
    assert sorted(w.split()[0] for w in watchdog.ignored_key_warnings()) == sorted(
        f"watchdog.{key}" for key in IGNORED_KEYS
    )


def test_the_environment_fills_the_section(tmp_path: Path, env: dict[str, str]) -> None:
    env.update(
        {
            "LABLEDGER_WATCHDOG__PROJECT_NAME": "From Env",
            "LABLEDGER_WATCHDOG__SCHEDULE_TIME": "20:00:00",
            "LABLEDGER_WATCHDOG__EXTRA_IDENTIFYING_INFO": '{"rig": "rig-02"}',
            "LABLEDGER_WATCHDOG__DATA_DESCRIPTION_TAGS": "a, b",
            "LABLEDGER_WATCHDOG__TRANSFER_ENDPOINT": "null",
            "LABLEDGER_WATCHDOG__DESTINATION": "/mnt/staging",
            "LABLEDGER_WATCHDOG__USER_EMAIL": "op@example.org",
        }
    )
    watchdog = load(tmp_path, env, "watchdog:\n  project_name: From File\n")
    assert watchdog.project_name == "From Env" and watchdog.schedule_time == time(20, 0)
    assert watchdog.extra_identifying_info == {"rig": "rig-02"}
    assert watchdog.data_description_tags == ["a", "b"]
    assert watchdog.transfer_options().transfer_endpoint is None  # explicit null: copy only


@pytest.mark.parametrize(
    ("written", "shown"),
    [("20:00:00", "'20:00:00'"), ("20:00", "'20:00'"), ("8:30:00", "'08:30:00'")],
)
def test_an_unquoted_time_is_refused_with_the_quoted_form(
    tmp_path: Path, env: dict[str, str], written: str, shown: str
) -> None:
    """YAML 1.1 reads these as base-60 integers; pydantic would make them UTC times."""
    message = refused(tmp_path, env, f"watchdog:\n  schedule_time: {written}\n")
    assert message.startswith(f"watchdog.schedule_time in {tmp_path}")
    assert f"write it quoted: {shown}" in message


def test_a_leading_zero_time_is_a_string_and_accepted(tmp_path: Path, env: dict[str, str]) -> None:
    assert load(tmp_path, env, "watchdog:\n  schedule_time: 08:30:00\n").schedule_time == time(
        8, 30
    )


def test_a_platform_object_is_refused(tmp_path: Path, env: dict[str, str]) -> None:
    text = "watchdog:\n  platform: {name: Behavior platform, abbreviation: behavior}\n"
    assert "as a string, e.g. 'behavior'" in refused(tmp_path, env, text)
    assert "not a platform abbreviation" in refused(
        tmp_path, env, "watchdog:\n  platform: Behavior\n"
    )


@pytest.mark.parametrize("key", sorted(IGNORED_KEYS))
def test_each_ignored_key_gives_one_warning_naming_it(
    tmp_path: Path, env: dict[str, str], key: str
) -> None:
    value = {"script": "{run: [x]}", "force_cloud_sync": "true", "s3_bucket": "open"}.get(key, "x")
    watchdog = load(tmp_path, env, f"watchdog:\n  {key}: {value}\n")
    assert watchdog.ignored_key_warnings() == [
        f"watchdog.{key} is ignored by aind-watchdog-service 0.1.9: {IGNORED_KEYS[key]}"
    ]


def test_no_ignored_key_no_warning(tmp_path: Path, env: dict[str, str]) -> None:
    assert load(tmp_path, env, "watchdog:\n  project_name: p\n").ignored_key_warnings() == []


def test_job_config_disagreeing_with_job_type_is_refused(
    tmp_path: Path, env: dict[str, str]
) -> None:
    text = "watchdog:\n  job_type: default\n  job_config: ecephys\n"
    assert "disagree" in refused(tmp_path, env, text)


def test_top_level_watchdog_keys_are_not_read_as_the_section(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """clabe read a file without `watchdog:` whole; here a top-level key is unknown."""
    assert 'unknown key "project_name"' in refused(tmp_path, env, "project_name: leaked\n")


@pytest.mark.parametrize(
    ("values", "first"),
    [
        ({}, "destination"),
        ({"destination": "/d"}, "project_name"),
        ({"destination": "/d", "project_name": "p"}, "user_email"),
        ({"destination": "/d", "project_name": "p", "user_email": "a@b.org"}, "transfer_endpoint"),
    ],
)
def test_transfer_needs_each_setting_explicitly(values: dict[str, str], first: str) -> None:
    """No DEV endpoint default, no missing e-mail discovered after the copy."""
    with pytest.raises(InvalidSettings) as caught:
        WatchdogSettings.model_validate(values).transfer_options()
    assert str(caught.value).startswith(f"watchdog.{first} is not set")
    assert f"LABLEDGER_WATCHDOG__{first.upper()}" in str(caught.value)


def test_the_setting_wins_over_the_variable_which_is_the_fallback(tmp_path: Path) -> None:
    exe, config = tmp_path / "watchdog.exe", tmp_path / "config.yml"
    exe.write_text("")
    config.write_text("")
    environ = {"WATCHDOG_EXE": str(exe), "WATCHDOG_CONFIG": str(tmp_path / "other.yml")}
    paths = service_paths(WatchdogSettings(config=config), environ)
    assert paths.require_executable() == exe and paths.executable.source == "WATCHDOG_EXE"
    assert paths.require_config() == config and paths.config.source.startswith("watchdog.config")
    with pytest.raises(WatchdogNotConfigured, match=r"other.yml \(from WATCHDOG_CONFIG\)"):
        service_paths(WatchdogSettings(), environ).require_config()
    with pytest.raises(WatchdogNotConfigured, match=r"set watchdog.config .* or WATCHDOG_CONFIG"):
        service_paths(WatchdogSettings(), {}).require_config()


def test_watch_config_is_read_like_the_service_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "config.yml"
    path.write_text(
        "flag_dir: /w/flags\nmanifest_complete: /w/complete\nmisfire_grace_time_s: null\n"
        "structured_log_file: /w/log.jsonl\nwebhook_url: http://old\nrobocopy_args: [/e]\n"
    )
    ours = read_watch_config(path)
    theirs = ServiceWatchConfig(**yaml.safe_load(path.read_text()))
    assert (ours.flag_dir, ours.manifest_complete) == (theirs.flag_dir, theirs.manifest_complete)
    assert ours.misfire_grace_time_s is theirs.misfire_grace_time_s is None
    assert Path(str(ours.structured_log_file)) == theirs.structured_log_file


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("flag_dir: /w/flags\n", "manifest_complete is missing; correct that file"),
        ("flag_dir: [unclosed\n", "not valid YAML"),
        ("- a list\n", "must be a mapping"),
        ("!!python/object/apply:os.system [echo]\n", "not valid YAML"),
    ],
)
def test_bad_watch_config_is_one_line(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "config.yml"
    path.write_text(text)
    with pytest.raises(InvalidWatchConfig) as caught:
        read_watch_config(path)
    assert words in str(caught.value) and "\n" not in str(caught.value)
