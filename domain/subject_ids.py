"""The subject id a manifest gives AIND, from the session's subject (its Alyx nickname).

aind-data-schema's `subject_id` allows no `_` (`DataRegex.NO_UNDERSCORES`), and the AIND data
name `[platform_]subject_YYYY-MM-DD_HH-MM-SS` is split at `_`: without a platform,
`SWC_043_2026-11-21_11-16-17` reads as platform `SWC`, subject `043`. Alyx and ALF allow `_` in
nicknames, so a lab maps its ids in the settings: an explicit table (`watchdog.subject_ids`)
and, for every other subject, plain text replacements (`watchdog.subject_id_replace`). Nothing is
evaluated. The ledger and Alyx keep the nickname; only the manifest carries the AIND id.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .manifest_errors import InvalidManifest

IDS = "watchdog.subject_ids"
REPLACE = "watchdog.subject_id_replace"
_USABLE = re.compile(r"[^\W_]|[.-]")
"""A character of an AIND subject id here: a letter or digit, `.` or `-` (no `_`). ALF's
subject folders allow `[\\w.-]`; the id must also be usable in the staging folder's name."""


def usable(subject_id: str) -> bool:
    return bool(subject_id) and all(_USABLE.fullmatch(char) for char in subject_id)


def aind_subject_id(subject: str, ids: Mapping[str, str], replace: Mapping[str, str]) -> str:
    """The AIND subject id of `subject`; a one-line refusal naming the rule and the fix."""
    if subject in ids:
        mapped, source = ids[subject], f"{IDS} maps {subject} to"
    else:
        mapped = subject
        for old, new in replace.items():
            if not old:
                raise InvalidManifest(f"{REPLACE} has an empty key; give the text to replace")
            mapped = mapped.replace(old, new)
        source = f"{REPLACE} makes {subject}"
    if usable(mapped):
        return mapped
    if mapped == subject:
        suggestion = re.sub(r"[^\w.-]|_", "-", subject)
        raise InvalidManifest(
            f'subject {subject} is no valid AIND subject_id: aind-data-schema allows no "_" in '
            "it (and the data name would be split there); map it in the watchdog settings, "
            f'e.g. subject_ids: {{{subject}: {suggestion}}}, or subject_id_replace: {{"_": "-"}} '
            "for every subject"
        )
    raise InvalidManifest(
        f'{source} "{mapped}", which is no valid AIND subject_id; use letters, digits, "." '
        'and "-" only (no "_")'
    )
