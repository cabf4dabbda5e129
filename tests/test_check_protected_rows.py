"""`check-protected` on registered files that nothing protects: Alyx answers only "None of the
datasets are protected", which says nothing of registration, so each row says "not protected" and
that the file stays (never "never registered"). The row itself is in `tests/test_revisions.py`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.alyx_cli import alyx_env
from tests.alyx_server import AlyxTestServer
from tests.cli_helpers import SAMPLE, SAMPLE_FILES
from tests.doors import Door


def test_registered_files_nothing_protects_are_not_called_never_registered(
    door: Door, server: AlyxTestServer, tmp_path: Path
) -> None:
    door.env.update(alyx_env(server, tmp_path))
    folder = door.cwd / "cortexlab" / "Subjects" / "algernon" / "2026-11-21" / "001"
    shutil.copytree(SAMPLE, folder)
    door("register", folder, "--start-time", "2026-11-21T09:30:00").ok()

    rows = door("check-protected", folder, "--json").ok().json()

    assert len(rows) == len(SAMPLE_FILES)
    assert {(r["protected"], r["row"], r["would_go"]) for r in rows} == {
        (False, "not protected", "stays")
    }
    table = door("check-protected", folder, env={"COLUMNS": "200"}).ok().out
    assert "never registered" not in table and "not protected" in table
