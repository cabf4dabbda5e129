"""Errors a user can cause.

Every error here is printed as one line (never a traceback) by the CLI, so its message must name
the thing that is wrong (a path part, a settings key, a file) and say how to fix it.
"""


class LabledgerError(Exception):
    """A problem the operator can fix; its message is the whole explanation."""


class InvalidALFPath(LabledgerError):
    """A session path, collection, revision or file name breaks the ALF rules."""


class InvalidSettings(LabledgerError):
    """A settings file, environment variable or flag is missing, unknown or malformed."""


class LedgerUnavailable(LabledgerError):
    """The event store cannot be opened or written (locked, corrupt, unreachable)."""


class UnreadableFile(LabledgerError):
    """A file of a session cannot be read (permissions, vanished during the scan)."""


class WorkRefused(LabledgerError):
    """Alyx refused what a call of the Python API asked for, and nothing of it was done (ONE
    raises the server's HTTP error there). The refusal is recorded; asking again with the cause
    fixed records the work anew."""
