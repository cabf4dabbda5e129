"""Runs a list of `RegistrationClient` calls described in JSON, and encodes what they returned.

One implementation for both sides of the drop-in cross-check (tests/drop_in.py): ONE-api's client
runs the calls in the test process through `perform`; labledger's runs them in a fresh interpreter
that executes this file as a script, the way a rig script does (`from labledger import
RegistrationClient; RegistrationClient()`, settings from the LABLEDGER_* variables). The script
stays alive for the whole scenario: each line on stdin is a JSON list of calls, each answer one
line `@@drop-in@@ <JSON list of results>` on stdout (anything else the client prints is skipped).

Only the standard library is imported here (and labledger by the script), so the file runs as it
is from any folder.

A call is `{"method": name, "args": [...], "kwargs": {...}}`. Argument values are JSON, with
these one-key markers: `{"$path": rel}` (a `Path` under the side's data root), `{"$str": rel}` (the
same path as text), `{"$date": iso}`, `{"$datetime": iso}`, and `{"$ref": [i, key, ...]}` (what
call `i` of this run returned, indexed by the keys, as the client returned it).

Results are encoded as JSON: tuples become lists, iterators are read out, a path becomes
`"Path:<text>"` and a UUID `"UUID:<text>"` (so a `str` where ONE returns a `Path` or `UUID` shows),
the data root is written `<root>`. A call that raises gives `{"raised": "<type>: <message>"}` when
`catch` is set (labledger's side: the other calls still run and the difference shows).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterator
from pathlib import Path, PurePath
from typing import Any
from uuid import UUID

MARK = "@@drop-in@@ "
"""What starts the script's answer line."""


def decode(value: Any, root: Path, results: list[Any]) -> Any:
    """An argument as the client receives it (the markers above replaced)."""
    if isinstance(value, list):
        return [decode(item, root, results) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, inner),) = value.items()
        if key == "$path":
            return root / inner
        if key == "$str":
            return str(root / inner)
        if key == "$date":
            return dt.date.fromisoformat(inner)
        if key == "$datetime":
            return dt.datetime.fromisoformat(inner)
        if key == "$ref":
            found = results[inner[0]]
            for index in inner[1:]:
                found = found[index]
            return found
    return {key: decode(item, root, results) for key, item in value.items()}


def encode(value: Any, root: Path) -> Any:
    """A returned value as JSON, comparable between the two sides (see the module docstring)."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value.replace(str(root), "<root>")
    if isinstance(value, PurePath):
        return "Path:" + str(value).replace(str(root), "<root>")
    if isinstance(value, UUID):
        return f"UUID:{value}"
    if isinstance(value, dt.datetime | dt.date):
        return f"{type(value).__name__}:{value.isoformat()}"
    if isinstance(value, dict):
        return {
            str(encode(key, root) if isinstance(key, PurePath) else key): encode(item, root)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | Iterator):
        return [encode(item, root) for item in value]
    return f"{type(value).__name__}:{value!r}"


def perform(
    client: Any, calls: list[dict[str, Any]], root: Path, results: list[Any], *, catch: bool
) -> list[Any]:
    """Run `calls` on `client` in order; append each raw result to `results` (the `$ref`
    targets) and return the encoded ones."""
    encoded = []
    for call in calls:
        args = decode(call.get("args", []), root, results)
        kwargs = decode(call.get("kwargs", {}), root, results)
        try:
            result = getattr(client, call["method"])(*args, **kwargs)
            if isinstance(result, Iterator):
                result = list(result)
        except Exception as error:
            if not catch:
                raise
            result = {"raised": f"{type(error).__name__}: {error}"}
        results.append(result)
        encoded.append(encode(result, root))
    return encoded


def main() -> None:
    """The labledger side: `python drop_in_runner.py <data root>`, calls on stdin."""
    from labledger import RegistrationClient

    root = Path(sys.argv[1])
    client = RegistrationClient()
    results: list[Any] = []
    for line in sys.stdin:
        answer = perform(client, json.loads(line), root, results, catch=True)
        print(MARK + json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
