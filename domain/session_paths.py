"""ALF session folders: `[lab/Subjects/]subject/date/number` parsed whole, and the lab decided.

Every folder name is matched whole (ONE searches inside them and truncates), and the folder
above `Subjects` counts as the lab only when it is a lab. Pure: string work only.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection
from dataclasses import replace
from pathlib import PurePath

from .alf_grammar import (
    ANY_DIGITS_RE,
    DATE_RE,
    LAB_RE,
    NUMBER_RE,
    SEPARATORS_RE,
    SUBJECT_RE,
    SUBJECTS,
    invalid,
)
from .alf_values import SessionRef


def parse_session_path(path: str | PurePath) -> SessionRef:
    """Parse a session folder, absolute or relative, `/` or `\\` separated, trailing `/` allowed.

    Folder names are matched whole, so a name ONE would truncate is an error naming it. The
    lab is the folder above a literal `Subjects` folder; whether it is a real lab is decided by
    `resolve_lab`. `.` folders and empty names (`//`) are skipped, as pathlib does.
    """
    shown = str(path)
    folders = _folders(path)
    if not folders:
        raise invalid(f'session path "{shown}" is empty; pass the session folder')
    number = folders[-1]
    _check_number(folders, shown)
    if len(folders) < 2:
        raise invalid(
            f'session folder "{number}" in {shown}: no date folder above it '
            "(ALF subject/YYYY-MM-DD/number); pass the whole session path"
        )
    date = _parse_date(folders[-2], shown)
    if len(folders) < 3:
        raise invalid(
            f'date folder "{folders[-2]}" in {shown}: no subject folder above it '
            "(ALF subject/YYYY-MM-DD/number); pass the whole session path"
        )
    subject = folders[-3]
    _check_subject(subject, shown)
    lab = _lab_above(folders[:-3], shown)
    return SessionRef(lab=lab, subject=subject, date=date, number=number)


def resolve_lab(
    ref: SessionRef, configured_lab: str | None, known_labs: Collection[str] = ()
) -> SessionRef:
    """Decide the session's lab (ONE takes any folder above `Subjects` as the lab).

    ONE takes any folder above `Subjects` as the lab (`/mnt/s0/Data/Subjects/…` → lab `Data`)
    and sends it to Alyx. Here a path lab counts only when it is the configured lab or a lab Alyx
    knows (`known_labs`, from `GET /labs`); otherwise the operator is told which folder was taken
    for a lab and how to say what the lab is. Without a path lab, the configured lab is used.
    """
    if ref.lab is None:
        return replace(ref, lab=configured_lab)
    if ref.lab == configured_lab or ref.lab in known_labs:
        return ref
    where = f"{ref.lab}/{SUBJECTS}/{ref.alyx_path}"
    if configured_lab is not None:
        raise invalid(
            f'lab folder "{ref.lab}" in {where} disagrees with the configured lab '
            f'"{configured_lab}" and is not a lab Alyx knows; move the subject folders out of '
            f'"{SUBJECTS}" if "{ref.lab}" is not a lab, or set lab = "{ref.lab}" in settings '
            f"(or use --lab {ref.lab}) if it is"
        )
    known = ", ".join(sorted(known_labs)) or "none fetched"
    raise invalid(
        f'lab folder "{ref.lab}" in {where}: the folder above "{SUBJECTS}" is taken as the '
        f"lab, but no lab is configured and it is not a lab Alyx knows (known labs: {known}); "
        "if that folder really is the lab, set "
        f'lab = "{ref.lab}" in settings (or use --lab {ref.lab}), otherwise move the subject '
        f'folders out of "{SUBJECTS}"'
    )


def _folders(path: str | PurePath) -> list[str]:
    """Folder names of `path`; a PurePath keeps `\\` inside POSIX names, a string splits on it."""
    if isinstance(path, PurePath):
        names = list(path.parts[1:] if path.anchor else path.parts)
    else:
        names = SEPARATORS_RE.split(path)
    return [name for name in names if name not in ("", ".")]


SESSION_FORM = "subject/YYYY-MM-DD/NNN, e.g. algernon/2026-11-21/001"
"""What a session folder looks like, said to whoever passed another folder."""


def _check_number(folders: list[str], shown: str) -> None:
    number = folders[-1]
    if NUMBER_RE.fullmatch(number):
        return
    if not ANY_DIGITS_RE.fullmatch(number):
        raise invalid(
            f"{shown} is {_folder_kind(folders)}, not a session folder ({SESSION_FORM}); "
            "pass the session folder itself"
        )
    digits = "digits" if len(number) > 3 else "digits 0-9 (no other script's digits)"
    raise invalid(
        f'session folder "{number}" in {shown}: a session number is 1 to 3 {digits}, e.g. 001; '
        "rename the folder"
    )


def _folder_kind(folders: list[str]) -> str:
    """What a folder that ends a path but is not a session is: named so the operator sees
    which level of lab/Subjects/subject/date/number they passed."""
    name = folders[-1]
    if name == SUBJECTS:
        return f'the folder "{SUBJECTS}" holding the subject folders'
    if len(folders) > 1 and folders[-2] == SUBJECTS:
        return f'the subject folder "{name}"'
    if DATE_RE.fullmatch(name):
        return f'the date folder "{name}"'
    if any(NUMBER_RE.fullmatch(folder) for folder in folders[:-1]):
        return f'the folder "{name}" inside a session'
    return f'the folder "{name}"'


def _parse_date(name: str, shown: str) -> datetime.date:
    if not DATE_RE.fullmatch(name):
        raise invalid(
            f'date folder "{name}" in {shown}: the date must be YYYY-MM-DD with digits 0-9 '
            "(ALF subject/YYYY-MM-DD/number); rename the folder or pass the session folder itself"
        )
    year, month, day = (int(part) for part in name.split("-"))
    try:
        return datetime.date(year, month, day)
    except ValueError as error:
        raise invalid(
            f'date folder "{name}" in {shown}: not a real calendar date ({error}); '
            "rename the folder"
        ) from None


def _check_subject(subject: str, shown: str) -> None:
    if subject == "..":
        raise invalid(
            f'subject folder ".." in {shown}: a reference to the parent folder, not a subject; '
            "pass the resolved session path"
        )
    if subject == SUBJECTS:
        raise invalid(
            f'subject folder "{SUBJECTS}" in {shown}: that is the folder holding the subject '
            "folders, so the subject folder is missing; put the session under "
            f"{SUBJECTS}/<subject>/"
        )
    if not SUBJECT_RE.fullmatch(subject):
        raise invalid(
            f'subject folder "{subject}" in {shown}: a subject must be letters, digits, "_", "-" '
            'or "." only, as an Alyx nickname; rename the folder'
        )


def _lab_above(folders: list[str], shown: str) -> str | None:
    """The lab folder when the subject's parent is `Subjects` (ALF `lab/Subjects/subject`)."""
    if not folders or folders[-1] != SUBJECTS:
        return None
    if len(folders) < 2:
        raise invalid(
            f'folder "{SUBJECTS}" in {shown} has no lab folder above it '
            f"(ALF <lab>/{SUBJECTS}/<subject>); pass the whole path, lab folder included"
        )
    lab = folders[-2]
    if not LAB_RE.fullmatch(lab):
        raise invalid(
            f'lab folder "{lab}" in {shown} (the folder above "{SUBJECTS}"): a lab must be '
            'letters, digits or "_" only; rename it to the lab name, or move the '
            f'subject folders out of "{SUBJECTS}"'
        )
    return lab
