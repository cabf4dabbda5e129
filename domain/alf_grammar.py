"""The ALF grammar (session path, collection, revision, file name) as patterns, and the one-line
error every ALF parser raises.

Pure: string work only.
"""

from __future__ import annotations

import re

from .errors import InvalidALFPath

# -- grammar pieces ------------------------------------------------------------------------------
# Every pattern below is applied with `fullmatch` to ONE folder name or ONE file name, never
# searched inside a longer string: that anchoring stops ONE's truncation of bad names. The
# file-name pieces are ONE-api 3.6.1's compiled pieces unchanged, because the split into
# object/attribute decides the dataset type on the server too; only the digits are stricter than
# ONE's (see below).

LAB = r"\w+"
"""A lab folder: Unicode letters, digits, `_`. Only the folder directly above `Subjects`."""

SUBJECT = r"[\w.-]+"
"""A subject folder: the set of Alyx's nickname validator `^[\\w.-]+$`."""

DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
"""A date folder, ASCII digits only (Python's `\\d` also matches other scripts' digits, `٢٠٢٤`,
which ONE would send as they are). It must also be a real calendar date."""

NUMBER = r"[0-9]{1,3}"
"""A session number folder, 1 to 3 ASCII digits, sent as spelled on disk (Alyx keys on it)."""

COLLECTION_FOLDER = r"[\w.-]+"
"""One folder of a collection (`alf`, `probe00`): no space, no `#` (Alyx drops others)."""

REVISION_FOLDER = r"#(?P<revision>[\w.-]+)#"
"""The revision folder `#name#`; at most one, and it must directly contain the file."""

NAMESPACE = r"(?<=_)[a-zA-Z0-9]+"
OBJECT = r"\w+"
ATTRIBUTE = r"(?:_[a-z]+_)?[a-zA-Z0-9]+(?:_times(?=[_.])|_intervals(?=[_.]))?"
TIMESCALE = r"\w+"
EXTRA = r"[.\w-]+"
EXTENSION = r"\w+"

FILE = (
    rf"_?(?P<namespace>{NAMESPACE})?_?(?P<object>{OBJECT})"
    rf"\.(?P<attribute>{ATTRIBUTE})(?:_(?P<timescale>{TIMESCALE}))?"
    rf"(?:\.(?P<extra>{EXTRA}))*\.(?P<extension>{EXTENSION})"
)
"""`[_namespace_]object.attribute[_timescale][.extra…].extension`, matched whole. ONE anchors the
end with `$`, which also accepts a trailing newline; `fullmatch` does not."""

LAB_RE = re.compile(LAB)
SUBJECT_RE = re.compile(SUBJECT)
DATE_RE = re.compile(DATE)
NUMBER_RE = re.compile(NUMBER)
COLLECTION_FOLDER_RE = re.compile(COLLECTION_FOLDER)
REVISION_FOLDER_RE = re.compile(REVISION_FOLDER)
FILE_RE = re.compile(FILE)
OBJECT_PART_RE = re.compile(OBJECT)
ATTRIBUTE_PART_RE = re.compile(rf"{ATTRIBUTE}(?:_{TIMESCALE})?")
EXTRA_PART_RE = re.compile(EXTRA)
EXTENSION_PART_RE = re.compile(EXTENSION)
ANY_DIGITS_RE = re.compile(r"\d+")
SEPARATORS_RE = re.compile(r"[\\/]+")

SUBJECTS = "Subjects"
FILE_GRAMMAR = "[_namespace_]object.attribute[_timescale][.extra].extension"


def invalid(message: str) -> InvalidALFPath:
    """The error, on one line: control and invisible characters of names are shown escaped."""
    return InvalidALFPath(
        "".join(
            char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
            for char in message
        )
    )
