"""Routing, authentication, body decoding and pagination of the Alyx test server.

`dispatch` turns one decoded request into a `Reply` whose body is the final JSON: it finds the
route (paths as ONE sends them, a trailing slash also accepted), checks `Authorization: Token <t>`
(403 `Authentication credentials were not provided.` / `Invalid token.`; `register-file` and
`check-protected` also run unauthenticated, as on Alyx), runs the state method under the state's
lock, pages list replies (`count/next/previous/results`, `limit`/`offset`, page size 250, at
most 1000, absolute `next`), and turns uncaught exceptions into Alyx's
`{"status_code": 500, "detail": "<exception text>"}`. `openapi_schema` is what ONE reads from
`GET /api/schema` to learn the endpoints (ONE needs it for `rest()`; Alyx's real schema is much
larger).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit, urlunsplit

from tests.alyx_server.state import AlyxState, ApiError, ApiRequest, Json, Reply, User

PAGE_SIZE = 250
MAX_LIMIT = 1000

Handler = Callable[[AlyxState, ApiRequest], Reply]

NO_CREDENTIALS = {"detail": "Authentication credentials were not provided.", "status_code": 403}
INVALID_TOKEN = {"detail": "Invalid token.", "status_code": 403}


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str
    handler: Handler
    auth: bool = True
    filters: tuple[str, ...] = ()

    @property
    def regex(self) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"<(\w+)>", r"(?P<\1>[^/]+)", self.pattern) + "$")


_SESSION_FILTERS = (
    "subject",
    "date_range",
    "number",
    "lab",
    "users",
    "projects",
    "project",
    "task_protocol",
    "location",
    "type",
    "dataset_types",
    "datasets",
    "id",
    "parent_session",
    "django",
)
_DATASET_FILTERS = (
    "session",
    "name",
    "collection",
    "revision",
    "dataset_type",
    "data_format",
    "created_by",
    "hash",
    "version",
    "subject",
    "lab",
    "experiment_number",
    "date",
    "tag",
    "qc",
    "protected",
    "public",
    "default_dataset",
    "exists",
)

ROUTES: tuple[Route, ...] = (
    Route("POST", "/auth-token", AlyxState.auth_token, auth=False),
    Route("GET", "/me", AlyxState.me),
    Route("GET", "/dataset-types", AlyxState.list_dataset_types, filters=("name",)),
    Route("POST", "/dataset-types", AlyxState.create_dataset_type),
    Route("GET", "/dataset-types/<name>", AlyxState.read_dataset_type),
    Route("GET", "/data-formats", AlyxState.list_data_formats),
    Route("GET", "/data-formats/<name>", AlyxState.read_data_format),
    Route("GET", "/labs", AlyxState.list_labs),
    Route("GET", "/labs/<name>", AlyxState.read_lab),
    Route(
        "GET",
        "/data-repository",
        AlyxState.list_repositories,
        filters=("name", "globus_is_personal"),
    ),
    Route("GET", "/data-repository/<name>", AlyxState.read_repository),
    Route("GET", "/data-repository-type", AlyxState.list_repository_types),
    Route("GET", "/data-repository-type/<name>", AlyxState.read_repository_type),
    Route("GET", "/projects", AlyxState.list_projects),
    Route("GET", "/projects/<name>", AlyxState.read_project),
    Route("GET", "/water-type", AlyxState.list_water_types),
    Route("GET", "/water-type/<name>", AlyxState.read_water_type),
    Route("GET", "/revisions", AlyxState.list_revisions),
    Route("GET", "/subjects", AlyxState.list_subjects, filters=("nickname", "lab", "alive")),
    Route("GET", "/subjects/<nickname>", AlyxState.read_subject),
    Route("GET", "/users", AlyxState.list_users),
    Route("GET", "/users/<username>", AlyxState.read_user),
    Route("GET", "/sessions", AlyxState.list_sessions, filters=_SESSION_FILTERS),
    Route("POST", "/sessions", AlyxState.create_session),
    Route("GET", "/sessions/<eid>", AlyxState.read_session),
    Route("PUT", "/sessions/<eid>", AlyxState.update_session),
    Route("PATCH", "/sessions/<eid>", AlyxState.update_session),
    Route("POST", "/register-file", AlyxState.register_file, auth=False),
    Route("GET", "/check-protected", AlyxState.check_protected, auth=False),
    Route("GET", "/weighings", AlyxState.list_weighings, filters=("subject", "nickname")),
    Route("POST", "/weighings", AlyxState.create_weighing),
    Route("GET", "/weighings/<id>", AlyxState.read_weighing),
    Route(
        "GET",
        "/water-administrations",
        AlyxState.list_water_administrations,
        filters=("subject", "nickname", "session"),
    ),
    Route("POST", "/water-administrations", AlyxState.create_water_administration),
    Route("GET", "/water-administrations/<id>", AlyxState.read_water_administration),
    Route("GET", "/datasets", AlyxState.list_datasets, filters=_DATASET_FILTERS),
    Route("GET", "/datasets/<id>", AlyxState.read_dataset),
    Route("PUT", "/datasets/<id>", AlyxState.update_dataset),
    Route("PATCH", "/datasets/<id>", AlyxState.update_dataset),
    Route("GET", "/tags", AlyxState.list_tags),
    Route("POST", "/tags", AlyxState.create_tag),
    Route("GET", "/tags/<name>", AlyxState.read_tag),
)
_COMPILED = tuple((route, route.regex) for route in ROUTES)


def decode_body(raw: bytes, content_type: str | None) -> tuple[Json, str | None]:
    """The request body as JSON, or a form as `{key: last value}`; `(None, error)` when broken."""
    if not raw:
        return None, None
    kind = (content_type or "").split(";")[0].strip().lower()
    text = raw.decode("utf-8", errors="replace")
    if kind == "application/x-www-form-urlencoded":
        return {
            key: values[-1] for key, values in parse_qs(text, keep_blank_values=True).items()
        }, None
    try:
        return json.loads(text), None
    except json.JSONDecodeError as error:
        if kind == "application/json":
            return None, f"JSON parse error - {error}"
        return text, None


def dispatch(
    state: AlyxState,
    method: str,
    target: str,
    authorization: str | None,
    body: Json,
    body_error: str | None = None,
) -> Reply:
    """The reply to one request; `target` is the request-target (`/path?query`)."""
    split = urlsplit(target)
    path = split.path.rstrip("/") or "/"
    query = parse_qs(split.query, keep_blank_values=True)
    if path == "/api/schema":
        return Reply(200, openapi_schema())
    allowed = []
    for route, regex in _COMPILED:
        match = regex.match(path)
        if match is None:
            continue
        allowed.append(route.method)
        if route.method != method.upper():
            continue
        user, refusal = _authenticate(state, authorization, route)
        if refusal is not None:
            return refusal
        if body_error is not None:
            return Reply(400, {"detail": body_error, "status_code": 400})
        params = {key: unquote(value) for key, value in match.groupdict().items()}
        request = ApiRequest(method.upper(), path, params, query, body, user)
        reply = _run(state, route.handler, request)
        if reply.paginate and isinstance(reply.body, list):
            reply.body = paginate(reply.body, state.base_url + split.path, split.query)
            reply.paginate = False
        return reply
    if allowed:
        return Reply(405, {"detail": f'Method "{method.upper()}" not allowed.', "status_code": 405})
    return Reply(404, {"detail": "Not found.", "status_code": 404})


def _authenticate(
    state: AlyxState, authorization: str | None, route: Route
) -> tuple[User | None, Reply | None]:
    """DRF token authentication: a bad token is refused everywhere, no token only where needed."""
    user = None
    if authorization and route.pattern != "/auth-token":
        scheme, _, credential = authorization.strip().partition(" ")
        if scheme.lower() == "token":
            user = state.user_by_token(credential.strip())
            if user is None:
                return None, Reply(403, dict(INVALID_TOKEN))
    if route.auth and user is None:
        return None, Reply(403, dict(NO_CREDENTIALS))
    return user, None


def _run(state: AlyxState, handler: Handler, request: ApiRequest) -> Reply:
    with state.lock:
        try:
            return handler(state, request)
        except ApiError as error:
            return Reply(error.status, error.body)
        except Exception as error:  # Alyx answers every uncaught exception with a 500
            return Reply(500, {"status_code": 500, "detail": str(error)})


def paginate(items: list[Json], url: str, query: str) -> dict[str, Json]:
    """DRF's `LimitOffsetPagination` as Alyx configures it (page size 250, max 1000)."""
    params = parse_qs(query, keep_blank_values=True)
    limit = _positive(params.get("limit"), PAGE_SIZE)
    limit = min(limit, MAX_LIMIT) if limit > 0 else PAGE_SIZE
    offset = _positive(params.get("offset"), 0)
    count = len(items)
    full = url + ("?" + query if query else "")
    next_url = None
    if offset + limit < count:
        next_url = _replace(_replace(full, "limit", limit), "offset", offset + limit)
    previous = None
    if offset > 0:
        previous = _replace(full, "limit", limit)
        previous = (
            _replace(previous, "offset", None)
            if offset - limit <= 0
            else _replace(previous, "offset", offset - limit)
        )
    return {
        "count": count,
        "next": next_url,
        "previous": previous,
        "results": items[offset : offset + limit],
    }


def _positive(values: list[str] | None, default: int) -> int:
    try:
        value = int(values[-1]) if values else default
    except ValueError:
        return default
    return value if value >= 0 else default


def _replace(url: str, key: str, value: int | None) -> str:
    """DRF's `replace_query_param`/`remove_query_param`: keys sorted."""
    scheme, netloc, path, query, fragment = urlsplit(url)
    params = parse_qs(query, keep_blank_values=True)
    if value is None:
        params.pop(key, None)
    else:
        params[key] = [str(value)]
    return urlunsplit(
        (scheme, netloc, path, urlencode(sorted(params.items()), doseq=True), fragment)
    )


def openapi_schema() -> dict[str, Any]:
    """A small OpenAPI 3 document listing the routes, their methods and list filters: what
    ONE's `RestSchemeOpenApi` reads to validate `rest(endpoint, action)` calls."""
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        key = re.sub(r"<(\w+)>", r"{\1}", route.pattern)
        parameters: list[dict[str, Any]] = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in re.findall(r"<(\w+)>", route.pattern)
        ]
        if route.method == "GET" and "<" not in route.pattern:
            parameters += [
                {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
                for name in ("limit", "offset", *route.filters)
            ]
        paths.setdefault(key, {})[route.method.lower()] = {
            "operationId": f"{route.method.lower()}_{key}",
            "description": (route.handler.__doc__ or "").strip().split("\n")[0],
            "parameters": parameters,
        }
    return {
        "openapi": "3.0.3",
        "info": {"title": "Alyx 3.6.1 (labledger test server)", "version": "3.6.1"},
        "paths": paths,
        "components": {"schemas": {}},
    }
