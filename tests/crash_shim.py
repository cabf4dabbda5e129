"""Run the `labledger` command with a SIGKILL at a chosen step (used by tests/test_alyx_crash.py).

    python tests/crash_shim.py register SESSION --start-time ... --ledger LEDGER

runs `labledger.scripts.cli.main` after wrapping the ledger's save and the revision move. Each
step that happens is appended, as one JSON line, to the file named by `CRASH_SHIM_TRACE`
(flushed at once, so the lines survive a kill); when `CRASH_SHIM_AT` names a step
(`save:3`, `move-before:1`, `link-after:1`, `move-after:1`) the process sends itself SIGKILL right
there. Steps:

- `save:N` — right after the N-th `Ledger.save` returned (its transaction committed);
- `move-before:N` — right before the N-th call of the revision move (`move_file`);
- `link-after:N` — inside that move, right after the destination's hard link was made and
  before the source is unlinked (both paths hold the file);
- `move-after:N` — right after the move returned, before its outcome is recorded;
- `manifest-before:N` — right before the N-th manifest is written into the watchdog's flag_dir;
- `manifest-after:N` — right after it was renamed into flag_dir, before its outcome is recorded;
- `service-stopped:N` — right after the N-th restart of the watchdog service stopped the running
  one(s), before the new one is started;
- `service-started:N` — right after the new service started, before the restart is recorded.

Run as a script (its folder is `tests/`), so it imports only labledger and the standard library.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

TRACE = "CRASH_SHIM_TRACE"
KILL_AT = "CRASH_SHIM_AT"

_counts: dict[str, int] = {}


def _step(kind: str, **details: Any) -> None:
    """Note one step in the trace; die by SIGKILL if it is the one asked for."""
    _counts[kind] = _counts.get(kind, 0) + 1
    name = f"{kind}:{_counts[kind]}"
    trace = os.environ.get(TRACE)
    if trace:
        with open(trace, "a", encoding="utf-8") as file:
            file.write(json.dumps({"step": name, **details}) + "\n")
            file.flush()
            os.fsync(file.fileno())
    if os.environ.get(KILL_AT) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def _install() -> None:
    from labledger.adapters.alyx import files as alyx_files
    from labledger.domain.ledger import Ledger

    real_save = Ledger.save

    def save(self: Ledger, *objs: Any, **kwargs: Any) -> Any:
        events = [
            type(event).__qualname__ for obj in objs for event in getattr(obj, "pending_events", [])
        ]
        result = real_save(self, *objs, **kwargs)
        _step("save", events=events)
        return result

    Ledger.save = save  # type: ignore[method-assign,assignment]

    real_move: Callable[..., Any] = alyx_files.move_file  # type: ignore[attr-defined]

    def move_file(*args: Any, **kwargs: Any) -> Any:
        _step("move-before", source=args[1], destination=args[2])
        result = real_move(*args, **kwargs)
        _step("move-after")
        return result

    alyx_files.move_file = move_file  # type: ignore[attr-defined]

    from labledger.adapters.watchdog import manifest_writer

    real_publish: Callable[..., Any] = manifest_writer._publish

    def publish(content: bytes, target: Any, staging_dir: Any) -> None:
        _step("manifest-before", target=str(target))
        real_publish(content, target, staging_dir)
        _step("manifest-after")

    manifest_writer._publish = publish

    from labledger.adapters.watchdog import restart

    real_stop: Callable[..., int] = restart.stop  # type: ignore[attr-defined]
    real_start: Callable[..., int] = restart.start  # type: ignore[attr-defined]

    def stop_service(*args: Any, **kwargs: Any) -> int:
        stopped = real_stop(*args, **kwargs)
        _step("service-stopped", stopped=stopped)
        return stopped

    def start_service(*args: Any, **kwargs: Any) -> int:
        pid = real_start(*args, **kwargs)
        _step("service-started")
        return pid

    restart.stop = stop_service  # type: ignore[attr-defined]
    restart.start = start_service  # type: ignore[attr-defined]

    real_link = os.link

    def link(*args: Any, **kwargs: Any) -> None:
        real_link(*args, **kwargs)
        _step("link-after")

    os.link = link  # what revision_moves calls; only in this short-lived process


def main(argv: list[str]) -> int:
    _install()
    from labledger.scripts.cli import main as labledger

    return labledger(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
