"""ALF file paths inside a session folder, `[collection/][#revision#/]name`, and ALF file names.

ONE sends collections, revisions and names unchecked and Alyx silently drops collection
folders it cannot parse: every folder and the name are checked here, whole, and a refusal
names the part and the rule. Pure: string work only.
"""

from __future__ import annotations

from .alf_grammar import (
    ATTRIBUTE_PART_RE,
    COLLECTION_FOLDER_RE,
    EXTENSION_PART_RE,
    EXTRA_PART_RE,
    FILE_GRAMMAR,
    FILE_RE,
    OBJECT_PART_RE,
    REVISION_FOLDER_RE,
    invalid,
)
from .alf_values import FileName, RelPath


def parse_rel_path(rel: str) -> RelPath:
    """Parse `[collection/][#revision#/]name`, POSIX, relative to the session folder.

    ONE sends collections, revisions and names unchecked and Alyx silently drops collection
    folders it cannot parse, so every folder and the name are checked here, whole.
    """
    if not rel:
        raise invalid("file path is empty; name a file inside the session folder")
    if rel.startswith("/"):
        raise invalid(
            f'file path "{rel}" starts with "/": it must be relative to the session folder'
        )
    *folders, name = rel.split("/")
    if not name:
        raise invalid(f'file path "{rel}" ends with "/": name a file, not a folder')
    collection: list[str] = []
    revision = ""
    for position, folder in enumerate(folders):
        found = REVISION_FOLDER_RE.fullmatch(folder)
        if found is None:
            _check_collection_folder(folder, rel)
            collection.append(folder)
        elif position != len(folders) - 1:
            raise invalid(
                f'revision folder "{folder}" in "{rel}": a revision folder must directly contain '
                "the file, and there can be only one (ALF [collection/][#revision#/]file); "
                "move the file"
            )
        else:
            revision = found["revision"]
    problem = _filename_problem(name)
    if problem is not None:
        where = f' in "{rel}"' if folders else ""
        raise invalid(f'file name "{name}"{where}: {problem}; rename the file')
    return RelPath("/".join(collection), revision, _split_filename(name), name)


def parse_filename(name: str) -> FileName:
    """Split an ALF file name into its parts, exactly as ONE splits every name both accept.

    The oddities of the grammar are kept because the server splits the same way when it matches
    dataset types: `obj.attr_with_underscore.npy` has attribute `attr` and timescale
    `with_underscore`, `_name_space_obj.attr.npy` has namespace `name` and object `space_obj`.
    """
    problem = _filename_problem(name)
    if problem is not None:
        raise invalid(f'file name "{name}": {problem}; rename the file')
    return _split_filename(name)


def _check_collection_folder(folder: str, rel: str) -> None:
    if folder in ("", ".", ".."):
        reason = "an empty folder name" if not folder else f'"{folder}" is not a folder name'
        raise invalid(
            f'file path "{rel}": {reason}; give the path inside the session folder, '
            "without empty, '.' or '..' folders"
        )
    if folder.startswith("#") and folder.endswith("#") and len(folder) > 1:
        raise invalid(
            f'revision folder "{folder}" in "{rel}": a revision name must be letters, digits, '
            r'"_", "-" or "." only (ALF #[\w.-]+#); rename the folder'
        )
    if not COLLECTION_FOLDER_RE.fullmatch(folder):
        raise invalid(
            f'collection folder "{folder}" in "{rel}": a collection folder must be letters, '
            r'digits, "_", "-" or "." only (ALF [\w.-]+; Alyx drops other folders); '
            "rename the folder (a revision folder is written #name#)"
        )


def _split_filename(name: str) -> FileName:
    found = FILE_RE.fullmatch(name)
    if found is None:  # pragma: no cover - callers check _filename_problem first
        raise invalid(f'file name "{name}" is not an ALF name ({FILE_GRAMMAR})')
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
    if FILE_RE.fullmatch(name):
        return None
    pieces = name.split(".")
    if len(pieces) < 3:
        return f"an ALF file name needs at least object.attribute.extension ({FILE_GRAMMAR})"
    head, attribute, *extras, extension = pieces
    if not head:
        return 'it starts with ".": the object is missing'
    if not attribute:
        return 'the attribute is empty (".." after the object)'
    if extras == [""]:
        return 'the part before the extension is empty ("..")'
    if not OBJECT_PART_RE.fullmatch(head):
        return (
            f'the object part "{head}" ([_namespace_]object, before the first ".") must be '
            r'letters, digits or "_" only (ALF \w+)'
        )
    if not ATTRIBUTE_PART_RE.fullmatch(attribute):
        return (
            f'the attribute part "{attribute}" (attribute[_timescale], after the first ".") '
            r"must be ASCII letters or digits, optionally followed by _timescale "
            r"(ALF [a-zA-Z0-9]+(_\w+)?)"
        )
    if extras and not EXTRA_PART_RE.fullmatch(".".join(extras)):
        return (
            f'the extra part "{".".join(extras)}" must be letters, digits, "_" or "-" '
            r"between dots (ALF [.\w-]+)"
        )
    if not EXTENSION_PART_RE.fullmatch(extension):
        return f'the extension "{extension}" must be letters, digits or "_" only (ALF \\w+)'
    return f"it does not match the ALF file grammar {FILE_GRAMMAR}"
