r"""Strict, anchored parsing of ALF session folders, relative file paths and file names.

The grammar is §2 of the registration contract (ALF as ONE-api 3.6.1 and Alyx 3.6.1 read it).
ONE *searches* its patterns inside a path instead of matching whole folder names, so a bad folder
name is silently truncated rather than refused (quirk C-1: `my subject` → subject `subject`,
`0001` → number `000`), any folder above `Subjects` becomes the lab (C-2), and collections,
revisions and file names are sent to Alyx unchecked, where bad collection folders are then dropped
(C-3, S-5). labledger matches every folder name WHOLE and raises `InvalidALFPath` with one line
naming the offending part, the rule and the fix. On every path both accept, the parts are the same
as ONE's (the tests check this with hypothesis), so what reaches Alyx is what ONE would send.

Where labledger refuses what ONE accepts (each case is a row of the tests' DELIBERATE_DIFFERENCES):
* a folder name ONE would truncate: subject, number, lab (C-1);
* date and number digits other than 0-9, a subject folder named `Subjects` (the subject folder is
  missing), a `Subjects` folder with no lab folder above it, a `..` subject;
* a collection folder outside `[\w.-]+`, or empty, `.` or `..`; a revision that does not directly
  contain the file, or a second one (C-3, S-5);
* a file name ONE's folder walk registers without checking it (C-3, C-8), or with a trailing
  newline (ONE's `$` allows one).
Whether a lab folder is a real lab is `resolve_lab`'s decision (C-2).

Pure: string work only, no filesystem access.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Collection
from dataclasses import dataclass, replace
from pathlib import PurePath

from .errors import InvalidALFPath

# -- grammar pieces (§2.1-§2.4) --------------------------------------------------------------------
# Every pattern below is applied with `fullmatch` to ONE folder name or ONE file name, never
# searched inside a longer string: that anchoring is the C-1/C-3 fix. The file-name pieces are
# the contract's §2.4 pieces unchanged, because the split into object/attribute decides the
# dataset type on the server too; only the digits are stricter than ONE's (see below).

LAB = r"\w+"
"""A lab folder: Unicode letters, digits, `_`. Only the folder directly above `Subjects`."""

SUBJECT = r"[\w.-]+"
"""A subject folder: the set of Alyx's nickname validator `^[\\w.-]+$`."""

DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
"""A date folder, ASCII digits only (Python's `\\d` also matches other scripts' digits, `٢٠٢٤`,
which ONE would send as they are). It must also be a real calendar date."""

NUMBER = r"[0-9]{1,3}"
"""A session number folder, 1 to 3 ASCII digits, spelled on the wire as on disk (S-6)."""

COLLECTION_FOLDER = r"[\w.-]+"
"""One folder of a collection (`alf`, `probe00`): no space, no `#` (Alyx drops others, S-5)."""

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

_LAB_RE = re.compile(LAB)
_SUBJECT_RE = re.compile(SUBJECT)
_DATE_RE = re.compile(DATE)
_NUMBER_RE = re.compile(NUMBER)
_COLLECTION_FOLDER_RE = re.compile(COLLECTION_FOLDER)
_REVISION_FOLDER_RE = re.compile(REVISION_FOLDER)
_FILE_RE = re.compile(FILE)
_OBJECT_PART_RE = re.compile(OBJECT)
_ATTRIBUTE_PART_RE = re.compile(rf"{ATTRIBUTE}(?:_{TIMESCALE})?")
_EXTRA_PART_RE = re.compile(EXTRA)
_EXTENSION_PART_RE = re.compile(EXTENSION)
_ANY_DIGITS_RE = re.compile(r"\d+")
_SEPARATORS_RE = re.compile(r"[\\/]+")

_SUBJECTS = "Subjects"
_FILE_GRAMMAR = "[_namespace_]object.attribute[_timescale][.extra].extension"


# -- values --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionRef:
    """A session as its folder names it: `[lab/Subjects/]subject/date/number`."""

    lab: str | None
    subject: str
    date: datetime.date
    number: str
    """Exactly as the folder spells it (`001` or `1`): Alyx keys file records on it (S-6)."""

    @property
    def alyx_path(self) -> str:
        """The `path` Alyx gets: `subject/YYYY-MM-DD/number`, never the lab."""
        return f"{self.subject}/{self.date.isoformat()}/{self.number}"

    @property
    def key(self) -> str:
        """For display: `lab/subject/date/number`, or without the lab when there is none."""
        return self.alyx_path if self.lab is None else f"{self.lab}/{self.alyx_path}"


@dataclass(frozen=True)
class FileName:
    """The parts of an ALF file name; '' where a part is absent (ONE says None)."""

    namespace: str
    object: str
    attribute: str
    timescale: str
    extra: str
    """The extra parts joined with dots (`extra.foo`)."""
    extension: str

    @property
    def object_attribute(self) -> str:
        """`object.attribute`: what a dataset type without a filename pattern is named after."""
        return f"{self.object}.{self.attribute}"


@dataclass(frozen=True)
class RelPath:
    """A file path relative to its session folder: `[collection/][#revision#/]name`."""

    collection: str
    """'' or folders joined with `/` (`alf/probe00`)."""
    revision: str
    """'' or the revision name without its `#` signs."""
    filename: FileName
    name: str
    """The basename."""

    def as_posix(self) -> str:
        """The path again, `/`-separated: `alf/probe00/#2024-01-02#/spikes.times.npy`."""
        revision = f"#{self.revision}#" if self.revision else ""
        return "/".join(part for part in (self.collection, revision, self.name) if part)


# -- session folders -----------------------------------------------------------------------------


def parse_session_path(path: str | PurePath) -> SessionRef:
    """Parse a session folder, absolute or relative, `/` or `\\` separated, trailing `/` allowed.

    Folder names are matched whole, so a name ONE would truncate (C-1) is an error naming it. The
    lab is the folder above a literal `Subjects` folder; whether it is a real lab is decided by
    `resolve_lab` (C-2). `.` folders and empty names (`//`) are skipped, as pathlib does.
    """
    shown = str(path)
    folders = _folders(path)
    if not folders:
        raise _invalid(f'session path "{shown}" is empty; pass the session folder')
    number = folders[-1]
    _check_number(number, shown)
    if len(folders) < 2:
        raise _invalid(
            f'session folder "{number}" in {shown}: no date folder above it '
            "(ALF subject/YYYY-MM-DD/number); pass the whole session path"
        )
    date = _parse_date(folders[-2], shown)
    if len(folders) < 3:
        raise _invalid(
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
    """Decide the session's lab: the C-2 fix.

    ONE takes any folder above `Subjects` as the lab (`/mnt/s0/Data/Subjects/…` → lab `Data`)
    and sends it to Alyx. Here a path lab counts only when it is the configured lab or a lab Alyx
    knows (`known_labs`, from `GET /labs`); otherwise the operator is told which folder was taken
    for a lab and how to say what the lab is. Without a path lab, the configured lab is used.
    """
    if ref.lab is None:
        return replace(ref, lab=configured_lab)
    if ref.lab == configured_lab or ref.lab in known_labs:
        return ref
    where = f"{ref.lab}/{_SUBJECTS}/{ref.alyx_path}"
    if configured_lab is not None:
        raise _invalid(
            f'lab folder "{ref.lab}" in {where} disagrees with the configured lab '
            f'"{configured_lab}" and is not a lab Alyx knows; move the subject folders out of '
            f'"{_SUBJECTS}" if "{ref.lab}" is not a lab, or set lab = "{ref.lab}" in settings '
            f"(or use --lab {ref.lab}) if it is"
        )
    known = ", ".join(sorted(known_labs)) or "none fetched"
    raise _invalid(
        f'lab folder "{ref.lab}" in {where}: the folder above "{_SUBJECTS}" is taken as the '
        f"lab, but no lab is configured and it is not a lab Alyx knows (known labs: {known}); "
        "if that folder really is the lab, set "
        f'lab = "{ref.lab}" in settings (or use --lab {ref.lab}), otherwise move the subject '
        f'folders out of "{_SUBJECTS}"'
    )


def _folders(path: str | PurePath) -> list[str]:
    """Folder names of `path`; a PurePath keeps `\\` inside POSIX names, a string splits on it."""
    if isinstance(path, PurePath):
        names = list(path.parts[1:] if path.anchor else path.parts)
    else:
        names = _SEPARATORS_RE.split(path)
    return [name for name in names if name not in ("", ".")]


def _check_number(number: str, shown: str) -> None:
    if _NUMBER_RE.fullmatch(number):
        return
    if not _ANY_DIGITS_RE.fullmatch(number):
        rule = r"the number must be 1 to 3 digits (ALF \d{1,3})"
        fix = "pass the session folder itself (…/subject/YYYY-MM-DD/number)"
    elif len(number) > 3:
        rule, fix = r"the number must be 1 to 3 digits (ALF \d{1,3})", "rename the folder"
    else:
        rule = r"the number must be 1 to 3 digits 0-9 (ALF \d{1,3}, ASCII only)"
        fix = "rename the folder"
    raise _invalid(f'session folder "{number}" in {shown}: {rule}; {fix}')


def _parse_date(name: str, shown: str) -> datetime.date:
    if not _DATE_RE.fullmatch(name):
        raise _invalid(
            f'date folder "{name}" in {shown}: the date must be YYYY-MM-DD with digits 0-9 '
            "(ALF subject/YYYY-MM-DD/number); rename the folder or pass the session folder itself"
        )
    year, month, day = (int(part) for part in name.split("-"))
    try:
        return datetime.date(year, month, day)
    except ValueError as error:
        raise _invalid(
            f'date folder "{name}" in {shown}: not a real calendar date ({error}); '
            "rename the folder"
        ) from None


def _check_subject(subject: str, shown: str) -> None:
    if subject == "..":
        raise _invalid(
            f'subject folder ".." in {shown}: a reference to the parent folder, not a subject; '
            "pass the resolved session path"
        )
    if subject == _SUBJECTS:
        raise _invalid(
            f'subject folder "{_SUBJECTS}" in {shown}: that is the folder holding the subject '
            "folders, so the subject folder is missing; put the session under "
            f"{_SUBJECTS}/<subject>/"
        )
    if not _SUBJECT_RE.fullmatch(subject):
        raise _invalid(
            f'subject folder "{subject}" in {shown}: a subject must be letters, digits, "_", "-" '
            r'or "." only (ALF [\w.-]+, as an Alyx nickname); rename the folder'
        )


def _lab_above(folders: list[str], shown: str) -> str | None:
    """The lab folder when the subject's parent is `Subjects` (ALF `lab/Subjects/subject`)."""
    if not folders or folders[-1] != _SUBJECTS:
        return None
    if len(folders) < 2:
        raise _invalid(
            f'folder "{_SUBJECTS}" in {shown} has no lab folder above it '
            f"(ALF <lab>/{_SUBJECTS}/<subject>); pass the whole path, lab folder included"
        )
    lab = folders[-2]
    if not _LAB_RE.fullmatch(lab):
        raise _invalid(
            f'lab folder "{lab}" in {shown} (the folder above "{_SUBJECTS}"): a lab must be '
            r'letters, digits or "_" only (ALF \w+); rename it to the lab name, or move the '
            f'subject folders out of "{_SUBJECTS}"'
        )
    return lab


def _invalid(message: str) -> InvalidALFPath:
    """The error, on one line: control and invisible characters of names are shown escaped."""
    return InvalidALFPath(
        "".join(
            char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
            for char in message
        )
    )


# -- files ---------------------------------------------------------------------------------------


def parse_rel_path(rel: str) -> RelPath:
    """Parse `[collection/][#revision#/]name`, POSIX, relative to the session folder.

    ONE sends collections, revisions and names unchecked (C-3) and Alyx silently drops collection
    folders it cannot parse (S-5), so every folder and the name are checked here, whole.
    """
    if not rel:
        raise _invalid("file path is empty; name a file inside the session folder")
    if rel.startswith("/"):
        raise _invalid(
            f'file path "{rel}" starts with "/": it must be relative to the session folder'
        )
    *folders, name = rel.split("/")
    if not name:
        raise _invalid(f'file path "{rel}" ends with "/": name a file, not a folder')
    collection: list[str] = []
    revision = ""
    for position, folder in enumerate(folders):
        found = _REVISION_FOLDER_RE.fullmatch(folder)
        if found is None:
            _check_collection_folder(folder, rel)
            collection.append(folder)
        elif position != len(folders) - 1:
            raise _invalid(
                f'revision folder "{folder}" in "{rel}": a revision folder must directly contain '
                "the file, and there can be only one (ALF [collection/][#revision#/]file); "
                "move the file"
            )
        else:
            revision = found["revision"]
    problem = _filename_problem(name)
    if problem is not None:
        where = f' in "{rel}"' if folders else ""
        raise _invalid(f'file name "{name}"{where}: {problem}; rename the file')
    return RelPath("/".join(collection), revision, _split_filename(name), name)


def parse_filename(name: str) -> FileName:
    """Split an ALF file name into its parts, exactly as ONE splits every name both accept.

    The oddities of the grammar are kept because the server splits the same way when it matches
    dataset types: `obj.attr_with_underscore.npy` has attribute `attr` and timescale
    `with_underscore`, `_name_space_obj.attr.npy` has namespace `name` and object `space_obj`.
    """
    problem = _filename_problem(name)
    if problem is not None:
        raise _invalid(f'file name "{name}": {problem}; rename the file')
    return _split_filename(name)


def _check_collection_folder(folder: str, rel: str) -> None:
    if folder in ("", ".", ".."):
        reason = "an empty folder name" if not folder else f'"{folder}" is not a folder name'
        raise _invalid(
            f'file path "{rel}": {reason}; give the path inside the session folder, '
            "without empty, '.' or '..' folders"
        )
    if folder.startswith("#") and folder.endswith("#") and len(folder) > 1:
        raise _invalid(
            f'revision folder "{folder}" in "{rel}": a revision name must be letters, digits, '
            r'"_", "-" or "." only (ALF #[\w.-]+#); rename the folder'
        )
    if not _COLLECTION_FOLDER_RE.fullmatch(folder):
        raise _invalid(
            f'collection folder "{folder}" in "{rel}": a collection folder must be letters, '
            r'digits, "_", "-" or "." only (ALF [\w.-]+; Alyx drops other folders); '
            "rename the folder (a revision folder is written #name#)"
        )


def _split_filename(name: str) -> FileName:
    found = _FILE_RE.fullmatch(name)
    if found is None:  # pragma: no cover - callers check _filename_problem first
        raise _invalid(f'file name "{name}" is not an ALF name ({_FILE_GRAMMAR})')
    parts = {key: value or "" for key, value in found.groupdict().items()}
    return FileName(
        namespace=parts["namespace"],
        object=parts["object"],
        attribute=parts["attribute"],
        timescale=parts["timescale"],
        extra=parts["extra"],
        extension=parts["extension"],
    )


def _filename_problem(name: str) -> str | None:
    """None for a valid ALF name, else which part breaks which rule (for a one-line error)."""
    if _FILE_RE.fullmatch(name):
        return None
    pieces = name.split(".")
    if len(pieces) < 3:
        return f"an ALF file name needs at least object.attribute.extension ({_FILE_GRAMMAR})"
    head, attribute, *extras, extension = pieces
    if not head:
        return 'it starts with ".": the object is missing'
    if not attribute:
        return 'the attribute is empty (".." after the object)'
    if extras == [""]:
        return 'the part before the extension is empty ("..")'
    if not _OBJECT_PART_RE.fullmatch(head):
        return (
            f'the object part "{head}" ([_namespace_]object, before the first ".") must be '
            r'letters, digits or "_" only (ALF \w+)'
        )
    if not _ATTRIBUTE_PART_RE.fullmatch(attribute):
        return (
            f'the attribute part "{attribute}" (attribute[_timescale], after the first ".") '
            r"must be ASCII letters or digits, optionally followed by _timescale "
            r"(ALF [a-zA-Z0-9]+(_\w+)?)"
        )
    if extras and not _EXTRA_PART_RE.fullmatch(".".join(extras)):
        return (
            f'the extra part "{".".join(extras)}" must be letters, digits, "_" or "-" '
            r"between dots (ALF [.\w-]+)"
        )
    if not _EXTENSION_PART_RE.fullmatch(extension):
        return f'the extension "{extension}" must be letters, digits or "_" only (ALF \\w+)'
    return f"it does not match the ALF file grammar {_FILE_GRAMMAR}"
