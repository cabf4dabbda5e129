"""Writing a manifest into the watched folder: one *created* event, never twice, never touched.

The service's watcher is the `watchdog` library's Observer reacting to *created* events of
`manifest*.yml` (a rename inside the folder is a *moved* event it ignores). The same
Observer watches the folder here, so the test sees what the service would see.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from labledger.adapters.watchdog import manifest_writer
from labledger.adapters.watchdog.manifest_writer import ManifestNotWritten, emit_manifest
from tests.test_manifest import accepted_by_service, build

EVENT_WAIT_S = 5.0


class Recorder(FileSystemEventHandler):
    """Every event in the watched folder: (type, file name, destination name)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []
        self._arrived = threading.Condition()

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory:
            return
        source = os.path.basename(os.fsdecode(event.src_path))
        dest = os.path.basename(os.fsdecode(event.dest_path)) if event.dest_path else ""
        with self._arrived:
            self.events.append((event.event_type, source, dest))
            self._arrived.notify_all()

    def wait_for(self, wanted: tuple[str, str, str]) -> bool:
        """Wait for one named event: on a loaded machine inotify delivers a rename late."""
        with self._arrived:
            return self._arrived.wait_for(lambda: wanted in self.events, EVENT_WAIT_S)


@pytest.fixture
def folders(tmp_path: Path) -> dict[str, Path]:
    names = {"flag": "flags", "complete": "manifest_complete", "staging": ".labledger-staging"}
    paths = {key: tmp_path / name for key, name in names.items()}
    paths["flag"].mkdir()
    paths["complete"].mkdir()
    return paths


@pytest.fixture
def watcher(folders: dict[str, Path]) -> Iterator[Recorder]:
    recorder = Recorder()
    observer = Observer()
    observer.schedule(recorder, str(folders["flag"]), recursive=False)
    observer.start()
    try:
        yield recorder
    finally:
        observer.stop()
        observer.join(timeout=EVENT_WAIT_S)


def _emit(
    folders: dict[str, Path], content: bytes, forced: bool = False
) -> manifest_writer.Emission:
    return emit_manifest(
        content,
        "manifest_n.yml",
        folders["flag"],
        folders["complete"],
        folders["staging"],
        forced,
        datetime.now(UTC) - timedelta(seconds=10),
    )


def test_the_service_sees_one_creation_of_the_final_name(
    folders: dict[str, Path], watcher: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = build().render()
    renames: list[tuple[Path, Path]] = []
    real_replace = os.replace

    def spy(source: str, target: str) -> None:
        renames.append((Path(source), Path(target)))
        assert list(folders["flag"].iterdir()) == [], "nothing in flag_dir before the rename"
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", spy)  # the manifest writer's rename
    emission = _emit(folders, content)
    assert watcher.wait_for(("created", "manifest_n.yml", "")), watcher.events
    time.sleep(0.2)  # let any further event arrive
    assert watcher.events[0] == ("created", "manifest_n.yml", "")
    assert {name for _, name, _ in watcher.events} == {"manifest_n.yml"}
    assert not [event for event in watcher.events if event[0] in ("moved", "deleted")]
    [(source, target)] = renames
    assert source.parent == folders["staging"] and "manifest" not in source.name
    assert os.stat(source.parent).st_dev == os.stat(target.parent).st_dev
    assert target == folders["flag"] / "manifest_n.yml" == emission.path
    assert emission.written and os.listdir(folders["flag"]) == ["manifest_n.yml"]
    assert os.listdir(folders["staging"]) == []
    assert accepted_by_service(emission.path.read_bytes()).name == build().name


def test_a_rename_inside_flag_dir_is_what_the_service_misses(
    folders: dict[str, Path], watcher: Recorder
) -> None:
    """The ignored rename is real here: the naive recipe makes a *moved* event, not a creation."""
    temporary = folders["flag"] / "tmp_n"
    temporary.write_bytes(build().render())
    os.replace(temporary, folders["flag"] / "manifest_n.yml")
    assert watcher.wait_for(("moved", "tmp_n", "manifest_n.yml")), watcher.events
    time.sleep(0.2)  # let any further event arrive
    created = [name for kind, name, _ in watcher.events if kind == "created"]
    assert "manifest_n.yml" not in created


def test_a_racing_run_publishing_the_same_bytes_meanwhile_is_this_emission(
    folders: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four rigs' processes racing one `transfer`: another publishes the manifest after this one
    looked for it and before it writes. The same bytes there are this emission, not a stranger's
    file (that used to fail the transfer and close it until `retry`)."""
    content = build().render()
    target = folders["flag"] / "manifest_n.yml"
    real_is_file = Path.is_file

    def another_run_publishes_meanwhile(path: Path) -> bool:
        seen = real_is_file(path)
        if path == folders["complete"] / "manifest_n.yml" and not real_is_file(target):
            target.write_bytes(content)  # after this run looked at flag_dir
        return seen

    monkeypatch.setattr(Path, "is_file", another_run_publishes_meanwhile)
    emission = _emit(folders, content)
    assert (emission.path, emission.written) == (target, False)
    assert target.read_bytes() == content and os.listdir(folders["flag"]) == ["manifest_n.yml"]


def test_emitting_again_writes_nothing(folders: dict[str, Path]) -> None:
    content = build().render()
    first = _emit(folders, content)
    stamp = first.path.stat()
    again = _emit(folders, content)
    assert (again.path, again.sha256, again.written) == (first.path, first.sha256, False)
    after = first.path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (stamp.st_ino, stamp.st_mtime_ns)


def test_a_completed_manifest_counts_as_emitted(folders: dict[str, Path]) -> None:
    content = build().render()
    (folders["complete"] / "manifest_n.yml").write_bytes(content)
    emission = _emit(folders, content)
    assert not emission.written and list(folders["flag"].iterdir()) == []


def test_a_forced_emission_writes_again_over_an_older_copy(folders: dict[str, Path]) -> None:
    content = build().render()
    old = folders["complete"] / "manifest_n.yml"
    old.write_bytes(content)
    os.utime(old, (0, 0))  # completed long before this request
    emission = _emit(folders, content, forced=True)
    assert emission.written and emission.path.read_bytes() == content


def test_another_file_of_that_name_is_never_replaced_unless_forced(
    folders: dict[str, Path],
) -> None:
    stranger = folders["flag"] / "manifest_n.yml"
    stranger.write_text("name: somebody else's\n")
    with pytest.raises(ManifestNotWritten, match="already exists with other content"):
        _emit(folders, build().render())
    assert stranger.read_text() == "name: somebody else's\n"
    assert _emit(folders, build().render(), forced=True).written


def test_staging_inside_flag_dir_is_refused(folders: dict[str, Path]) -> None:
    with pytest.raises(ManifestNotWritten, match="inside flag_dir"):
        emit_manifest(
            build().render(),
            "manifest_n.yml",
            folders["flag"],
            None,
            folders["flag"] / "staging",
            False,
            datetime.now(UTC),
        )
    assert [p.name for p in folders["flag"].iterdir()] == ["staging"]


def test_missing_flag_dir_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ManifestNotWritten, match="does not exist"):
        emit_manifest(
            b"x", "manifest_n.yml", tmp_path / "no", None, tmp_path / "s", False, datetime.now(UTC)
        )
