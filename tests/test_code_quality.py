"""ruff, mypy --strict and basedpyright are part of the test suite, so the README's one test command
checks them.

The two type checkers run on a copy of the checkout's files (committed or not, as git lists them)
in a fresh folder named labledger, exactly what a plain `git clone` gives: no install, no symlink
tree. They must resolve every import of the package and of the tests from those files alone
(pyproject's [tool.mypy] and [tool.basedpyright] say where to look); only the third-party packages
come from this venv.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.checkout import ROOT, copy_checkout


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The checkout's files, as a clone would have them, in a folder named labledger."""
    return copy_checkout(tmp_path_factory.mktemp("clone") / "labledger")


def test_ruff_is_clean() -> None:
    result = _run("ruff", "check", ".")  # the root __init__.py too; .gitignore keeps .venv out
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean(clone: Path) -> None:
    # what to check, and where to find it, comes from the copy's pyproject.toml
    config, cache = clone / "pyproject.toml", clone.parent / "mypy_cache"
    result = _run("mypy", "--config-file", str(config), "--cache-dir", str(cache), cwd=clone)
    assert result.returncode == 0, result.stdout + result.stderr


def test_basedpyright_is_clean(clone: Path) -> None:
    # the copy has no .venv of its own; pyproject names the venv, and this one's folder holds it
    venvs = Path(sys.prefix).parent
    config = clone / "pyproject.toml"
    result = _run("basedpyright", "--project", str(config), "--venvpath", str(venvs), cwd=clone)
    assert result.returncode == 0, result.stdout + result.stderr
