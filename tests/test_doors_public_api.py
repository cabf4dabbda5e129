"""The public API a rig script imports: `from labledger import RegistrationClient`, the settings
loader, the error base class and `labledger.__version__`, in the editable install this suite runs
on and in a regular (wheel) install, each in a fresh interpreter with a scratch home."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.checkout import ROOT, copy_checkout
from tests.doors import Door


def _written_version() -> str:
    """The version written in the source; pyproject.toml reads it from there for the metadata."""
    found = re.search(r'^__version__ = "(.+)"$', (ROOT / "_version.py").read_text(), re.MULTILINE)
    assert found is not None, "_version.py names no __version__"
    return found[1]


VERSION = _written_version()

RIG_SCRIPT = """
import importlib.metadata
import json
import labledger
from labledger import LabledgerError, Ledger, RegistrationClient, Settings, load_settings
from labledger import WorkRefused
from labledger.adapters.alyx.reference_data import load_default_reference_data

settings = load_settings()
print(json.dumps({
    "version": labledger.__version__,
    "installed": importlib.metadata.version("labledger"),
    "package": labledger.__file__,
    "client": f"{RegistrationClient.__module__}.{RegistrationClient.__qualname__}",
    "settings": isinstance(settings, Settings),
    "error_base": issubclass(LabledgerError, Exception) and issubclass(WorkRefused, LabledgerError),
    "ledger": Ledger.__name__,
    "exported": sorted(labledger.__all__),
    "dataset_types": len(load_default_reference_data().dataset_types),
}))
"""

EXPORTED = sorted(
    [
        "LabledgerError",
        "Ledger",
        "RegistrationClient",
        "Settings",
        "WatchdogService",
        "WorkRefused",
        "__version__",
        "load_settings",
    ]
)


def _check(report: dict[str, object]) -> None:
    assert report["version"] == report["installed"] == VERSION
    assert report["client"] == "labledger.adapters.registration_client.RegistrationClient"
    assert report["settings"] is True and report["error_base"] is True
    assert report["ledger"] == "Ledger"
    assert report["exported"] == EXPORTED
    assert report["dataset_types"] == 114  # the packaged Alyx 3.6.1 list travels with the package


def test_a_rig_script_imports_everything_it_needs_from_labledger(door: Door) -> None:
    report = door.python(RIG_SCRIPT).ok().json()
    _check(report)
    assert Path(report["package"]).resolve() == ROOT / "__init__.py"  # the editable install


def test_a_wheel_install_offers_the_same_api_and_nothing_at_top_level(
    door: Door, tmp_path: Path
) -> None:
    """`pip install .` (not editable): the package is `labledger` alone, with its data files;
    no top-level `domain` or `adapters`, and no tests."""
    source = copy_checkout(tmp_path / "source")
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(target),
            str(source),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    installed = {p.name for p in target.iterdir() if not p.name.endswith(".dist-info")}
    assert installed == {"bin", "labledger"}  # the package, and the `labledger` console script
    assert not (target / "labledger" / "tests").exists()
    script = door.cwd / "rig_script.py"
    script.write_text(RIG_SCRIPT, encoding="utf-8")
    done = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            f"import sys; sys.path.insert(0, {str(target)!r}); exec(open('rig_script.py').read())",
        ],
        cwd=door.cwd,
        env={**door.environment(), "PYTHONNOUSERSITE": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    _check(report)
    assert Path(report["package"]).parent == target / "labledger"
