"""pydantic's validation errors in plain words: one table from pydantic's error type to a phrase.

pydantic's own messages ("String should match pattern '^\\w+$'", "Input should be a valid integer,
unable to parse string as an integer", "Value error, ...") speak of regexes and parsers. Every
place that turns a pydantic error into a message for a person (the settings, `config init`'s
answers, the watchdog service's file, the watchdog overrides) says the problem with
:func:`plain_problem`, so a user reads what was given and what is wanted, and the caller adds
which key, where it came from and the fix.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic_core import ErrorDetails

PROBLEMS: Mapping[str, str] = {
    "string_pattern_mismatch": "{value} {pattern}",
    "string_type": "{value} is not text",
    "int_parsing": "{value} is not a whole number",
    "int_type": "{value} is not a whole number",
    "int_from_float": "{value} is not a whole number",
    "float_parsing": "{value} is not a number (write decimals with a point, e.g. 2.5)",
    "float_type": "{value} is not a number (write decimals with a point, e.g. 2.5)",
    "bool_parsing": "{value} is neither true nor false",
    "bool_type": "{value} is neither true nor false",
    "greater_than": "{value} is too small: give more than {gt}",
    "greater_than_equal": "{value} is too small: give {ge} or more",
    "less_than": "{value} is too large: give less than {lt}",
    "less_than_equal": "{value} is too large: give {le} or less",
    "literal_error": "{value} is not one of {expected}",
    "value_error": "{value}: {error}",
    "missing": "is missing",
    "extra_forbidden": "is not a known key",
    "list_type": "{value} is not a list (write [first, second])",
    "dict_type": "{value} is not a section of keys",
    "model_type": "{value} is not a section of keys",
    "path_type": "{value} is not a file or folder path",
    "time_parsing": "{value} is not a time of day (write HH:MM)",
    "time_type": "{value} is not a time of day (write HH:MM)",
}
"""pydantic's error type -> the problem, with the value given (`{value}`) and the limits of the
error's context (`{ge}`, `{expected}`, ...). A type not listed keeps pydantic's own message."""

PATTERNS: Mapping[str, str] = {
    r"^\w+$": "is not one word: use letters, digits and _ only, e.g. cortexlab",
}
"""A constraint pattern -> what it asks for, so no message shows a regex."""

HIDDEN = "the value"
"""Said instead of a value that must not be shown (a password) or is not a plain scalar."""


def plain_problem(error: ErrorDetails, show_value: bool = True) -> str:
    """The problem of one pydantic error in plain words, without the key or the fix; the value
    given is quoted only when ``show_value`` and it is a plain scalar."""
    given = error.get("input")
    shown = show_value and isinstance(given, str | int | float | bool) and "input" in error
    value = _quoted(given) if shown else HIDDEN
    context = {name: _number(item) for name, item in (error.get("ctx") or {}).items()}
    template = PROBLEMS.get(error["type"])
    if template is None:
        return f"{value}: {error['msg'].removeprefix('Value error, ')}"
    pattern = PATTERNS.get(context.get("pattern", ""), "does not have the form asked for")
    return template.format_map({**context, "value": value, "pattern": pattern})


def _quoted(value: str | int | float | bool) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    return str(value).lower() if isinstance(value, bool) else str(value)


def _number(item: object) -> str:
    """A limit as a person writes it: 0.0 as 0, 2.5 as 2.5."""
    return f"{item:g}" if isinstance(item, float) else str(item)
