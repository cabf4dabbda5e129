"""What the test server starts with when the shared fixtures (`../shared/fixtures/alyx`) are absent,
as in a fresh clone: the dataset types and data formats labledger itself ships
(`adapters/alyx/reference/`, the lists an Alyx 3.6.1 serves) and the same small lab set-up the
shared fixtures describe (lab `cortexlab` with its two repositories, project `main`, user
`test_user`, subjects `algernon` and `ZM_1085`, Alyx's seven water types).

It gives the fixture files by name, in their shapes (`AlyxState(fixtures=packaged_fixtures())`),
so the server loads one way from either source. Ids not in the packaged lists are made from the
names (uuid5), the same at every start.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from labledger.domain.measurements import WATER_TYPES
from tests.alyx_server.state import DEFAULT_SUBJECT_FIELDS, Fixtures, Json
from tests.fixture_paths import PACKAGED_REFERENCE

LAB = "cortexlab"
USER = "test_user"
SUBJECTS = {"algernon": ("2026-01-15", "M"), "ZM_1085": ("2026-02-01", "F")}
"""Nickname: (birth date, sex)."""
REPOSITORY_TYPES = ("Fileserver", "Cardboard box")
REPOSITORIES = {
    "cortexlab_local": (True, "local-repository.local", "/data/cortexlab/Subjects", "http"),
    "flatiron_cortexlab": (False, "server-repository.example.org", "/cortexlab/Subjects", "https"),
}
"""Repository name: whether it is personal (a rig's own disk, else the lab's server), its host,
its root folder and the scheme of its data URL."""


def _id(kind: str, name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"labledger-test-alyx/{kind}/{name}"))


def _packaged(file_name: str) -> list[dict[str, Any]]:
    """A packaged served list, without the `unknown` row Alyx adds by migration (the state adds
    it itself, as it does to the shared fixtures)."""
    served = json.loads((PACKAGED_REFERENCE / file_name).read_text(encoding="utf-8"))
    return [row for row in served["results"] if row["name"] != "unknown"]


def _django(model: str, pk: str, **fields: Any) -> dict[str, Any]:
    return {"model": model, "pk": pk, "fields": {"json": None, **fields}}


def _listed(results: list[dict[str, Any]]) -> dict[str, Any]:
    return {"count": len(results), "next": None, "previous": None, "results": results}


def _subject(nickname: str, birth_date: str, sex: str) -> dict[str, Any]:
    """A subject as the state's own subject defaults make it, in this lab's single project."""
    return {
        "nickname": nickname,
        "id": _id("subject", nickname),
        "responsible_user": USER,
        **DEFAULT_SUBJECT_FIELDS,
        "birth_date": birth_date,
        "sex": sex,
        "projects": ["main"],
        "lab": LAB,
    }


def packaged_fixtures() -> Fixtures:
    """The fixture files the state loads, made from the packaged lists and the lab set-up."""
    files: dict[str, Json] = {
        "data.datasettype.json": [
            _django(
                "data.datasettype",
                row["id"],
                name=row["name"],
                filename_pattern=row["filename_pattern"],
                description=row["description"],
                created_by=None,
            )
            for row in _packaged("dataset_types.json")
        ],
        "data.dataformat.json": [
            _django(
                "data.dataformat",
                row["id"],
                name=row["name"],
                file_extension=row["file_extension"],
                description=row["description"],
                matlab_loader_function="",
                python_loader_function="",
            )
            for row in _packaged("data_formats.json")
        ],
        "actions.watertype.json": [
            _django("actions.watertype", _id("water type", name), name=name) for name in WATER_TYPES
        ],
        "data.datarepositorytype.json": [
            _django("data.datarepositorytype", _id("repository type", name), name=name)
            for name in REPOSITORY_TYPES
        ],
        "data-repository.list.200.json": _listed(
            [
                {
                    "name": name,
                    "globus_is_personal": personal,
                    "hostname": host,
                    "globus_path": root,
                    "data_url": f"{scheme}://{host}/{LAB}/Subjects/",
                }
                for name, (personal, host, root, scheme) in REPOSITORIES.items()
            ]
        ),
        "labs.list.200.json": _listed([{"name": LAB, "repositories": list(REPOSITORIES)}]),
        "projects.list.200.json": _listed([{"name": "main", "users": [USER]}]),
        "users.read.200.json": {
            "id": _id("user", USER),
            "username": USER,
            "email": f"{USER}@example.com",
            "lab": [],
            "allowed_users": [],
            "is_stock_manager": False,
        },
        "subjects.list.200.json": _listed(
            [_subject(name, *born) for name, born in SUBJECTS.items()]
        ),
    }
    return files.__getitem__
