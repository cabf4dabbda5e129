"""How a value is written in the HTML reports: the kind of each table column, and text that
breaks only where a person would break it, and folds when long.

Text wraps between its words; a path also after each of its slashes. A token is never broken
inside: a file, event or manifest name, a time, an eid (the browser would otherwise break a name at
a hyphen, or anywhere when a column is narrow). A token longer than LONG_TOKEN characters (a
pathological file name) shows its first characters on one line, like an eid, with the whole name
in a tooltip and selected by one click, so no name can push the page past the window.

Pure functions of the values; `html.py` puts them together into the page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from html import escape
from typing import Any

EMPTY = "–"
"""How a missing value (None) shows: an en dash, visibly not the text 'None' nor a blank."""

LONG_TEXT = 120
"""Characters beyond which a cell shows three lines and opens on a click to show the rest."""

UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)
"""An eid or another id: never broken across lines (it is copied whole)."""

TIME = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d")

TOKEN = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d)?|\S+")
"""A token of free text: a time (its date and hour together, a space between them), else a run
of characters without a space."""

PLAIN = re.compile(r"[\w.,:;()\[\]'\"=@&<>]*/?")
"""A piece of a token the browser never breaks inside (letters, digits, `_` and punctuation it
keeps with its neighbours); any other piece (a hyphen: `2026-11-21`, `algernon_11-16-17`) is
written in a span kept on one line."""

LONG_TOKEN = 40
ID_SHOWN = 9
"""Characters of an eid the table shows (the style's `#rows .id` width, in `ch`)."""
"""Characters beyond which a piece of a token shows its first characters only (see above)."""

SHORT_WORDS = 32
"""Characters of the longest value of a column of words (user, host, state; no path)."""


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_id(value: Any) -> bool:
    return isinstance(value, str) and UUID.fullmatch(value) is not None


def _is_time(value: Any) -> bool:
    return isinstance(value, str) and TIME.match(value) is not None


def _is_word(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= SHORT_WORDS and "/" not in value


def _is_path(value: Any) -> bool:
    return isinstance(value, str) and " " not in value


COLUMN_KINDS: tuple[tuple[str, Callable[[Any], bool]], ...] = (
    ("num", _is_number),
    ("uid", _is_id),
    ("time", _is_time),
    ("word", _is_word),
    ("path", _is_path),
)
"""How a table column is laid out, by what all its (present) values are; the first row that fits
wins, and a column that fits none is text. num: right-aligned digits; uid: the first characters
of an eid on one line, the whole eid selected by one click; time: never wrapped; word: short
single values (a user, a host, a state), wrapped between words only; path: no spaces, breaks
after its slashes only; text (errors, summaries): wraps between words and after a path's slashes.
No kind breaks inside a name, time or id (see `breakable`); a name too long for any column shows
its first characters, so no value can push the table past the window."""

TEXT_KINDS = ("word", "path", "text")
"""Kinds of column written as free text (breakable, ids kept whole, folded when long); the others
hold one value each (a number, an id, a time)."""


def column_kind(values: Iterable[Any]) -> str:
    """The first kind of COLUMN_KINDS that all present values fit, else 'text'."""
    present = [value for value in values if value is not None]
    for kind, fits in COLUMN_KINDS:
        if present and all(fits(value) for value in present):
            return kind
    return "text"


def prose(text: str) -> str:
    """Free text for a table cell: wrapped between words (see `breakable`), its ids with a
    tooltip, and folded to three lines when long (a click on it shows the rest; no script)."""
    shown = breakable(text, titled=True)
    if len(text) > LONG_TEXT:
        return f'<details class="clip"><summary>{shown}</summary></details>'
    return shown


def breakable(text: str, *, titled: bool = False) -> str:
    """Escaped text that may break between its words and after a path's slashes, nowhere else:
    each token (a time with its space, a word, a path) is kept whole, an id as `ids` shows it
    (`titled`: with a tooltip)."""
    shown: list[str] = []
    end = 0
    for found in TOKEN.finditer(text):
        shown.append(escape(text[end : found.start()]))
        token = found.group()
        if " " in token:  # a time: date and hour on one line
            shown.append(f'<span class="w">{escape(token)}</span>')
        else:  # after each slash a line may break; each piece is kept whole
            pieces = [piece for piece in re.split(r"(?<=/)", token) if piece]
            shown.append("<wbr>".join(_piece(piece, titled) for piece in pieces))
        end = found.end()
    shown.append(escape(text[end:]))
    return "".join(shown)


def narrowest(value: Any, kind: str) -> int:
    """Characters of the widest part of a value that its cell never breaks: an eid's first
    characters (ID_SHOWN), a number or time whole, else the longest piece of text between
    spaces and after slashes (a long one cut to LONG_TOKEN, as it shows)."""
    text = as_text(value)
    if kind == "uid":
        return ID_SHOWN
    if kind in ("num", "time"):
        return len(text)
    pieces = (piece for token in TOKEN.findall(text) for piece in re.split(r"(?<=/)", token))
    return max((min(len(piece), LONG_TOKEN) for piece in pieces), default=0)


def _piece(piece: str, titled: bool) -> str:
    """A piece of a token (up to and with a slash), escaped and kept on one line."""
    text = escape(piece)
    if UUID.search(piece):
        return (
            ids(text, titled=titled)
            if UUID.fullmatch(piece)
            else f'<span class="w">{ids(text, titled=titled)}</span>'
        )
    if len(piece) > LONG_TOKEN:
        return f'<span class="long" title="{text}">{text}</span>'
    if PLAIN.fullmatch(piece):
        return text
    return f'<span class="w">{text}</span>'


def ids(escaped: str, *, titled: bool = False) -> str:
    """Escaped text with each id in a span that keeps it on one line and selects it whole on a
    click, so copying takes all of it; `titled`: where the table shows only its first
    characters, a tooltip shows the whole id too."""

    def span(found: re.Match[str]) -> str:
        title = f' title="{found.group()}"' if titled else ""
        return f'<span class="id"{title}>{found.group()}</span>'

    return UUID.sub(span, escaped)


def label(column: str) -> str:
    return escape(column.replace("_", " "))


def as_text(value: Any) -> str:
    """A value as short text: None as a dash, dicts as `k=v, …`, lists comma-separated."""
    if value is None:
        return EMPTY
    if isinstance(value, dict):
        return ", ".join(f"{key}={as_text(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(as_text(item) for item in value)
    return str(value)


def slug(text: str) -> str:
    """Text made safe as part of a class name: lower case letters, digits and dashes."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "none"
