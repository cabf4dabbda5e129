"""The checkout's files as a clone would have them, copied elsewhere: committed or not, as git
lists them (so work in progress counts), without the venv or files deleted but not yet staged."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def checkout_files() -> list[str]:
    """The checkout's files as git lists them (committed or not), relative to ROOT, without the
    venv or files deleted but not yet staged."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [
        name
        for name in filter(None, listed.split("\0"))
        if not name.startswith(".venv/") and (ROOT / name).is_file()
    ]


def copy_checkout(folder: Path) -> Path:
    """Copy the checkout's files into `folder` (created) and return it."""
    for name in checkout_files():
        source = ROOT / name
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    return folder
