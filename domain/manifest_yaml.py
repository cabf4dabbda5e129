"""How a manifest is written as YAML: plain, stable, and with the dangerous strings quoted.

Kept apart from the building rules so the one thing that decides the file's bytes (and so its
sha256) is in one small place.
"""

from __future__ import annotations

from typing import Any

import yaml


class Quoted(str):
    """A string always written in single quotes, whatever it looks like.

    PyYAML reads an unquoted `20:00:00` as the base-60 integer 72000, which pydantic turns
    into 20:00 UTC. PyYAML's dumper quotes that form by itself but not `08:30:00`; quoting every
    time, date and subject id makes the rule visible in the file and independent of the dumper.
    """

    __slots__ = ()


class _ManifestDumper(yaml.SafeDumper):
    """PyYAML's safe dumper with quoted `Quoted` strings and no anchors (`&id001`)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_quoted(dumper: yaml.SafeDumper, value: Quoted) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style="'")


_ManifestDumper.add_representer(Quoted, _represent_quoted)


def dump_manifest(document: dict[str, Any]) -> bytes:
    """The file's bytes: keys in the document's order, nulls kept where meant, UTF-8."""
    text = yaml.dump(
        document,
        Dumper=_ManifestDumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=1_000_000,
    )
    return text.encode("utf-8")
