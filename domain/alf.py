r"""Strict, anchored parsing of ALF session folders, relative file paths and file names.

The grammar is ALF's naming grammar (ALF as ONE-api 3.6.1 and Alyx 3.6.1 read it).
ONE *searches* its patterns inside a path instead of matching whole folder names, so a bad folder
name is silently truncated rather than refused (`my subject` → subject `subject`,
`0001` → number `000`), any folder above `Subjects` becomes the lab, and collections,
revisions and file names are sent to Alyx unchecked, where bad collection folders are then dropped.
labledger matches every folder name WHOLE and raises `InvalidALFPath` with one line
naming the offending part, the rule and the fix. On every path both accept, the parts are the same
as ONE's (the tests check this with hypothesis), so what reaches Alyx is what ONE would send.

Where labledger refuses what ONE accepts (each case is a row of the tests' DELIBERATE_DIFFERENCES):
* a folder name ONE would truncate: subject, number, lab;
* date and number digits other than 0-9, a subject folder named `Subjects` (the subject folder is
  missing), a `Subjects` folder with no lab folder above it, a `..` subject;
* a collection folder outside `[\w.-]+`, or empty, `.` or `..`; a revision that does not directly
  contain the file, or a second one (Alyx would drop it);
* a file name ONE's folder walk registers without checking it, or with a trailing
  newline (ONE's `$` allows one).
Whether a lab folder is a real lab is `resolve_lab`'s decision.

Pure: string work only, no filesystem access.

Callers import from here. The grammar is `alf_grammar`, the parsed values `alf_values`, the
parsers `session_paths` (session folders, the lab) and `file_paths` (files in a session).
"""

from __future__ import annotations

from .alf_values import FileName, RelPath, SessionRef
from .file_paths import parse_filename, parse_rel_path
from .session_paths import parse_session_path, resolve_lab

__all__ = [
    "FileName",
    "RelPath",
    "SessionRef",
    "parse_filename",
    "parse_rel_path",
    "parse_session_path",
    "resolve_lab",
]
