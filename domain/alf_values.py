"""What the ALF parsers return: a session as its folder names it, a file path inside a session,
the parts of a file name. Plain frozen values; the parsers are `domain.alf`.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass


@dataclass(frozen=True)
class SessionRef:
    """A session as its folder names it: `[lab/Subjects/]subject/date/number`."""

    lab: str | None
    subject: str
    date: datetime.date
    number: str
    """Exactly as the folder spells it (`001` or `1`): Alyx keys file records on it."""

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
