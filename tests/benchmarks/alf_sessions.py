"""The benchmark's data: ALF session folders with file names that Alyx's dataset types match.

Why realistic names: labledger matches each file name against the lab's dataset types and Alyx
refuses a file no type matches, so a benchmark on made-up names would time the rejection path,
not the registration a lab does. The names are those of a spike-sorted probe (`spikes.times.npy`
in `alf/probe00`, ...), kept distinct by their collection (one probe folder per 19 names) and,
for the big scan, by raw ephys files of growing size. Sizes and contents are deterministic
(seeded), so every run of the benchmark measures the same bytes.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

LAB = "cortexlab"
PROBE_NAMES = (
    "spikes.times.npy",
    "spikes.clusters.npy",
    "spikes.amps.npy",
    "spikes.depths.npy",
    "spikes.samples.npy",
    "spikes.templates.npy",
    "clusters.amps.npy",
    "clusters.channels.npy",
    "clusters.depths.npy",
    "clusters.peakToTrough.npy",
    "clusters.waveforms.npy",
    "clusters.waveformsChannels.npy",
    "channels.localCoordinates.npy",
    "channels.rawInd.npy",
    "channels.mlapdv.npy",
    "channels.brainLocationIds_ccf_2017.npy",
    "templates.amps.npy",
    "templates.waveforms.npy",
    "templates.waveformsChannels.npy",
)
"""File names a spike sorter leaves in a probe's collection; each matches one dataset type."""
KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB


def human_size(size: float) -> str:
    """`2.30 GiB`, `16.0 MiB`: the unit that keeps the number readable."""
    for unit, scale in (("GiB", GIB), ("MiB", MIB), ("KiB", KIB)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size:.0f} B"


def file_names(count: int) -> list[str]:
    """`count` distinct session-relative paths: the probe names, a probe folder at a time."""
    return [
        f"alf/probe{index // len(PROBE_NAMES):02d}/{PROBE_NAMES[index % len(PROBE_NAMES)]}"
        for index in range(count)
    ]


def session_folder(root: Path, subject: str, day: dt.date, number: int) -> Path:
    """`root/<lab>/Subjects/<subject>/<date>/<NNN>`, the layout labledger and ONE parse."""
    return root / LAB / "Subjects" / subject / day.isoformat() / f"{number:03d}"


def session_keys(
    sessions: int, subjects: Sequence[str], first_day: dt.date = dt.date(2026, 3, 2)
) -> list[tuple[str, dt.date, int]]:
    """`sessions` (subject, day, number) spread over the subjects, then the days."""
    return [
        (subjects[index % len(subjects)], first_day + dt.timedelta(days=index // len(subjects)), 1)
        for index in range(sessions)
    ]


class Filler:
    """Deterministic file contents: a seeded 1 MiB block, each file's start made unique so no two
    files share an md5 (a lab's files do not)."""

    def __init__(self, seed: int) -> None:
        self.block = random.Random(seed).randbytes(MIB)

    def write(self, path: Path, size: int, tag: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        head = f"{tag}\n".encode()[:size]
        with path.open("wb") as file:
            file.write(head)
            left = size - len(head)
            while left > 0:
                chunk = self.block[: min(left, MIB)]
                file.write(chunk)
                left -= len(chunk)


def small_sessions(
    root: Path,
    sessions: int,
    files: int,
    subjects: Sequence[str],
    *,
    seed: int = 15,
    max_size: int = 64 * KIB,
) -> list[Path]:
    """Session folders of `files` small files each (1 KiB to `max_size`, log-spread)."""
    rng = random.Random(seed)
    filler = Filler(seed)
    folders = []
    for subject, day, number in session_keys(sessions, subjects):
        folder = session_folder(root, subject, day, number)
        for rel in file_names(files):
            size = int(math.exp(rng.uniform(math.log(KIB), math.log(max_size))))
            filler.write(folder / rel, size, f"{folder.name}/{day}/{subject}/{rel}")
        folders.append(folder)
    return folders


@dataclass(frozen=True)
class Planned:
    """One file of a planned session: its path in the session and its size."""

    rel: str
    size: int


def log_spread_sizes(count: int, smallest: int, largest: int, total: int) -> list[int]:
    """`count` sizes from `smallest` to `largest` (both reached), spread on a log scale so they
    add up to about `total`: many small and middling files, a few large ones, as in a recorded
    session. The i-th size is `smallest * (largest/smallest) ** g(u)`, u = i/(count-1), with
    `g(u) = (u + u**bend) / 2`: half even on the log scale, half bent towards the small end by
    `bend`, found by bisection (bend 1 is log-uniform, far above the usual totals)."""
    span = math.log(largest / smallest)

    def sizes(bend: float) -> list[int]:
        steps = [i / (count - 1) for i in range(count)]
        return [round(smallest * math.exp(span * (u + u**bend) / 2)) for u in steps]

    low, high = 1.0, 10_000.0
    for _ in range(100):
        middle = math.sqrt(low * high)
        if sum(sizes(middle)) > total:
            low = middle
        else:
            high = middle
    return sizes(math.sqrt(low * high))


def scan_plan(count: int, smallest: int, largest: int, total: int, seed: int) -> list[Planned]:
    """The big scan session: the 4 largest files are raw ephys (`.ap.cbin`), the others probe
    outputs; sizes log-spread (see `log_spread_sizes`), shuffled over the names by `seed`."""
    sizes = log_spread_sizes(count, smallest, largest, total)
    raw = [
        f"raw_ephys_data/probe{n:02d}/_spikeglx_ephysData_g0_t0.imec{n}.ap.cbin"
        for n in range(min(4, count))
    ]
    rest = sizes[: count - len(raw)]
    random.Random(seed).shuffle(rest)
    names = file_names(count - len(raw))
    return [Planned(rel, size) for rel, size in zip(names, rest, strict=True)] + [
        Planned(rel, size) for rel, size in zip(raw, sizes[count - len(raw) :], strict=True)
    ]


def build_planned(folder: Path, plan: Sequence[Planned], seed: int) -> None:
    """Write the planned files that are missing or of another size (a cache folder is kept)."""
    filler = Filler(seed)
    for item in plan:
        path = folder / item.rel
        if not path.is_file() or path.stat().st_size != item.size:
            filler.write(path, item.size, f"{folder}/{item.rel}")


def files_under(folder: Path) -> Iterator[Path]:
    """The session's files, in a stable order."""
    return iter(sorted(path for path in folder.rglob("*") if path.is_file()))


def warm(paths: Sequence[Path]) -> None:
    """Read every file once, so the timed runs read from the page cache."""
    for path in paths:
        with path.open("rb", buffering=0) as file:
            while file.read(8 * MIB):
                pass
