"""The in-memory Alyx 3.6.1 of the test server: model, behaviour and reply shapes, no HTTP.

Everything follows `/work/shared/reference/alyx-registration.md` and the observed replies in
`ALYX_FIXTURES`. The quirks a client must live with are reproduced on purpose: duplicate sessions,
the non-atomic `register-file` with its side effects before a 403, `exists` false everywhere with
ONE's defaults, `created_by`/`qc` overwritten, dropped collection folders, the number string kept
in record paths, the 500 for extension-less files, unauthenticated `register-file` and
`check-protected`, aware datetimes stored as naive UTC, shared nicknames answering 500, no
de-duplication of weighings and water, and a `check-protected` that writes.

Every public `AlyxState` method that implements an endpoint takes an `ApiRequest` and returns a
`Reply` or raises `ApiError`; `handlers.dispatch` calls them with `state.lock` held, so a request
is atomic with respect to other requests (but, like Alyx, not with respect to its own failures).
The test helpers (`add_*`, `protect_dataset`, `dataset_at`, `find_datasets`, `snapshot`, ...)
take the lock themselves.

Where the contract is silent, these choices were made:
* one session order everywhere: start time, newest first, then the later created first; the list
  answers in it, and register-file's "first" base and numbered sessions are taken in it;
* `hashes`/`filesizes` lists shorter than `filenames` are padded with null (Alyx zips and would
  drop files); a single `versions`/`qc` value applies to every file, so does a bare number in
  `filesizes`; `version` is only written when non-empty;
* a `path` whose date is not a calendar date is a bad path (400);
* relation mode (`content_type` + `object_id`) is not modelled: any content type is invalid;
* `GET /datasets/<id>` answers the `PATCH` reply's shape (no `protected`/`public`);
* `data_dataset_session_related` lists revised datasets first (latest revision first), then the
  others in creation order, as the observed session detail does.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from tests.fixture_paths import ALYX_FIXTURES

Json = Any
"""A JSON value (what `json.loads` returns)."""

TEST_USER = "test_user"
TEST_PASSWORD = "TapetesBloc18"
TEST_TOKEN = "0123456789abcdef0123456789abcdef01234567"
FIXTURE_BASE_URL = "http://alyx.local"
"""The base URL the observed replies were recorded with (a placeholder, see the fixture README)."""

UNKNOWN_DATASET_TYPE_ID = "2a488931-d8de-4d0a-a889-dae02b189513"
UNKNOWN_DATA_FORMAT_ID = "62df821a-2611-4a03-968d-5960c1d8c818"
"""Ids of the two `unknown` rows Alyx adds by migration, as observed (`*.list.200.json`)."""

QC_NAMES = {0: "NOT_SET", 10: "PASS", 30: "WARNING", 40: "FAIL", 50: "CRITICAL"}
QC_VALUES = {name: value for value, name in QC_NAMES.items()}

PROCEDURES = (
    "Alteration of light-dark cycle",
    "Behavior training/tasks",
    "Brain lesion",
    "Cannula implant",
    "Clear skull cap",
    "Corrective procedure",
    "Coverslip implant",
    "Coverslip replacement",
    "Craniotomy",
    "Ephys recording with acute probe(s)",
    "Ephys recording with chronic probe(s)",
    "Head-fixation only",
    "Headplate implant",
    "Histology",
    "Imaging",
    "Injection of dye - intracranial",
    "Injection of dye - tail vein",
    "Intraocular injection",
    "Neuromics",
    "Optical stimulation",
    "Optical-fiber implant",
    "Perfusion",
    "Secondary craniotomy/durotomy",
    "Single-cell electroporation",
    "Skull thinning",
    "Tail Vein Injection",
    "UV cement",
    "Virus injection",
    "Water restriction",
    "fUSi window",
    "injection of dye - sub cutaneous",
)
"""Procedure type names of Alyx's `actions.proceduretype.json` fixture."""

SUBJECT_FIELDS = (
    "birth_date",
    "age_weeks",
    "death_date",
    "species",
    "sex",
    "litter",
    "strain",
    "source",
    "line",
    "projects",
    "session_projects",
    "lab",
    "genotype",
    "description",
    "alive",
    "reference_weight",
    "last_water_restriction",
    "expected_water",
    "remaining_water",
    "json",
)
"""Subject fields after `nickname, url, id, responsible_user`, in Alyx's order."""

DEFAULT_SUBJECT_FIELDS: dict[str, Json] = {
    "birth_date": None,
    "age_weeks": 0,
    "death_date": None,
    "species": "Laboratory mouse",
    "sex": "U",
    "litter": None,
    "strain": None,
    "source": None,
    "line": None,
    "projects": [],
    "session_projects": [],
    "genotype": [],
    "description": "",
    "alive": True,
    "reference_weight": 0.0,
    "last_water_restriction": None,
    "expected_water": 0.0,
    "remaining_water": 0.0,
    "json": None,
}

_REGISTER_PATH = re.compile(r"^(?P<nickname>[\w.-]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<number>\d+)")
_COLLECTION_REVISION = re.compile(r"((?P<collection>[\w./-]+)/)?(#(?P<revision>[\w.-]+)#/)?")
_FILE_RECORD_PATH = re.compile(r"^[a-zA-Z0-9\_][^\\\:]+$")
_REVISION_FOLDER_ERROR = (
    "Invalid ALF path. There must be only 1 revision and it cannot containsub folders. "
    "A revision folder must be surrounded by pound signs (#)."
)
_NO_SESSION_ERROR = (
    "Invalid ALF path. Only letters, numbers, hyphen and underscores allowed. "
    "A revision folder must be surrounded by pound signs (#)."
)
_DATETIME_FORMAT_ERROR = (
    "Datetime has wrong format. Use one of these formats instead: "
    "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
)
_PROTECTED_ERROR = "One or more datasets is protected"


# -- replies and errors ---------------------------------------------------------------------------


@dataclass
class Reply:
    """An HTTP reply: status, JSON body, extra headers; `paginate` wraps a list body in pages."""

    status: int
    body: Json = None
    headers: dict[str, str] = field(default_factory=dict)
    paginate: bool = False


class ApiError(Exception):
    """An error reply raised from anywhere in the behaviour (the body carries `status_code`)."""

    def __init__(self, status: int, body: dict[str, Json]) -> None:
        super().__init__(str(body.get("detail") or body.get("error") or body))
        self.status = status
        self.body = body

    @property
    def message(self) -> str:
        """The `detail` or `error` text (field errors: the body as text)."""
        return str(self)


def detail_error(status: int, message: str) -> ApiError:
    """`{"detail": ..., "status_code": n}`: auth, 404, 500 and some register-file errors."""
    return ApiError(status, {"detail": message, "status_code": status})


def error_error(status: int, message: str) -> ApiError:
    """`{"status_code": n, "error": ...}`: register-file path and session errors."""
    return ApiError(status, {"status_code": status, "error": message})


def field_errors(errors: dict[str, list[str]]) -> ApiError:
    """`{"<field>": ["<msg>"], ..., "status_code": 400}`: serializer validation."""
    return ApiError(400, {**errors, "status_code": 400})


def not_found(model: str) -> ApiError:
    return detail_error(404, f"No {model} matches the given query.")


@dataclass(frozen=True)
class ApiRequest:
    """One decoded request: method, normalised path, path parameters, query, body, user."""

    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    query: dict[str, list[str]] = field(default_factory=dict)
    body: Json = None
    user: User | None = None

    def arg(self, name: str) -> str | None:
        """The last value of a query parameter (Django's `QueryDict.get`)."""
        values = self.query.get(name)
        return values[-1] if values else None

    def data(self) -> dict[str, Json]:
        """The body as a JSON object; 400 like DRF when it is something else."""
        if self.body is None:
            return {}
        if not isinstance(self.body, dict):
            raise field_errors(
                {
                    "non_field_errors": [
                        f"Invalid data. Expected a dictionary, but got {type(self.body).__name__}."
                    ]
                }
            )
        return self.body


# -- model ----------------------------------------------------------------------------------------


@dataclass
class User:
    id: str
    username: str
    password: str
    token: str
    email: str = ""
    lab: list[str] = field(default_factory=list)
    allowed_users: list[str] = field(default_factory=list)
    is_stock_manager: bool = False


@dataclass
class Repository:
    name: str
    globus_is_personal: bool
    hostname: str | None = None
    globus_path: str = ""
    data_url: str | None = None
    timezone: str = "UTC"
    repository_type: str | None = "Fileserver"
    globus_endpoint_id: str | None = None
    json: Json = None


@dataclass
class Lab:
    name: str
    repositories: list[str] = field(default_factory=list)
    institution: str = ""
    address: str = ""
    timezone: str = "UTC"
    reference_weight_pct: float = 0.0
    zscore_weight_pct: float = 0.0
    json: Json = None


@dataclass
class Project:
    name: str
    description: str = ""
    users: list[str] = field(default_factory=list)


@dataclass
class Subject:
    id: str
    nickname: str
    lab: str
    responsible_user: str | None
    fields: dict[str, Json] = field(default_factory=dict)
    """The other served fields (`SUBJECT_FIELDS`), `lab` excepted."""


@dataclass
class Session:
    id: str
    subject_id: str
    seq: int
    users: list[str] = field(default_factory=list)
    location: str | None = None
    procedures: list[str] = field(default_factory=list)
    lab: str | None = None
    projects: list[str] = field(default_factory=list)
    type: str | None = None
    task_protocol: str | None = ""
    number: int | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    narrative: str | None = ""
    parent_session: str | None = None
    n_correct_trials: int | None = None
    n_trials: int | None = None
    extended_qc: Json = None
    qc: int = 0
    json: Json = None
    auto_datetime: datetime | None = None


@dataclass
class Revision:
    id: str
    name: str
    seq: int
    created_datetime: datetime
    description: str = ""


@dataclass
class Tag:
    id: str
    name: str
    protected: bool = False
    public: bool = False
    description: str = ""
    hash: str | None = None
    json: Json = None


@dataclass
class DatasetType:
    id: str
    name: str
    filename_pattern: str = ""
    description: str = ""
    created_by: str | None = None
    json: Json = None


@dataclass
class DataFormat:
    id: str
    name: str
    file_extension: str
    description: str = ""
    matlab_loader_function: str = ""
    python_loader_function: str = ""
    json: Json = None


@dataclass
class WaterType:
    id: str
    name: str
    json: Json = None


@dataclass
class Dataset:
    id: str
    session_id: str
    seq: int
    collection: str
    name: str
    revision_id: str | None
    dataset_type: str
    data_format: str
    created_by: str | None
    created_datetime: datetime
    auto_datetime: datetime
    hash: str | None = None
    file_size: int | None = None
    version: str = ""
    default_dataset: bool = True
    qc: int = 0
    tags: list[str] = field(default_factory=list)
    json: Json = None


@dataclass
class FileRecord:
    id: str
    dataset_id: str
    seq: int
    repository: str
    relative_path: str
    exists: bool
    json: Json = None


@dataclass
class Weighing:
    id: str
    subject_id: str
    seq: int
    date_time: datetime
    weight: float
    user: str | None


@dataclass
class WaterAdministration:
    id: str
    subject_id: str
    seq: int
    date_time: datetime
    water_administered: float | None
    water_type: str
    user: str | None
    session_id: str | None
    adlib: bool


@dataclass(frozen=True)
class _FileInfo:
    """One `filenames` entry of register-file/check-protected, parsed as Alyx does."""

    sent: str
    rel_dir_path: str
    collection: str
    revision: str | None
    name: str


# -- small helpers --------------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


Fixtures = Callable[[str], Json]
"""Gives a fixture file's content by its name in the shared fixture folder (`data.dataformat.json`,
`labs.list.200.json`, ...): read from a folder, or made up (`tests.alyx_server.seed`)."""


def fixtures_in(directory: Path) -> Fixtures:
    """The fixture files of a folder (the shared `../shared/fixtures/alyx` by default)."""
    return lambda name: json.loads((directory / name).read_text(encoding="utf-8"))


def _as_bool(value: Json) -> bool:
    """Alyx's cast: booleans as they are, strings true only when exactly "True"."""
    if isinstance(value, str):
        return value == "True"
    return bool(value)


def _split(value: Json) -> list[Json] | None:
    """A list field that may also be a comma-separated string; None when absent."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.split(",")
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def _per_file(value: Json, count: int, *, broadcast: bool) -> list[Json]:
    """One value per file from a list or comma-separated string; missing ones are None.

    With `broadcast`, a single value applies to every file (`versions`, `qc`: "one value for
    all"); a bare number always does (`filesizes`, accepted since Alyx 3.6.0, alyx#1011).
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [value] * count
    values = _split(value)
    if not values:
        return [None] * count
    if broadcast and len(values) == 1:
        return values * count
    return (values + [None] * count)[:count]


def _parse_datetime(value: Json) -> datetime:
    """An ISO 8601 string as Alyx stores it: naive; an aware value becomes naive UTC."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError as error:
            raise ValueError(_DATETIME_FORMAT_ERROR) from error
    else:
        raise ValueError(_DATETIME_FORMAT_ERROR)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def _parse_int(value: Json) -> int:
    if isinstance(value, bool):
        raise ValueError("A valid integer is required.")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise ValueError("A valid integer is required.")


def _parse_float(value: Json) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("A valid number is required.")
    try:
        return float(value)
    except ValueError as error:
        raise ValueError("A valid number is required.") from error


def _parse_qc(value: Json) -> int:
    """A QC value given as a number or a name (case-insensitive); ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int) and value in QC_NAMES:
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.upper() in QC_VALUES:
            return QC_VALUES[text.upper()]
        if text.isdigit() and int(text) in QC_NAMES:
            return int(text)
    raise ValueError(value)


def _add_uuid(relative_path: str, dataset_id: str) -> str:
    """`a/b/spikes.times.npy` → `a/b/spikes.times.<uuid>.npy` (Alyx's `data_url`)."""
    path = PurePosixPath(relative_path)
    return str(path.with_name(f"{path.stem}.{dataset_id}{path.suffix}"))


def _truthy(value: Json) -> bool:
    """A DRF boolean field: true, "True", "true", "1" (and 1) are true."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "on")
    return bool(value)


def _any_protected(details: list[dict[str, list[dict[str, bool]]]]) -> bool:
    return any(
        protected
        for entry in details
        for info in entry.values()
        for item in info
        for protected in item.values()
    )


def _bool_filter(value: str | None) -> bool | None:
    """django-filter's boolean: True/true/1, False/false/0; anything else does not filter."""
    if value in ("True", "true", "1"):
        return True
    if value in ("False", "false", "0"):
        return False
    return None


# -- the state ------------------------------------------------------------------------------------


class AlyxState:
    """A fresh Alyx 3.6.1 database: reference data from the fixtures plus the observed lab setup.

    Lab `cortexlab` with repositories `cortexlab_local` (personal) and `flatiron_cortexlab`
    (server), project `main`, subjects `algernon` and `ZM_1085`, user `test_user` (password
    `TEST_PASSWORD`, token `TEST_TOKEN`), 114 dataset types, 29 data formats, 7 water types,
    2 repository types, the procedure types of `PROCEDURES`. `base_url` is used in every `url`
    field; the server sets it to its own address.
    """

    def __init__(
        self,
        fixtures: Path | Fixtures = ALYX_FIXTURES,
        base_url: str = FIXTURE_BASE_URL,
        clock: Callable[[], datetime] = datetime.now,
    ) -> None:
        self.lock = threading.RLock()
        self.base_url = base_url
        self.clock = clock
        self._seq = itertools.count(1)
        self._session_user_rows = itertools.count(1)
        self.users: dict[str, User] = {}
        self.labs: dict[str, Lab] = {}
        self.repositories: dict[str, Repository] = {}
        self.repository_types: dict[str, tuple[str, Json]] = {}
        self.projects: dict[str, Project] = {}
        self.locations: set[str] = set()
        self.procedures: set[str] = set(PROCEDURES)
        self.subjects: dict[str, Subject] = {}
        self.dataset_types: dict[str, DatasetType] = {}
        self.data_formats: dict[str, DataFormat] = {}
        self.water_types: dict[str, WaterType] = {}
        self.sessions: dict[str, Session] = {}
        self.revisions: dict[str, Revision] = {}
        self.tags: dict[str, Tag] = {}
        self.datasets: dict[str, Dataset] = {}
        self.file_records: dict[str, FileRecord] = {}
        # Indexes of the two tables a registration searches for every file it names (datasets
        # and file records are only ever added, never removed or moved): without them the server
        # scanned every dataset and record per file, and a benchmark of 100 sessions measured the
        # server's quadratic lookups more than the client.
        self._session_datasets: dict[str, list[Dataset]] = {}
        self._dataset_records: dict[str, list[FileRecord]] = {}
        self._record_paths: set[tuple[str, str]] = set()
        self.weighings: dict[str, Weighing] = {}
        self.water_administrations: dict[str, WaterAdministration] = {}
        self._load_fixtures(fixtures_in(fixtures) if isinstance(fixtures, Path) else fixtures)

    # -- loading --------------------------------------------------------------------------------

    def _load_fixtures(self, load: Fixtures) -> None:
        for item in load("data.datasettype.json"):
            fields = item["fields"]
            self.dataset_types[fields["name"]] = DatasetType(
                id=item["pk"],
                name=fields["name"],
                filename_pattern=fields["filename_pattern"] or "",
                description=fields["description"] or "",
                created_by=fields["created_by"],
                json=fields["json"],
            )
        self.dataset_types["unknown"] = DatasetType(id=UNKNOWN_DATASET_TYPE_ID, name="unknown")
        for item in load("data.dataformat.json"):
            fields = item["fields"]
            self.data_formats[fields["name"]] = DataFormat(
                id=item["pk"],
                name=fields["name"],
                file_extension=fields["file_extension"],
                description=fields["description"],
                matlab_loader_function=fields["matlab_loader_function"],
                python_loader_function=fields["python_loader_function"],
                json=fields["json"],
            )
        self.data_formats["unknown"] = DataFormat(
            id=UNKNOWN_DATA_FORMAT_ID, name="unknown", file_extension=""
        )
        for item in load("actions.watertype.json"):
            fields = item["fields"]
            self.water_types[fields["name"]] = WaterType(item["pk"], fields["name"], fields["json"])
        for item in load("data.datarepositorytype.json"):
            fields = item["fields"]
            self.repository_types[fields["name"]] = (item["pk"], fields["json"])
        for repo in load("data-repository.list.200.json")["results"]:
            self.repositories[repo["name"]] = Repository(**repo)
        for lab in load("labs.list.200.json")["results"]:
            self.labs[lab["name"]] = Lab(**lab)
        for project in load("projects.list.200.json")["results"]:
            self.projects[project["name"]] = Project(**project)
        user = load("users.read.200.json")
        self.users[user["username"]] = User(
            id=user["id"],
            username=user["username"],
            password=TEST_PASSWORD,
            token=TEST_TOKEN,
            email=user["email"],
            lab=list(user["lab"]),
            allowed_users=list(user["allowed_users"]),
            is_stock_manager=user["is_stock_manager"],
        )
        for subject in load("subjects.list.200.json")["results"]:
            fields = {key: subject[key] for key in SUBJECT_FIELDS if key != "lab"}
            self.subjects[subject["id"]] = Subject(
                id=subject["id"],
                nickname=subject["nickname"],
                lab=subject["lab"],
                responsible_user=subject["responsible_user"],
                fields=fields,
            )

    # -- test set-up helpers --------------------------------------------------------------------

    def next_seq(self) -> int:
        return next(self._seq)

    def add_user(
        self, username: str, password: str = TEST_PASSWORD, token: str | None = None
    ) -> User:
        """A new lab member; its token is random unless given."""
        with self.lock:
            user = User(
                id=str(uuid.uuid4()),
                username=username,
                password=password,
                token=token or uuid.uuid4().hex + uuid.uuid4().hex[:8],
                email=f"{username}@example.com",
            )
            self.users[username] = user
            return user

    def add_repository(
        self,
        name: str,
        *,
        personal: bool,
        lab: str | None = "cortexlab",
        hostname: str | None = None,
        data_url: str | None = None,
        globus_path: str = "",
    ) -> Repository:
        """A data repository, attached to `lab` when given."""
        with self.lock:
            repo = Repository(
                name=name,
                globus_is_personal=personal,
                hostname=hostname or f"{name}.local",
                data_url=data_url,
                globus_path=globus_path,
            )
            self.repositories[name] = repo
            if lab is not None:
                self.labs[lab].repositories = sorted({*self.labs[lab].repositories, name})
            return repo

    def add_lab(self, name: str, repositories: Sequence[str] = ()) -> Lab:
        with self.lock:
            lab = Lab(name=name, repositories=sorted(repositories))
            self.labs[name] = lab
            return lab

    def add_subject(
        self,
        nickname: str,
        lab: str = "cortexlab",
        responsible_user: str | None = TEST_USER,
        **fields: Json,
    ) -> Subject:
        """A subject; nicknames may repeat across labs."""
        with self.lock:
            subject = Subject(
                id=str(uuid.uuid4()),
                nickname=nickname,
                lab=lab,
                responsible_user=responsible_user,
                fields={**DEFAULT_SUBJECT_FIELDS, **fields},
            )
            self.subjects[subject.id] = subject
            return subject

    def add_project(self, name: str) -> Project:
        with self.lock:
            project = Project(name=name)
            self.projects[name] = project
            return project

    def add_location(self, name: str) -> None:
        with self.lock:
            self.locations.add(name)

    def add_dataset_type(self, name: str, filename_pattern: str = "") -> DatasetType:
        with self.lock:
            dataset_type = DatasetType(
                id=str(uuid.uuid4()), name=name, filename_pattern=filename_pattern
            )
            self.dataset_types[name] = dataset_type
            return dataset_type

    def remove_dataset_type(self, name: str) -> None:
        with self.lock:
            del self.dataset_types[name]

    def add_session(
        self,
        subject: str,
        start_time: str | datetime,
        number: int = 1,
        *,
        users: Sequence[str] = (TEST_USER,),
        lab: str | None = None,
        parent_session: str | None = None,
        session_type: str | None = "Experiment",
    ) -> Session:
        """A session as `POST /sessions` would create it, without validation."""
        with self.lock:
            found = self.subject_by_nickname(subject)
            now = self.clock()
            session = Session(
                id=str(uuid.uuid4()),
                subject_id=found.id,
                seq=self.next_seq(),
                users=list(users),
                lab=lab or found.lab,
                type=session_type,
                number=number,
                start_time=_parse_datetime(start_time),
                parent_session=parent_session,
                auto_datetime=now,
            )
            self.sessions[session.id] = session
            return session

    def add_revision(self, name: str) -> Revision:
        """A revision, created now (so it sorts as the latest)."""
        with self.lock:
            return self._revision(name)

    def add_tag(self, name: str, *, protected: bool = True, public: bool = False) -> Tag:
        with self.lock:
            tag = Tag(id=str(uuid.uuid4()), name=name, protected=protected, public=public)
            self.tags[name] = tag
            return tag

    def protect_dataset(self, dataset_id: str, tag: str = "protected_tag") -> Tag:
        """Tag the dataset with a protected tag, created if needed, as Alyx users do."""
        with self.lock:
            found = self.tags.get(tag)
            if found is None:
                found = Tag(
                    id=str(uuid.uuid4()), name=tag, protected=True, description="test protection"
                )
                self.tags[tag] = found
            dataset = self.datasets[dataset_id]
            if tag not in dataset.tags:
                dataset.tags.append(tag)
            return found

    def subject_by_nickname(self, nickname: str) -> Subject:
        found = self._subjects_named(nickname)
        if len(found) != 1:
            raise KeyError(f"{len(found)} subjects are called {nickname!r}")
        return found[0]

    def session_key(self, session: Session) -> str:
        """`<nickname>/<date>/<number, 3 digits>`: how snapshots and helpers name a session."""
        subject = self.subjects[session.subject_id].nickname
        day = session.start_time.date().isoformat() if session.start_time else "None"
        number = "None" if session.number is None else f"{session.number:03d}"
        return f"{subject}/{day}/{number}"

    def find_sessions(self, key: str) -> list[Session]:
        """Sessions named `<nickname>/<date>/<number>` (number with or without zeros), newest
        first."""
        nickname, day, number = key.strip("/").split("/")
        return [
            session
            for session in self._ordered_sessions()
            if self.subjects[session.subject_id].nickname == nickname
            and session.start_time is not None
            and session.start_time.date().isoformat() == day
            and session.number == int(number)
        ]

    def find_datasets(
        self,
        session: str | None = None,
        *,
        collection: str | None = None,
        name: str | None = None,
        revision: str | None = None,
    ) -> list[Dataset]:
        """Datasets newest first, filtered by session key or id, collection, name and revision
        name ('' = no revision)."""
        with self.lock:
            session_ids: set[str] | None = None
            if session is not None:
                session_ids = (
                    {session}
                    if session in self.sessions
                    else {s.id for s in self.find_sessions(session)}
                )
            return [
                dataset
                for dataset in self._ordered_datasets()
                if (session_ids is None or dataset.session_id in session_ids)
                and (collection is None or dataset.collection == collection)
                and (name is None or dataset.name == name)
                and (revision is None or self._revision_name(dataset) == revision)
            ]

    def dataset_at(self, path: str) -> Dataset:
        """The one dataset at `<nickname>/<date>/<number>/<collection>/[#rev#/]<name>`."""
        parts = PurePosixPath(path.strip("/")).parts
        session, rest = "/".join(parts[:3]), list(parts[3:])
        name = rest.pop()
        revision = ""
        if rest and rest[-1].startswith("#") and rest[-1].endswith("#"):
            revision = rest.pop()[1:-1]
        found = self.find_datasets(session, collection="/".join(rest), name=name, revision=revision)
        if len(found) != 1:
            raise KeyError(f"{len(found)} datasets at {path!r}")
        return found[0]

    def records_of(self, dataset: Dataset) -> list[FileRecord]:
        return list(self._dataset_records.get(dataset.id, ()))

    def revision_of(self, dataset: Dataset) -> str:
        """The dataset's revision name, '' when it has none."""
        return self._revision_name(dataset)

    def is_protected(self, dataset: Dataset) -> bool:
        return any(self.tags[name].protected for name in dataset.tags if name in self.tags)

    # -- snapshot ---------------------------------------------------------------------------------

    def __deepcopy__(self, memo: dict[int, Any]) -> AlyxState:
        """A copy of the whole database (a crash test restores one per kill point); the copy
        has a lock of its own, the locks of a running server cannot be copied."""
        copied = object.__new__(AlyxState)
        memo[id(self)] = copied
        for name, value in vars(self).items():
            setattr(
                copied, name, threading.RLock() if name == "lock" else copy.deepcopy(value, memo)
            )
        return copied

    def snapshot(self, *, times: bool = True) -> dict[str, Json]:
        """What two clients' runs must agree on, as plain sorted data comparable with `==`.

        No generated ids, urls or server timestamps; sessions are named by `session_key`
        (`algernon/2026-11-21/001`). `times=False` also drops client-sent times (session start
        and end, weighing and water `date_time`), keeping the session date.
        """
        with self.lock:
            sessions = []
            for session in self.sessions.values():
                item: dict[str, Json] = {
                    "key": self.session_key(session),
                    "subject": self.subjects[session.subject_id].nickname,
                    "date": session.start_time.date().isoformat() if session.start_time else None,
                    "number": session.number,
                    "lab": session.lab,
                    "users": sorted(session.users),
                    "type": session.type,
                    "task_protocol": session.task_protocol,
                    "procedures": sorted(session.procedures),
                    "projects": sorted(session.projects),
                    "location": session.location,
                    "narrative": session.narrative,
                    "n_trials": session.n_trials,
                    "n_correct_trials": session.n_correct_trials,
                    "qc": QC_NAMES.get(session.qc, session.qc),
                    "extended_qc": session.extended_qc,
                    "json": session.json,
                    "parent": (
                        self.session_key(self.sessions[session.parent_session])
                        if session.parent_session in self.sessions
                        else None
                    ),
                }
                if times:
                    item["start_time"] = _iso(session.start_time)
                    item["end_time"] = _iso(session.end_time)
                sessions.append(item)
            datasets = [
                {
                    "session": self.session_key(self.sessions[dataset.session_id]),
                    "collection": dataset.collection,
                    "name": dataset.name,
                    "revision": self._revision_name(dataset),
                    "dataset_type": dataset.dataset_type,
                    "data_format": dataset.data_format,
                    "hash": dataset.hash,
                    "file_size": dataset.file_size,
                    "version": dataset.version,
                    "default": dataset.default_dataset,
                    "qc": QC_NAMES.get(dataset.qc, dataset.qc),
                    "protected": self.is_protected(dataset),
                    "tags": sorted(dataset.tags),
                    "created_by": dataset.created_by,
                    "file_records": _sorted(
                        {
                            "repository": record.repository,
                            "relative_path": record.relative_path,
                            "exists": record.exists,
                        }
                        for record in self.records_of(dataset)
                    ),
                }
                for dataset in self.datasets.values()
            ]
            weighings = []
            for weighing in self.weighings.values():
                entry: dict[str, Json] = {
                    "subject": self.subjects[weighing.subject_id].nickname,
                    "weight": weighing.weight,
                    "user": weighing.user,
                }
                if times:
                    entry["date_time"] = _iso(weighing.date_time)
                weighings.append(entry)
            water = []
            for admin in self.water_administrations.values():
                entry = {
                    "subject": self.subjects[admin.subject_id].nickname,
                    "water_administered": admin.water_administered,
                    "water_type": admin.water_type,
                    "user": admin.user,
                    "adlib": admin.adlib,
                    "session": (
                        self.session_key(self.sessions[admin.session_id])
                        if admin.session_id in self.sessions
                        else None
                    ),
                }
                if times:
                    entry["date_time"] = _iso(admin.date_time)
                water.append(entry)
            return {
                "sessions": _sorted(sessions),
                "datasets": _sorted(datasets),
                "revisions": sorted(revision.name for revision in self.revisions.values()),
                "tags": _sorted(
                    {"name": tag.name, "protected": tag.protected, "public": tag.public}
                    for tag in self.tags.values()
                ),
                "weighings": _sorted(weighings),
                "water_administrations": _sorted(water),
            }

    # -- lookups and orderings ------------------------------------------------------------------

    def _subjects_named(self, nickname: str) -> list[Subject]:
        return [s for s in self.subjects.values() if s.nickname == nickname]

    def _one_subject(self, nickname: str) -> Subject | None:
        """`Subject.objects.get(nickname=...)`: None when absent, 500 when shared."""
        found = self._subjects_named(nickname)
        if len(found) > 1:
            raise detail_error(
                500, f"get() returned more than one Subject -- it returned {len(found)}!"
            )
        return found[0] if found else None

    def _ordered_sessions(self) -> list[Session]:
        """Alyx's session order, newest first: start time, then the later created first."""
        return sorted(
            self.sessions.values(),
            key=lambda s: (s.start_time or datetime.min, s.seq),
            reverse=True,
        )

    def _ordered_datasets(self) -> list[Dataset]:
        return sorted(self.datasets.values(), key=lambda d: d.seq, reverse=True)

    def _revision_name(self, dataset: Dataset) -> str:
        return self.revisions[dataset.revision_id].name if dataset.revision_id else ""

    def _revision(self, name: str) -> Revision:
        for revision in self.revisions.values():
            if revision.name == name:
                return revision
        revision = Revision(
            id=str(uuid.uuid4()), name=name, seq=self.next_seq(), created_datetime=self.clock()
        )
        self.revisions[revision.id] = revision
        return revision

    def _url(self, endpoint: str, key: str) -> str:
        return f"{self.base_url}/{endpoint}/{quote(key)}"

    def _user_by_name(self, username: str) -> User | None:
        return self.users.get(username)

    def user_by_token(self, token: str) -> User | None:
        return next((u for u in self.users.values() if u.token == token), None)

    # -- serializers ----------------------------------------------------------------------------

    def _subject_item(self, subject: Subject) -> dict[str, Json]:
        item: dict[str, Json] = {
            "nickname": subject.nickname,
            "url": self._url("subjects", subject.nickname),
            "id": subject.id,
            "responsible_user": subject.responsible_user,
        }
        for key in SUBJECT_FIELDS:
            item[key] = subject.lab if key == "lab" else subject.fields.get(key)
        return item

    def _user_item(self, user: User) -> dict[str, Json]:
        return {
            "id": user.id,
            "username": user.username,
            "email": user.email,
            "subjects_responsible": sorted(
                s.nickname for s in self.subjects.values() if s.responsible_user == user.username
            ),
            "lab": list(user.lab),
            "allowed_users": list(user.allowed_users),
            "is_stock_manager": user.is_stock_manager,
        }

    def _session_list_item(self, session: Session) -> dict[str, Json]:
        return {
            "id": session.id,
            "subject": self.subjects[session.subject_id].nickname,
            "start_time": _iso(session.start_time),
            "number": session.number,
            "lab": session.lab,
            "projects": list(session.projects),
            "url": self._url("sessions", session.id),
            "task_protocol": session.task_protocol,
        }

    def _session_detail(self, session: Session) -> dict[str, Json]:
        datasets = list(self._session_datasets.get(session.id, ()))
        with_revision = sorted(
            (d for d in datasets if d.revision_id),
            key=lambda d: self.revisions[d.revision_id or ""].seq,
            reverse=True,
        )
        ordered = with_revision + sorted(
            (d for d in datasets if not d.revision_id), key=lambda d: d.seq
        )
        return {
            "subject": self.subjects[session.subject_id].nickname,
            "users": list(session.users),
            "location": session.location,
            "procedures": list(session.procedures),
            "lab": session.lab,
            "projects": list(session.projects),
            "type": session.type,
            "task_protocol": session.task_protocol,
            "number": session.number,
            "start_time": _iso(session.start_time),
            "end_time": _iso(session.end_time),
            "narrative": session.narrative,
            "parent_session": session.parent_session,
            "n_correct_trials": session.n_correct_trials,
            "n_trials": session.n_trials,
            "url": self._url("sessions", session.id),
            "extended_qc": session.extended_qc,
            "qc": QC_NAMES.get(session.qc, session.qc),
            "wateradmin_session_related": [
                {
                    "id": admin.id,
                    "name": "",
                    "water_type": admin.water_type,
                    "water_administered": admin.water_administered,
                }
                for admin in self.water_administrations.values()
                if admin.session_id == session.id
            ],
            "data_dataset_session_related": [
                {
                    "id": dataset.id,
                    "name": dataset.name,
                    "dataset_type": dataset.dataset_type,
                    "data_url": self._dataset_data_url(dataset),
                    "url": self._url("datasets", dataset.id),
                    "file_size": dataset.file_size,
                    "hash": dataset.hash,
                    "version": dataset.version,
                    "collection": dataset.collection,
                    "revision": dataset.revision_id or "",
                    "default_revision": str(dataset.default_dataset),
                    "qc": QC_NAMES.get(dataset.qc, dataset.qc),
                }
                for dataset in ordered
            ],
            "auto_datetime": _iso(session.auto_datetime),
            "id": session.id,
            "json": session.json,
            "probe_insertion": [],
            "field_of_view": [],
            "notes": [],
        }

    def _record_data_url(self, record: FileRecord) -> str | None:
        repo = self.repositories.get(record.repository)
        if repo is None or not repo.data_url:
            return None
        return repo.data_url + _add_uuid(record.relative_path, record.dataset_id)

    def _dataset_data_url(self, dataset: Dataset) -> str | None:
        """The first server (non-personal) record with a data URL, as on the session detail."""
        for record in self.records_of(dataset):
            repo = self.repositories.get(record.repository)
            if repo is not None and not repo.globus_is_personal and repo.data_url:
                return self._record_data_url(record)
        return None

    def _dataset_item(self, dataset: Dataset, *, with_flags: bool) -> dict[str, Json]:
        """`GET /datasets` item (`with_flags`: protected/public) or dataset detail."""
        session = self.sessions[dataset.session_id]
        item: dict[str, Json] = {
            "url": self._url("datasets", dataset.id),
            "name": dataset.name,
            "created_by": dataset.created_by,
            "created_datetime": _iso(dataset.created_datetime),
            "dataset_type": dataset.dataset_type,
            "data_format": dataset.data_format,
            "collection": dataset.collection,
            "session": self._url("sessions", session.id),
            "file_size": dataset.file_size,
            "hash": dataset.hash,
            "version": dataset.version,
            "experiment_number": session.number,
            "file_records": [
                {
                    "id": record.id,
                    "data_repository": record.repository,
                    "data_repository_path": self.repositories[record.repository].globus_path,
                    "relative_path": record.relative_path,
                    "data_url": self._record_data_url(record),
                    "exists": record.exists,
                }
                for record in self.records_of(dataset)
            ],
            "auto_datetime": _iso(dataset.auto_datetime),
            "revision": self._revision_name(dataset),
            "default_dataset": dataset.default_dataset,
        }
        if with_flags:
            item["protected"] = int(self.is_protected(dataset))
            item["public"] = int(any(self.tags[t].public for t in dataset.tags if t in self.tags))
        item["tags"] = list(dataset.tags)
        item["qc"] = QC_NAMES.get(dataset.qc, dataset.qc)
        item["json"] = dataset.json
        return item

    def _register_item(self, dataset: Dataset) -> dict[str, Json]:
        """One element of the `register-file` reply."""
        session = self.sessions[dataset.session_id]
        return {
            "id": dataset.id,
            "name": dataset.name,
            "file_size": dataset.file_size,
            "subject": self.subjects[session.subject_id].nickname,
            "created_by": dataset.created_by,
            "created_datetime": _iso(dataset.created_datetime),
            "dataset_type": dataset.dataset_type,
            "data_format": dataset.data_format,
            "session": session.id,
            "session_number": session.number,
            "session_users": ",".join(session.users),
            "session_start_time": _iso(session.start_time),
            "collection": dataset.collection,
            "revision": self._revision_name(dataset),
            "default": dataset.default_dataset,
            "qc": dataset.qc,
            "file_records": [
                {
                    "id": record.id,
                    "data_repository": record.repository,
                    "relative_path": record.relative_path,
                    "exists": record.exists,
                }
                for record in self.records_of(dataset)
            ],
        }

    def _weighing_item(self, weighing: Weighing) -> dict[str, Json]:
        return {
            "subject": self.subjects[weighing.subject_id].nickname,
            "date_time": _iso(weighing.date_time),
            "weight": weighing.weight,
            "user": weighing.user,
            "url": self._url("weighings", weighing.id),
        }

    def _water_item(self, admin: WaterAdministration) -> dict[str, Json]:
        return {
            "subject": self.subjects[admin.subject_id].nickname,
            "date_time": _iso(admin.date_time),
            "water_administered": admin.water_administered,
            "water_type": admin.water_type,
            "user": admin.user,
            "url": self._url("water-administrations", admin.id),
            "session": admin.session_id,
            "adlib": admin.adlib,
        }

    def _tag_item(self, tag: Tag) -> dict[str, Json]:
        return {
            "id": tag.id,
            "json": tag.json,
            "name": tag.name,
            "description": tag.description,
            "protected": tag.protected,
            "public": tag.public,
            "hash": tag.hash,
        }

    @staticmethod
    def _dataset_type_item(dataset_type: DatasetType) -> dict[str, Json]:
        return {
            "id": dataset_type.id,
            "name": dataset_type.name,
            "created_by": dataset_type.created_by,
            "description": dataset_type.description,
            "filename_pattern": dataset_type.filename_pattern,
        }

    @staticmethod
    def _data_format_item(data_format: DataFormat) -> dict[str, Json]:
        return {
            "id": data_format.id,
            "json": data_format.json,
            "name": data_format.name,
            "description": data_format.description,
            "file_extension": data_format.file_extension,
            "matlab_loader_function": data_format.matlab_loader_function,
            "python_loader_function": data_format.python_loader_function,
        }

    @staticmethod
    def _repository_item(repo: Repository) -> dict[str, Json]:
        return {
            "name": repo.name,
            "timezone": repo.timezone,
            "globus_path": repo.globus_path,
            "hostname": repo.hostname,
            "data_url": repo.data_url,
            "repository_type": repo.repository_type,
            "globus_endpoint_id": repo.globus_endpoint_id,
            "globus_is_personal": repo.globus_is_personal,
            "json": repo.json,
        }

    @staticmethod
    def _lab_item(lab: Lab) -> dict[str, Json]:
        return {
            "name": lab.name,
            "institution": lab.institution,
            "address": lab.address,
            "timezone": lab.timezone,
            "repositories": sorted(lab.repositories),
            "reference_weight_pct": lab.reference_weight_pct,
            "zscore_weight_pct": lab.zscore_weight_pct,
            "json": lab.json,
        }

    # -- endpoints: authentication and reference lists ------------------------------------------

    def auth_token(self, request: ApiRequest) -> Reply:
        """`POST /auth-token`, form or JSON body."""
        data = request.data()
        missing = {
            key: ["This field is required."]
            for key in ("username", "password")
            if not data.get(key)
        }
        if missing:
            raise field_errors(missing)
        user = self._user_by_name(str(data["username"]))
        if user is None or user.password != data["password"]:
            raise field_errors(
                {"non_field_errors": ["Unable to log in with provided credentials."]}
            )
        return Reply(200, {"token": user.token})

    def me(self, request: ApiRequest) -> Reply:
        assert request.user is not None
        return Reply(200, self._user_item(request.user))

    def list_dataset_types(self, request: ApiRequest) -> Reply:
        items = sorted(self.dataset_types.values(), key=lambda t: t.name)
        name = request.arg("name")
        if name is not None:
            items = [t for t in items if t.name == name]
        return Reply(200, [self._dataset_type_item(t) for t in items], paginate=True)

    def read_dataset_type(self, request: ApiRequest) -> Reply:
        found = self.dataset_types.get(request.params["name"])
        if found is None:
            raise not_found("DatasetType")
        return Reply(200, self._dataset_type_item(found))

    def create_dataset_type(self, request: ApiRequest) -> Reply:
        """`POST /dataset-types`: patterns are stored lower-cased."""
        data = request.data()
        name = data.get("name")
        if not name:
            raise field_errors({"name": ["This field is required."]})
        if name in self.dataset_types:
            raise field_errors({"name": ["dataset type with this name already exists."]})
        created_by = data.get("created_by")
        if created_by is not None and created_by not in self.users:
            raise field_errors(
                {"created_by": [f"Object with username={created_by} does not exist."]}
            )
        dataset_type = DatasetType(
            id=str(uuid.uuid4()),
            name=str(name),
            filename_pattern=str(data.get("filename_pattern") or "").lower(),
            description=str(data.get("description") or ""),
            created_by=created_by,
        )
        self.dataset_types[dataset_type.name] = dataset_type
        return Reply(201, self._dataset_type_item(dataset_type))

    def list_data_formats(self, request: ApiRequest) -> Reply:
        items = sorted(self.data_formats.values(), key=lambda f: f.name)
        return Reply(200, [self._data_format_item(f) for f in items], paginate=True)

    def read_data_format(self, request: ApiRequest) -> Reply:
        found = self.data_formats.get(request.params["name"])
        if found is None:
            raise not_found("DataFormat")
        return Reply(200, self._data_format_item(found))

    def list_labs(self, request: ApiRequest) -> Reply:
        items = sorted(self.labs.values(), key=lambda lab: lab.name)
        return Reply(200, [self._lab_item(lab) for lab in items], paginate=True)

    def read_lab(self, request: ApiRequest) -> Reply:
        found = self.labs.get(request.params["name"])
        if found is None:
            raise not_found("Lab")
        return Reply(200, self._lab_item(found))

    def list_repositories(self, request: ApiRequest) -> Reply:
        items = sorted(self.repositories.values(), key=lambda r: r.name)
        personal = _bool_filter(request.arg("globus_is_personal"))
        if personal is not None:
            items = [r for r in items if r.globus_is_personal == personal]
        name = request.arg("name")
        if name is not None:
            items = [r for r in items if r.name == name]
        return Reply(200, [self._repository_item(r) for r in items], paginate=True)

    def read_repository(self, request: ApiRequest) -> Reply:
        found = self.repositories.get(request.params["name"])
        if found is None:
            raise not_found("DataRepository")
        return Reply(200, self._repository_item(found))

    def list_repository_types(self, request: ApiRequest) -> Reply:
        return Reply(
            200,
            [
                {"url": self._url("data-repository-type", name), "json": extra, "name": name}
                for name, (_, extra) in sorted(self.repository_types.items())
            ],
            paginate=True,
        )

    def read_repository_type(self, request: ApiRequest) -> Reply:
        name = request.params["name"]
        if name not in self.repository_types:
            raise not_found("DataRepositoryType")
        extra = self.repository_types[name][1]
        return Reply(
            200, {"url": self._url("data-repository-type", name), "json": extra, "name": name}
        )

    def list_projects(self, request: ApiRequest) -> Reply:
        items = sorted(self.projects.values(), key=lambda p: p.name)
        return Reply(
            200,
            [{"name": p.name, "description": p.description, "users": list(p.users)} for p in items],
            paginate=True,
        )

    def read_project(self, request: ApiRequest) -> Reply:
        found = self.projects.get(request.params["name"])
        if found is None:
            raise not_found("Project")
        return Reply(
            200, {"name": found.name, "description": found.description, "users": found.users}
        )

    def list_water_types(self, request: ApiRequest) -> Reply:
        return Reply(
            200,
            [
                {"url": self._url("water-type", w.name), "json": w.json, "name": w.name}
                for w in self.water_types.values()
            ],
            paginate=True,
        )

    def read_water_type(self, request: ApiRequest) -> Reply:
        found = self.water_types.get(request.params["name"])
        if found is None:
            raise not_found("WaterType")
        return Reply(
            200,
            {"url": self._url("water-type", found.name), "json": found.json, "name": found.name},
        )

    def list_revisions(self, request: ApiRequest) -> Reply:
        items = sorted(self.revisions.values(), key=lambda r: r.seq, reverse=True)
        return Reply(
            200,
            [
                {
                    "id": r.id,
                    "name": r.name,
                    "description": r.description,
                    "created_datetime": _iso(r.created_datetime),
                }
                for r in items
            ],
            paginate=True,
        )

    # -- endpoints: subjects and users ------------------------------------------------------------

    def list_subjects(self, request: ApiRequest) -> Reply:
        items = sorted(self.subjects.values(), key=lambda s: (s.nickname, s.lab))
        nickname = request.arg("nickname")
        if nickname is not None:
            items = [s for s in items if s.nickname == nickname]
        lab = request.arg("lab")
        if lab is not None:
            items = [s for s in items if s.lab.lower() == lab.lower()]
        alive = _bool_filter(request.arg("alive"))
        if alive is not None:
            items = [s for s in items if bool(s.fields.get("alive")) == alive]
        return Reply(200, [self._subject_item(s) for s in items], paginate=True)

    def read_subject(self, request: ApiRequest) -> Reply:
        """`GET /subjects/<nickname>` with `weighings` and `water_administrations`."""
        subject = self._one_subject(request.params["nickname"])
        if subject is None:
            raise not_found("Subject")
        item = self._subject_item(subject)
        item["weighings"] = [
            self._weighing_item(w)
            for w in sorted(
                (w for w in self.weighings.values() if w.subject_id == subject.id),
                key=lambda w: (w.date_time, w.seq),
                reverse=True,
            )
        ]
        item["water_administrations"] = [
            self._water_item(a)
            for a in sorted(
                (a for a in self.water_administrations.values() if a.subject_id == subject.id),
                key=lambda a: (a.date_time, a.seq),
                reverse=True,
            )
        ]
        return Reply(200, item)

    def list_users(self, request: ApiRequest) -> Reply:
        items = sorted(self.users.values(), key=lambda u: u.username)
        return Reply(200, [self._user_item(u) for u in items], paginate=True)

    def read_user(self, request: ApiRequest) -> Reply:
        found = self._user_by_name(request.params["username"])
        if found is None:
            raise not_found("LabMember")
        return Reply(200, self._user_item(found))

    # -- endpoints: sessions ----------------------------------------------------------------------

    def list_sessions(self, request: ApiRequest) -> Reply:
        """`GET /sessions`: filters, newest first."""
        sessions = self._ordered_sessions()
        errors: dict[str, list[str]] = {}
        subject = request.arg("subject")
        if subject is not None:
            sessions = [
                s
                for s in sessions
                if self.subjects[s.subject_id].nickname.lower() == subject.lower()
            ]
        date_range = request.arg("date_range")
        if date_range is not None:
            try:
                first, _, last = date_range.partition(",")
                start = date.fromisoformat(first.strip()) if first.strip() else date.min
                end = date.fromisoformat(last.strip()) if last.strip() else date.max
            except ValueError:
                errors["date_range"] = ["Enter a valid date range."]
            else:
                sessions = [
                    s
                    for s in sessions
                    if s.start_time is not None and start <= s.start_time.date() <= end
                ]
        number = request.arg("number")
        if number is not None:
            try:
                wanted = Decimal(number.strip())
                if not wanted.is_finite():
                    raise InvalidOperation
            except InvalidOperation:
                errors["number"] = ["Enter a number."]
            else:
                sessions = [s for s in sessions if s.number is not None and s.number == wanted]
        if errors:
            raise field_errors(errors)
        lab = request.arg("lab")
        if lab is not None:
            sessions = [s for s in sessions if (s.lab or "").lower() == lab.lower()]
        users = request.arg("users")
        if users:
            names = set(users.split(","))
            sessions = [s for s in sessions if names & set(s.users)]
        projects = request.arg("projects") or request.arg("project")
        if projects:
            wanted_projects = {p.lower() for p in projects.split(",")}
            sessions = [s for s in sessions if wanted_projects & {p.lower() for p in s.projects}]
        task_protocol = request.arg("task_protocol")
        if task_protocol is not None:
            sessions = [
                s for s in sessions if task_protocol.lower() in (s.task_protocol or "").lower()
            ]
        location = request.arg("location")
        if location is not None:
            sessions = [s for s in sessions if (s.location or "").lower() == location.lower()]
        session_type = request.arg("type")
        if session_type is not None:
            sessions = [s for s in sessions if s.type == session_type]
        for key, attribute in (("dataset_types", "dataset_type"), ("datasets", "name")):
            value = request.arg(key)
            if value:
                required = set(value.split(","))
                sessions = [
                    s
                    for s in sessions
                    if required
                    <= {
                        getattr(d, attribute)
                        for d in self.datasets.values()
                        if d.session_id == s.id
                    }
                ]
        for key in ("id", "parent_session"):
            value = request.arg(key)
            if value is not None:
                sessions = [s for s in sessions if str(getattr(s, key)) == value]
        return Reply(200, [self._session_list_item(s) for s in sessions], paginate=True)

    def read_session(self, request: ApiRequest) -> Reply:
        return Reply(200, self._session_detail(self._session(request.params["eid"])))

    def _session(self, eid: str) -> Session:
        found = self.sessions.get(eid)
        if found is None:
            raise not_found("Session")
        return found

    def create_session(self, request: ApiRequest) -> Reply:
        """`POST /sessions`: validated, never de-duplicated."""
        clean = self._validate_session(request.data(), partial=False)
        subject: Subject = clean["subject"]
        now = self.clock()
        session = Session(
            id=str(uuid.uuid4()), subject_id=subject.id, seq=self.next_seq(), auto_datetime=now
        )
        self._apply_session(session, clean)
        if not clean.get("users") and request.user is not None:
            session.users = [request.user.username]
        if "lab" not in clean:
            session.lab = subject.lab
        self.sessions[session.id] = session
        return Reply(201, self._session_detail(session))

    def update_session(self, request: ApiRequest) -> Reply:
        """`PUT` (sent fields replace, others stay) or `PATCH /sessions/<eid>`."""
        session = self._session(request.params["eid"])
        clean = self._validate_session(request.data(), partial=request.method == "PATCH")
        self._apply_session(session, clean)
        session.auto_datetime = self.clock()
        return Reply(200, self._session_detail(session))

    def _apply_session(self, session: Session, clean: dict[str, Json]) -> None:
        for key, value in clean.items():
            if key == "subject":
                session.subject_id = value.id
            else:
                setattr(session, key, value)

    def _validate_session(self, data: dict[str, Json], *, partial: bool) -> dict[str, Json]:
        """The session serializer: every field error at once, in Alyx's field order."""
        errors: dict[str, list[str]] = {}
        clean: dict[str, Json] = {}

        def fail(key: str, message: str) -> None:
            errors.setdefault(key, []).append(message)

        def names(key: str, known: Iterable[str], attribute: str) -> None:
            value = data[key]
            if value is None:
                fail(key, "This field may not be null.")
                return
            if not isinstance(value, list | tuple):
                fail(key, f'Expected a list of items but got type "{type(value).__name__}".')
                return
            known_set = set(known)
            for item in value:
                if str(item) not in known_set:
                    fail(key, f"Object with {attribute}={item} does not exist.")
                    return
            clean[key] = [str(item) for item in value]

        def name(key: str, known: Iterable[str]) -> None:
            value = data[key]
            if value is None or value == "":
                clean[key] = None
            elif str(value) not in set(known):
                fail(key, f"Object with name={value} does not exist.")
            else:
                clean[key] = str(value)

        if "subject" in data:
            value = data["subject"]
            if value is None or value == "":
                fail("subject", "This field may not be null.")
            else:
                subject = self._one_subject(str(value))
                if subject is None:
                    fail("subject", f"Object with nickname={value} does not exist.")
                else:
                    clean["subject"] = subject
        elif not partial:
            fail("subject", "This field is required.")
        if "users" in data:
            names("users", self.users, "username")
        if "location" in data:
            name("location", self.locations)
        if "procedures" in data:
            names("procedures", self.procedures, "name")
        if "lab" in data:
            name("lab", self.labs)
        if "projects" in data:
            names("projects", self.projects, "name")
        for key in ("type", "task_protocol", "narrative"):
            if key in data:
                value = data[key]
                if value is not None and not isinstance(value, str | int | float):
                    fail(key, "Not a valid string.")
                else:
                    clean[key] = None if value is None else str(value)
        for key in ("number", "n_correct_trials", "n_trials"):
            if key in data:
                if data[key] is None or data[key] == "":
                    clean[key] = None
                    continue
                try:
                    clean[key] = _parse_int(data[key])
                except ValueError as error:
                    fail(key, str(error))
        for key in ("start_time", "end_time"):
            if key in data:
                if data[key] is None or data[key] == "":
                    clean[key] = None
                    continue
                try:
                    clean[key] = _parse_datetime(data[key])
                except ValueError as error:
                    fail(key, str(error))
        if "parent_session" in data:
            parent = data["parent_session"]
            if parent is None or parent == "":
                clean["parent_session"] = None
            elif str(parent) not in self.sessions:
                fail("parent_session", f'Invalid pk "{parent}" - object does not exist.')
            else:
                clean["parent_session"] = str(parent)
        for key in ("extended_qc", "json"):
            if key in data:
                clean[key] = data[key]
        if "qc" in data:
            try:
                clean["qc"] = _parse_qc(data["qc"])
            except ValueError:
                fail("qc", f'"{data["qc"]}" is not a valid choice.')
        if errors:
            raise field_errors(errors)
        return clean

    # -- endpoints: register-file and check-protected ----------------------------------------------

    def register_file(self, request: ApiRequest) -> Reply:
        """`POST /register-file` in session mode, step by step as Alyx does (not atomic)."""
        data = request.data()
        content_type, object_id = data.get("content_type"), data.get("object_id")
        if content_type or object_id:
            if not (content_type and object_id):
                raise error_error(
                    400, "Both content_type and object_id should be provided together."
                )
            raise detail_error(400, f"Invalid content type: {content_type}")
        # 1. created_by, then the named repository
        creator = self._created_by(data, request.user)
        repo = self._named_repository(data)
        # 2. path and subject; 3. base and numbered session, with their side effects
        rel_path, subject, day, number = self._register_path(data)
        session = self._get_session(subject, day, number, creator)
        # 4. every filename's collection and revision; the labs
        filenames = [str(f) for f in _split(data.get("filenames")) or [] if f]
        infos = [self._file_info(rel_path, subject, day, name) for name in filenames]
        labs = self._labs(data, subject)
        # 5. the repositories
        server_only = _as_bool(data.get("server_only", False))
        repositories = self._repositories_for(labs, server_only=server_only)
        if repo is not None and repo.name not in repositories:
            repositories.append(repo.name)
        exists_in: set[str] = {repo.name} if repo is not None else set()
        if server_only:
            exists_in = set(repositories)
        if not _as_bool(data.get("exists", True)):
            exists_in = set()
        default = _as_bool(data.get("default", True))
        count = len(infos)
        hashes = _per_file(data.get("hashes"), count, broadcast=False)
        sizes = _per_file(data.get("filesizes"), count, broadcast=False)
        versions = _per_file(data.get("versions"), count, broadcast=True)
        qcs = _per_file(data.get("qc"), count, broadcast=True)
        # 6. the protection check, before any dataset is written
        if _as_bool(data.get("check_protected", False)):
            details = [{info.sent: self._protection_info(session, info)} for info in infos]
            if _any_protected(details):
                return Reply(
                    403, {"status_code": 403, "error": _PROTECTED_ERROR, "details": details}
                )
        # 7. file by file, no transaction: earlier files stay registered when one fails
        response = []
        for info, file_hash, size, version, qc in zip(
            infos, hashes, sizes, versions, qcs, strict=True
        ):
            dataset = self._register_one(
                info,
                session=session,
                creator=creator,
                repositories=repositories,
                exists_in=exists_in,
                default=default,
                file_hash=file_hash,
                size=size,
                version=version,
                qc=qc,
            )
            response.append(self._register_item(dataset))
        return Reply(201, response)

    def check_protected(self, request: ApiRequest) -> Reply:
        """`GET /check-protected`: JSON body or query; always HTTP 200 unless an error,
        which becomes a 500; it writes users and parent sessions like register-file."""
        data = request.body if isinstance(request.body, dict) and request.body else None
        if data is None:
            data = {key: values[-1] for key, values in request.query.items() if values}
        try:
            creator = self._created_by(data, request.user)
            rel_path, subject, day, number = self._register_path(data)
            session = self._get_session(subject, day, number, creator)
            filenames = [str(f) for f in _split(data.get("filenames")) or [] if f]
            infos = [self._file_info(rel_path, subject, day, name) for name in filenames]
        except ApiError as error:
            raise detail_error(500, error.message) from error
        details = [{info.sent: self._protection_info(session, info)} for info in infos]
        if _any_protected(details):
            return Reply(200, {"status_code": 403, "error": _PROTECTED_ERROR, "details": details})
        return Reply(200, {"status_code": 200, "details": "None of the datasets are protected"})

    def _created_by(self, data: dict[str, Json], user: User | None) -> User | None:
        """`created_by` if given (500 when unknown), else the requester (None: anonymous)."""
        name = data.get("created_by")
        if name:
            found = self._user_by_name(str(name))
            if found is None:
                raise detail_error(500, "LabMember matching query does not exist.")
            return found
        return user

    def _named_repository(self, data: dict[str, Json]) -> Repository | None:
        name, hostname = data.get("name"), data.get("hostname")
        if name:
            found = self.repositories.get(str(name))
        elif hostname:
            found = next((r for r in self.repositories.values() if r.hostname == hostname), None)
        else:
            return None
        if found is None:
            raise detail_error(400, "The specified repository does not exist.")
        return found

    def _register_path(self, data: dict[str, Json]) -> tuple[str, Subject, str, int]:
        """The normalised `path`, its subject, date and number."""
        path = data.get("path")
        if not path:
            raise detail_error(500, "The path argument is required.")
        rel_path = str(path).replace("\\", "/").replace("//", "/").strip("/")
        match = _REGISTER_PATH.match(rel_path)
        valid_date = True
        if match:
            try:
                date.fromisoformat(match["date"])
            except ValueError:
                valid_date = False
        if not match or not valid_date:
            raise error_error(400, f"The path {rel_path} should be `nickname/YYYY-MM-DD/n/...")
        subject = self._one_subject(match["nickname"])
        if subject is None:
            raise error_error(400, f'A subject with nickname "{match["nickname"]}" does not exist.')
        return rel_path, subject, match["date"], int(match["number"])

    def _get_session(
        self, subject: Subject, day: str, number: int, creator: User | None
    ) -> Session:
        """Alyx's `_get_session` (register-file's third step): base session first, then the
        numbered one; the creator joins both, the numbered one gets the base as parent."""
        same_day = [
            s
            for s in self._ordered_sessions()
            if s.subject_id == subject.id
            and s.start_time is not None
            and s.start_time.date().isoformat() == day
        ]
        base = next((s for s in same_day if s.parent_session is None), None)
        if base is None:
            raise error_error(400, f"A base session for {subject.nickname} on {day} does not exist")
        self._add_session_user(base, creator)
        session = next((s for s in same_day if s.number == number), None)
        if session is None:
            raise error_error(
                400, f"A session for {subject.nickname}/{number} on {day} does not exist"
            )
        self._add_session_user(session, creator)
        if session.parent_session is None and session is not base:
            session.parent_session = base.id
        return session

    def _add_session_user(self, session: Session, user: User | None) -> None:
        row = next(self._session_user_rows)
        if user is None:  # an anonymous request without created_by
            raise detail_error(
                500,
                'null value in column "labmember_id" of relation "actions_session_users" '
                f"violates not-null constraint\nDETAIL:  Failing row contains ({row}, "
                f"{session.id}, null).\n",
            )
        if user.username not in session.users:
            session.users.append(user.username)

    def _file_info(self, rel_path: str, subject: Subject, day: str, filename: str) -> _FileInfo:
        """Collection and revision of one filename, from `path` + filename (bad folders dropped)."""
        full = PurePosixPath(rel_path, filename).as_posix()
        found = re.search(rf"{re.escape(subject.nickname)}/{day}/\d{{1,3}}", full)
        if not found:
            raise detail_error(400, _NO_SESSION_ERROR)
        remainder = full[found.end() :].strip("/")
        folders = list(PurePosixPath(remainder).parent.parts) if "/" in remainder else []
        is_revision = [len(f) >= 2 and f[0] == "#" and f[-1] == "#" for f in folders]
        if sum(is_revision) > 1 or (any(is_revision) and not is_revision[-1]):
            raise detail_error(400, _REVISION_FOLDER_ERROR)
        match = _COLLECTION_REVISION.match("/".join(folders) + "/" if folders else "")
        collection = (match["collection"] if match else None) or ""
        revision = match["revision"] if match else None
        return _FileInfo(
            sent=filename,
            rel_dir_path=full[: found.end()],
            collection=collection,
            revision=revision,
            name=PurePosixPath(full).name,
        )

    def _labs(self, data: dict[str, Json], subject: Subject) -> list[Lab]:
        names = [
            str(n)
            for key in ("projects", "labs")
            for n in (_split(data.get(key)) or [])
            if n not in (None, "")
        ]
        if not names:
            return [self.labs[subject.lab]] if subject.lab in self.labs else []
        if any(n not in self.labs for n in names):
            raise detail_error(400, "One or more of the specified labs do not exist.")
        return [self.labs[n] for n in dict.fromkeys(names)]

    def _repositories_for(self, labs: Sequence[Lab], *, server_only: bool) -> list[str]:
        names = {
            name
            for lab in labs
            for name in lab.repositories
            if name in self.repositories
            and not (server_only and self.repositories[name].globus_is_personal)
        }
        return sorted(names)

    def _protection_info(self, session: Session, info: _FileInfo) -> list[dict[str, bool]]:
        """`[{revision or "": protected}, ...]`, latest revision first, "" last."""
        datasets = [
            d
            for d in self._session_datasets.get(session.id, ())
            if d.collection == info.collection and d.name == info.name
        ]
        datasets.sort(
            key=lambda d: self.revisions[d.revision_id].seq if d.revision_id else -1,
            reverse=True,
        )
        return [{self._revision_name(d): self.is_protected(d)} for d in datasets]

    def _dataset_type_for(self, name: str) -> DatasetType:
        """Dataset-type matching as Alyx 3.6.1 and ONE 3.6.1 share it; 500 on zero or several."""
        from one.alf.path import filename_parts
        from one.alf.spec import is_valid

        key = ".".join(filename_parts(name)[1:3]) if is_valid(name) else PurePosixPath(name).stem
        matches = [
            t
            for t in self.dataset_types.values()
            if (
                t.name == key
                if not t.filename_pattern.strip()
                else fnmatch(name.casefold(), t.filename_pattern.casefold())
            )
        ]
        if not matches:
            raise detail_error(500, f'No dataset type found for filename "{name}"')
        if len(matches) > 1:
            raise detail_error(
                500,
                f'Multiple matching dataset types found for filename "{name}": \n'
                + ", ".join(t.name for t in matches),
            )
        return matches[0]

    def _data_format_for(self, name: str) -> DataFormat:
        """The format of the LAST extension; 500 on zero or several."""
        suffix = PurePosixPath(name).suffix
        matches = [f for f in self.data_formats.values() if f.file_extension == suffix]
        if not matches:
            raise detail_error(500, "DataFormat matching query does not exist.")
        if len(matches) > 1:
            raise detail_error(
                500, f"get() returned more than one DataFormat -- it returned {len(matches)}!"
            )
        return matches[0]

    def _register_one(
        self,
        info: _FileInfo,
        *,
        session: Session,
        creator: User | None,
        repositories: list[str],
        exists_in: set[str],
        default: bool,
        file_hash: Json,
        size: Json,
        version: Json,
        qc: Json,
    ) -> Dataset:
        """register-file's seventh step for one file; every write stays when a later step fails."""
        revision = self._revision(info.revision) if info.revision is not None else None
        dataset_type = self._dataset_type_for(info.name)
        data_format = self._data_format_for(info.name)
        try:
            qc_value = 0 if qc in (None, "") else _parse_qc(qc)
        except ValueError:
            raise detail_error(400, f'Invalid QC value "{qc}" for dataset "{info.sent}"') from None
        same_name = [
            d
            for d in self._session_datasets.get(session.id, ())
            if d.collection == info.collection and d.name == info.name
        ]
        if default:
            for other in same_name:
                other.default_dataset = False
        revision_id = revision.id if revision else None
        dataset = next(
            (
                d
                for d in same_name
                if d.dataset_type == dataset_type.name
                and d.data_format == data_format.name
                and d.revision_id == revision_id
            ),
            None,
        )
        now = self.clock()
        is_new = dataset is None
        if dataset is None:
            dataset = Dataset(
                id=str(uuid.uuid4()),
                session_id=session.id,
                seq=self.next_seq(),
                collection=info.collection,
                name=info.name,
                revision_id=revision_id,
                dataset_type=dataset_type.name,
                data_format=data_format.name,
                created_by=creator.username if creator else None,
                created_datetime=now,
                auto_datetime=now,
            )
            self.datasets[dataset.id] = dataset
            self._session_datasets.setdefault(dataset.session_id, []).append(dataset)
        dataset.default_dataset = default is True
        dataset.qc = qc_value
        dataset.auto_datetime = now
        if not is_new and self.is_protected(dataset):
            raise detail_error(403, f"Dataset {dataset.id} is protected, cannot patch")
        dataset.created_by = creator.username if creator else None
        if version:
            dataset.version = str(version)
        is_patched = True
        if file_hash is not None:
            if dataset.hash is not None:
                is_patched = dataset.hash != file_hash
            if len(str(file_hash)) > 64:
                raise detail_error(
                    400,
                    f'Invalid dataset "{info.sent}": '
                    "{'hash': ['Ensure this value has at most 64 characters.']}",
                )
            dataset.hash = str(file_hash)
        if size is not None:
            try:
                dataset.file_size = _parse_int(size)
            except ValueError:
                raise detail_error(
                    400,
                    f"Invalid dataset \"{info.sent}\": {{'file_size': ['“{size}” value "
                    "must be an integer.']}",
                ) from None
        parts = [info.rel_dir_path, info.collection, f"#{info.revision}#" if revision else ""]
        relative_path = "/".join(p for p in [*parts, info.name] if p)
        if not _FILE_RECORD_PATH.match(relative_path):
            raise detail_error(
                400,
                f'Invalid file record "{relative_path}": '
                "{'relative_path': ['Enter a valid value.']}",
            )
        for repo_name in repositories:
            record = next(
                (
                    r
                    for r in self.records_of(dataset)
                    if r.repository == repo_name and r.relative_path == relative_path
                ),
                None,
            )
            if record is None:
                clash = (repo_name, relative_path) in self._record_paths
                if clash:
                    raise detail_error(
                        400,
                        f'A file record for "{relative_path}" already exists on repository '
                        f'"{repo_name}" for a different dataset.',
                    )
                record = FileRecord(
                    id=str(uuid.uuid4()),
                    dataset_id=dataset.id,
                    seq=self.next_seq(),
                    repository=repo_name,
                    relative_path=relative_path,
                    exists=repo_name in exists_in,
                )
                self.file_records[record.id] = record
                self._dataset_records.setdefault(dataset.id, []).append(record)
                self._record_paths.add((repo_name, relative_path))
            elif is_patched:
                record.exists = repo_name in exists_in
                record.json = None
        return dataset

    # -- endpoints: weighings and water ------------------------------------------------------------

    def create_weighing(self, request: ApiRequest) -> Reply:
        data = request.data()
        errors: dict[str, list[str]] = {}
        subject = self._subject_field(data, errors)
        when = self._datetime_field(data, "date_time", errors)
        weight: float | None = None
        if data.get("weight") is None:
            errors["weight"] = ["This field is required."]
        else:
            try:
                weight = _parse_float(data["weight"])
                if weight < 0:
                    errors["weight"] = ["Ensure this value is greater than or equal to 0."]
            except ValueError as error:
                errors["weight"] = [str(error)]
        user = self._user_field(data, request.user, errors)
        if errors:
            raise field_errors(errors)
        assert subject is not None and weight is not None
        weighing = Weighing(
            id=str(uuid.uuid4()),
            subject_id=subject.id,
            seq=self.next_seq(),
            date_time=when or self.clock(),
            weight=weight,
            user=user,
        )
        self.weighings[weighing.id] = weighing
        return Reply(201, self._weighing_item(weighing))

    def list_weighings(self, request: ApiRequest) -> Reply:
        items = sorted(self.weighings.values(), key=lambda w: (w.date_time, w.seq), reverse=True)
        nickname = request.arg("subject") or request.arg("nickname")
        if nickname is not None:
            items = [w for w in items if self.subjects[w.subject_id].nickname == nickname]
        return Reply(200, [self._weighing_item(w) for w in items], paginate=True)

    def read_weighing(self, request: ApiRequest) -> Reply:
        found = self.weighings.get(request.params["id"])
        if found is None:
            raise not_found("Weighing")
        return Reply(200, self._weighing_item(found))

    def create_water_administration(self, request: ApiRequest) -> Reply:
        data = request.data()
        errors: dict[str, list[str]] = {}
        subject = self._subject_field(data, errors)
        when = self._datetime_field(data, "date_time", errors)
        volume: float | None = None
        if data.get("water_administered") is not None:
            try:
                volume = _parse_float(data["water_administered"])
                if volume < 0:
                    errors["water_administered"] = [
                        "Ensure this value is greater than or equal to 0."
                    ]
            except ValueError as error:
                errors["water_administered"] = [str(error)]
        water_type = "Water"
        if data.get("water_type") not in (None, ""):
            water_type = str(data["water_type"])
            if water_type not in self.water_types:
                errors["water_type"] = [f"Object with name={water_type} does not exist."]
        user = self._user_field(data, request.user, errors)
        session_id = data.get("session")
        if session_id in ("", None):
            session_id = None
        elif str(session_id) not in self.sessions:
            errors["session"] = [f"Object with id={session_id} does not exist."]
        adlib = _truthy(data.get("adlib", False))
        if errors:
            raise field_errors(errors)
        assert subject is not None
        death = subject.fields.get("death_date")
        if when is not None and death and when.date() > date.fromisoformat(str(death)):
            raise detail_error(500, "Water administration date after death of subject.")
        admin = WaterAdministration(
            id=str(uuid.uuid4()),
            subject_id=subject.id,
            seq=self.next_seq(),
            date_time=when or self.clock(),
            water_administered=volume,
            water_type=water_type,
            user=user,
            session_id=None if session_id is None else str(session_id),
            adlib=adlib,
        )
        self.water_administrations[admin.id] = admin
        return Reply(201, self._water_item(admin))

    def list_water_administrations(self, request: ApiRequest) -> Reply:
        items = sorted(
            self.water_administrations.values(), key=lambda a: (a.date_time, a.seq), reverse=True
        )
        nickname = request.arg("subject") or request.arg("nickname")
        if nickname is not None:
            items = [a for a in items if self.subjects[a.subject_id].nickname == nickname]
        session = request.arg("session")
        if session is not None:
            items = [a for a in items if a.session_id == session]
        return Reply(200, [self._water_item(a) for a in items], paginate=True)

    def read_water_administration(self, request: ApiRequest) -> Reply:
        found = self.water_administrations.get(request.params["id"])
        if found is None:
            raise not_found("WaterAdministration")
        return Reply(200, self._water_item(found))

    def _subject_field(self, data: dict[str, Json], errors: dict[str, list[str]]) -> Subject | None:
        value = data.get("subject")
        if value in (None, ""):
            errors["subject"] = ["This field is required."]
            return None
        subject = self._one_subject(str(value))
        if subject is None:
            errors["subject"] = [f"Object with nickname={value} does not exist."]
        return subject

    def _datetime_field(
        self, data: dict[str, Json], key: str, errors: dict[str, list[str]]
    ) -> datetime | None:
        if data.get(key) in (None, ""):
            return None
        try:
            return _parse_datetime(data[key])
        except ValueError as error:
            errors[key] = [str(error)]
            return None

    def _user_field(
        self, data: dict[str, Json], requester: User | None, errors: dict[str, list[str]]
    ) -> str | None:
        value = data.get("user")
        if value in (None, ""):
            return requester.username if requester else None
        if str(value) not in self.users:
            errors["user"] = [f"Object with username={value} does not exist."]
        return str(value)

    # -- endpoints: datasets and tags --------------------------------------------------------------

    def list_datasets(self, request: ApiRequest) -> Reply:
        datasets = self._ordered_datasets()
        exact: dict[str, Callable[[Dataset], Json]] = {
            "session": lambda d: d.session_id,
            "name": lambda d: d.name,
            "collection": lambda d: d.collection,
            "revision": self._revision_name,
            "dataset_type": lambda d: d.dataset_type,
            "data_format": lambda d: d.data_format,
            "created_by": lambda d: d.created_by,
            "hash": lambda d: d.hash,
            "version": lambda d: d.version,
            "subject": lambda d: self.subjects[self.sessions[d.session_id].subject_id].nickname,
            "lab": lambda d: self.sessions[d.session_id].lab,
            "experiment_number": lambda d: str(self.sessions[d.session_id].number),
            "date": lambda d: (
                (self.sessions[d.session_id].start_time or datetime.min).date().isoformat()
            ),
        }
        for key, getter in exact.items():
            value = request.arg(key)
            if value is not None:
                datasets = [d for d in datasets if str(getter(d)) == value]
        tag = request.arg("tag")
        if tag is not None:
            datasets = [d for d in datasets if tag in d.tags]
        qc = request.arg("qc")
        if qc is not None:
            try:
                wanted_qc = _parse_qc(qc)
            except ValueError:
                raise field_errors(
                    {"qc": [f"Select a valid choice. {qc} is not one of the available choices."]}
                ) from None
            datasets = [d for d in datasets if d.qc == wanted_qc]
        for key, test in (
            ("protected", self.is_protected),
            ("public", lambda d: any(self.tags[t].public for t in d.tags if t in self.tags)),
            ("default_dataset", lambda d: d.default_dataset),
            (
                "exists",
                lambda d: any(
                    r.exists
                    for r in self.records_of(d)
                    if not self.repositories[r.repository].globus_is_personal
                ),
            ),
        ):
            flag = _bool_filter(request.arg(key))
            if flag is not None:
                datasets = [d for d in datasets if bool(test(d)) == flag]
        return Reply(200, [self._dataset_item(d, with_flags=True) for d in datasets], paginate=True)

    def read_dataset(self, request: ApiRequest) -> Reply:
        return Reply(200, self._dataset_item(self._dataset(request.params["id"]), with_flags=False))

    def _dataset(self, dataset_id: str) -> Dataset:
        found = self.datasets.get(dataset_id)
        if found is None:
            raise not_found("Dataset")
        return found

    def update_dataset(self, request: ApiRequest) -> Reply:
        """`PATCH`/`PUT /datasets/<id>`: tags (how datasets get protected), flags, qc, json."""
        dataset = self._dataset(request.params["id"])
        data = request.data()
        errors: dict[str, list[str]] = {}
        tags: list[str] | None = None
        if "tags" in data:
            tags = []
            for name in _split(data["tags"]) or []:
                if name not in self.tags:
                    errors["tags"] = [f"Object with name={name} does not exist."]
                    break
                tags.append(str(name))
        qc: int | None = None
        if "qc" in data:
            try:
                qc = _parse_qc(data["qc"])
            except ValueError:
                errors["qc"] = [f'"{data["qc"]}" is not a valid choice.']
        if errors:
            raise field_errors(errors)
        if tags is not None:
            dataset.tags = tags
        if qc is not None:
            dataset.qc = qc
        if "default_dataset" in data:
            dataset.default_dataset = _truthy(data["default_dataset"])
        for key in ("json", "version", "hash"):
            if key in data:
                setattr(dataset, key, data[key])
        if "file_size" in data:
            dataset.file_size = None if data["file_size"] is None else _parse_int(data["file_size"])
        dataset.auto_datetime = self.clock()
        return Reply(200, self._dataset_item(dataset, with_flags=False))

    def list_tags(self, request: ApiRequest) -> Reply:
        return Reply(200, [self._tag_item(t) for t in self.tags.values()], paginate=True)

    def read_tag(self, request: ApiRequest) -> Reply:
        key = request.params["name"]
        found = self.tags.get(key) or next((t for t in self.tags.values() if t.id == key), None)
        if found is None:
            raise not_found("Tag")
        return Reply(200, self._tag_item(found))

    def create_tag(self, request: ApiRequest) -> Reply:
        data = request.data()
        name = data.get("name")
        if not name:
            raise field_errors({"name": ["This field is required."]})
        if name in self.tags:
            raise field_errors({"name": ["tag with this name already exists."]})
        tag = Tag(
            id=str(uuid.uuid4()),
            name=str(name),
            protected=_truthy(data.get("protected", False)),
            public=_truthy(data.get("public", False)),
            description=str(data.get("description") or ""),
            hash=data.get("hash"),
            json=data.get("json"),
        )
        self.tags[tag.name] = tag
        return Reply(201, self._tag_item(tag))


def _sorted(items: Iterable[dict[str, Json]]) -> list[dict[str, Json]]:
    """A deterministic order for lists of plain dicts."""
    return sorted(items, key=lambda item: json.dumps(item, sort_keys=True, default=str))
