"""pydantic's errors in plain words, row by row: each row of `PROBLEMS` is met by a real pydantic
validation of a small model, and the line a person reads names the value and what is wanted,
never a regex, a parser's words or "Value error"; then the settings file and `config init`'s
flags say it that way through the installed `labledger`.
"""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from pydantic import field_validator as validator

from labledger.adapters.validation_words import PATTERNS, PROBLEMS, plain_problem
from tests.doors import Door


class Sample(BaseModel):
    """One field per kind of constraint the settings use."""

    model_config = ConfigDict(extra="forbid")

    lab: Annotated[str, StringConstraints(pattern=r"^\w+$")] = "x"
    text: str = ""
    workers: int = Field(default=1, ge=1)
    port: int = Field(default=1, le=65535)
    below: int = Field(default=0, lt=10)
    timeout: float = Field(default=1.0, gt=0)
    flag: bool = True
    store: Literal["sqlite", "postgres"] = "sqlite"
    url: str = "http://x"
    labs: list[str] = []
    columns: dict[str, int] = {}
    folder: Path = Path()
    at: time = time(0)
    required: int

    @validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value


class Section(BaseModel):
    inner: Sample


ROWS: list[tuple[str, dict[str, Any], str]] = [
    (
        "string_pattern_mismatch",
        {"lab": "my lab"},
        '"my lab" is not one word: use letters, digits and _ only, e.g. cortexlab',
    ),
    ("string_type", {"text": 3}, "3 is not text"),
    ("int_parsing", {"workers": "lots"}, '"lots" is not a whole number'),
    ("int_type", {"workers": None}, "the value is not a whole number"),
    ("int_from_float", {"workers": 2.5}, "2.5 is not a whole number"),
    (
        "float_parsing",
        {"timeout": "2,5"},
        '"2,5" is not a number (write decimals with a point, e.g. 2.5)',
    ),
    (
        "float_type",
        {"timeout": None},
        "the value is not a number (write decimals with a point, e.g. 2.5)",
    ),
    ("bool_parsing", {"flag": "maybe"}, '"maybe" is neither true nor false'),
    ("bool_type", {"flag": None}, "the value is neither true nor false"),
    ("greater_than", {"timeout": -1}, "-1 is too small: give more than 0"),
    ("greater_than_equal", {"workers": 0}, "0 is too small: give 1 or more"),
    ("less_than", {"below": 10}, "10 is too large: give less than 10"),
    ("less_than_equal", {"port": 70000}, "70000 is too large: give 65535 or less"),
    ("literal_error", {"store": "mysql"}, "\"mysql\" is not one of 'sqlite' or 'postgres'"),
    ("value_error", {"url": "alyx.lab"}, '"alyx.lab": must start with http:// or https://'),
    ("missing", {}, "is missing"),
    ("extra_forbidden", {"bogus": 1}, "is not a known key"),
    ("list_type", {"labs": 3}, "3 is not a list (write [first, second])"),
    ("dict_type", {"columns": "x"}, '"x" is not a section of keys'),
    ("model_type", {}, '"x" is not a section of keys'),
    ("path_type", {"folder": 3}, "3 is not a file or folder path"),
    ("time_parsing", {"at": "noon"}, '"noon" is not a time of day (write HH:MM)'),
    ("time_type", {"at": None}, "the value is not a time of day (write HH:MM)"),
]
"""Each error type of the table, the input that makes pydantic raise it, the words said."""


def _error_of(kind: str, given: dict[str, Any]) -> Any:
    values = {"required": 1, **given}
    if kind == "missing":
        values.pop("required")
    if kind == "model_type":  # a whole section given as text
        with pytest.raises(ValidationError) as raised:
            Section.model_validate({"inner": "x"})
        (error,) = raised.value.errors(include_url=False)
        return error
    with pytest.raises(ValidationError) as raised:
        Sample.model_validate(values)
    (error,) = raised.value.errors(include_url=False)
    return error


def test_every_row_has_a_case() -> None:
    assert [kind for kind, _, _ in ROWS] == list(PROBLEMS)


@pytest.mark.parametrize(("kind", "given", "said"), ROWS, ids=[row[0] for row in ROWS])
def test_each_error_type_in_plain_words(kind: str, given: dict[str, Any], said: str) -> None:
    error = _error_of(kind, given)
    assert error["type"] == kind  # the row's input really meets that error
    assert plain_problem(error) == said


def test_a_value_not_to_show_is_named_only_as_the_value() -> None:
    error = _error_of("string_pattern_mismatch", {"lab": "secret word"})
    assert plain_problem(error, show_value=False) == (
        "the value is not one word: use letters, digits and _ only, e.g. cortexlab"
    )


def _patterns(schema: object) -> set[str]:
    """Every `pattern` constraint anywhere in a JSON schema."""
    if isinstance(schema, dict):
        own = {schema["pattern"]} if isinstance(schema.get("pattern"), str) else set()
        return own.union(*(_patterns(value) for value in schema.values()))
    if isinstance(schema, list):
        return set().union(*(_patterns(value) for value in schema))
    return set()


def test_every_pattern_in_the_settings_has_words() -> None:
    """No settings field may use a pattern the table cannot say in words (the lab's, and the
    known labs', are one)."""
    from labledger.adapters.settings import Settings

    used = _patterns(Settings.model_json_schema())
    assert used, "the settings' patterns were not found"
    assert used <= set(PATTERNS), used - set(PATTERNS)


def test_a_settings_file_value_is_said_in_plain_words(door: Door) -> None:
    """As the newcomer met it: `hash_workers: lots` in the settings file."""
    config = door.home / "settings.yaml"
    config.write_text("hash_workers: lots\n", encoding="utf-8")
    ran = door("--config", str(config), "status")
    assert ran.code == 1
    assert ran.err == (
        f'labledger: error: hash_workers in {config}: "lots" is not a whole number; '
        "correct it in that file\n"
    )


def test_config_init_flags_are_said_in_plain_words(door: Door) -> None:
    ran = door("config", "init", "--lab", "my lab", "--yes")
    assert ran.code == 1 and "pattern" not in ran.err and "^" not in ran.err
    assert ran.err == (
        'labledger: error: lab in the command line: "my lab" is not one word: use letters, '
        "digits and _ only, e.g. cortexlab; correct that flag\n"
    )
    url = door("config", "init", "--alyx-url", "alyx.example.org", "--yes")
    assert url.code == 1 and "Value error" not in url.err
    assert '"alyx.example.org": must start with http:// or https://' in url.err
