"""Finding, stopping and starting the watchdog service's process, on any OS.

clabe asks `tasklist` through a shell, which exists only on Windows, and restarts with one
unquoted shell string, so a path with spaces breaks, and throws the service's output away.
Here psutil finds the process on every OS, the executable is started from an argument list,
never through a shell, and what the service prints is kept in a file. psutil is imported by
the functions that use it: a `sync` with no watchdog work does not pay for it.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

STOP_TIMEOUT_S = 5.0
OUTPUT_MAX_BYTES = 1 << 20
"""Past this size the service's output file is set aside (as `<name>.1`) at the next start."""
TAIL_LINES = 5
TAIL_LINE_CHARS = 300


@dataclass(frozen=True)
class ServiceProcess:
    pid: int
    started: float
    """Creation time, seconds since the epoch on this process's clock."""
    command: str


def _same_file(candidate: str | None, target: str) -> bool:
    if not candidate:
        return False
    return os.path.normcase(os.path.realpath(candidate)) == target


def _clock_offset() -> float:
    """Seconds to add to psutil's creation times to read them on this process's clock.

    psutil dates a process from the boot time the kernel keeps, in whole seconds; the ledger
    dates a request by this process's clock. The two agree only to a second, and not at all when
    this process's wall clock is moved on its own (libfaketime, as `.ci/faketime-pytest` does).
    The time since boot (/proc/uptime) is on neither wall clock, so `time.time() - uptime` is the
    boot time as this process sees it. Elsewhere than Linux the kernel's dates are taken as they
    are."""
    import psutil

    try:
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
    return time.time() - uptime - psutil.boot_time()


def find_service(executable: Path) -> list[ServiceProcess]:
    """Processes running `executable`: as their program, or as the script an interpreter runs.

    When the OS hides a process's program path (another user's service on Windows), its process
    name equal to the executable's file name counts, as `tasklist /FI IMAGENAME` would.
    """
    import psutil

    target = os.path.normcase(os.path.realpath(executable))
    image = executable.name.lower()
    found = []
    offset = _clock_offset()
    for process in psutil.process_iter(["pid", "name", "exe", "cmdline", "create_time"]):
        info = process.info
        if info["pid"] == os.getpid():
            continue
        arguments: list[str] = info["cmdline"] or []
        running = _same_file(info["exe"], target) or any(
            _same_file(argument, target) for argument in arguments[:2]
        )
        if not running and info["exe"] is None and (info["name"] or "").lower() == image:
            running = True
        if running:
            found.append(
                ServiceProcess(
                    pid=info["pid"],
                    started=(info["create_time"] or 0.0) + offset,
                    command=" ".join(arguments) or (info["name"] or ""),
                )
            )
    return sorted(found, key=lambda found_process: found_process.pid)


def stop(processes: list[ServiceProcess]) -> int:
    """End these processes (terminate, then kill what is left); returns how many were ended."""
    import psutil

    handles = []
    for found in processes:
        try:
            handle = psutil.Process(found.pid)
            handle.terminate()
            handles.append(handle)
        except psutil.NoSuchProcess:
            continue
    _, alive = psutil.wait_procs(handles, timeout=STOP_TIMEOUT_S)
    for handle in alive:
        try:
            handle.kill()
        except psutil.NoSuchProcess:
            continue
    psutil.wait_procs(alive, timeout=STOP_TIMEOUT_S)
    return len(handles)


def service_arguments(executable: Path, config: Path) -> list[str]:
    """What clabe runs, as an argument list: `<exe> -c <config>`.

    aind-watchdog-service 0.1.9 ignores -c and reads its central configuration; it is
    passed anyway for the executables that honour it.
    """
    return [str(executable), "-c", str(config)]


def start(arguments: list[str], check_seconds: float, output: Path) -> int:
    """Start the service detached from this process; its pid once it has lived `check_seconds`.

    The service's stdout and stderr go to `output` (appended, after a line naming this start),
    for as long as it runs: what it prints when it fails at start, or when its watcher thread
    dies later (a manifest vanished), is kept there. Raises OSError when it cannot be started and
    ChildProcessError, naming its last lines of output, when it exits at once.
    """
    sink, offset = _open_output(output, arguments)
    try:
        if os.name == "nt":
            detached = getattr(subprocess, "DETACHED_PROCESS", 0)
            group = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)
            process = subprocess.Popen(
                arguments,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=sink,
                creationflags=detached | group,
            )
        else:
            process = subprocess.Popen(
                arguments,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=sink,
                start_new_session=True,
            )
    finally:
        sink.close()  # the service keeps its own handle
    deadline = time.monotonic() + check_seconds
    while time.monotonic() < deadline:
        status = process.poll()
        if status is not None:
            raise ChildProcessError(
                f"{Path(arguments[0]).name} exited at once with status {status}"
                f"{last_output(output, offset)}"
            )
        time.sleep(0.05)
    return int(process.pid)


def _open_output(output: Path, arguments: list[str]) -> tuple[BinaryIO, int]:
    """The service's output file, opened to append (set aside first when it has grown past
    OUTPUT_MAX_BYTES), with a line naming this start; the offset where the service's own
    output begins."""
    output.parent.mkdir(parents=True, exist_ok=True)
    try:
        if output.stat().st_size > OUTPUT_MAX_BYTES:
            os.replace(output, output.with_name(output.name + ".1"))
    except OSError:  # none yet, or still open by a running service (Windows): append
        pass
    sink = open(output, "ab")  # noqa: SIM115 (closed once the service has its own handle)
    try:
        when = datetime.now().astimezone().isoformat(timespec="seconds")
        sink.write(f"--- {when} labledger started: {subprocess.list2cmdline(arguments)}\n".encode())
        sink.flush()
        return sink, sink.tell()
    except BaseException:
        sink.close()
        raise


def last_output(output: Path, offset: int = 0) -> str:
    """`; its last output: <line> | <line> (all of it in <output>)`: the last lines the service
    printed after `offset`, on one line, for a message."""
    try:
        with open(output, "rb") as log:
            log.seek(offset)
            text = log.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    lines = [line[:TAIL_LINE_CHARS] for line in lines if line][-TAIL_LINES:]
    if not lines:
        return f"; it printed nothing (its output goes to {output})"
    return f"; its last output: {' | '.join(lines)} (all of it in {output})"
