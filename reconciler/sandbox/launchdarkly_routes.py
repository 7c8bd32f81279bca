"""LaunchDarkly's endpoints: the six release-pipeline operations (beta: they need
`LD-API-Version: beta`), project GET and PATCH, and the environment and segment listings
that `validate --online` reads. Every route needs an `Authorization` header: the token the
sandbox was given (`serve --token`), else any."""

import hmac
from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from reconciler import rules
from reconciler.rules import RuleViolation
from reconciler.sandbox import inputs, projects
from reconciler.sandbox import representations as rep
from reconciler.sandbox.problems import ApiProblem, from_violation, invalid_request, not_found
from reconciler.sandbox.projects import Pipeline, Project
from reconciler.sandbox.state import StateStore

Handler = Callable[[Request], Awaitable[Response]]

PROJECT = "/api/v2/projects/{projectKey}"
PIPELINES = PROJECT + "/release-pipelines"
PIPELINE = PIPELINES + "/{pipelineKey}"


def _authorize(request: Request, *, beta: bool) -> None:
    given = request.headers.get("authorization", "").strip()
    expected: str | None = request.app.state.access_token  # None: any token (no --token)
    if not given or (expected is not None
                     and not hmac.compare_digest(given.encode(), expected.encode())):
        raise ApiProblem(401, "unauthorized", "Invalid access token")
    # LaunchDarkly honours the first LD-API-Version value when several are sent.
    if beta and request.headers.get("ld-api-version") != "beta":
        raise ApiProblem(
            403, "forbidden",
            "Forbidden. This is a beta resource: send the header LD-API-Version: beta",
        )


def endpoint(handler: Handler, *, beta: bool) -> Handler:
    """`handler` behind the token and version checks, its problems answered as
    LaunchDarkly's errors."""

    async def answer(request: Request) -> Response:
        try:
            _authorize(request, beta=beta)
            return await handler(request)
        except RuleViolation as violation:
            return from_violation(violation).response()
        except ApiProblem as problem:
            return problem.response()

    return answer


def _self_href(request: Request) -> str:
    query = request.url.query
    return f"{request.url.path}?{query}" if query else request.url.path


def _matches(record: Pipeline, wanted: Mapping[str, str]) -> bool:
    if "query" in wanted:
        needle = wanted["query"].lower()
        haystack = (record["key"], record["name"], record.get("description", ""))
        if not any(needle in text.lower() for text in haystack):
            return False
    if "env" in wanted:
        environments = {
            a["environmentKey"] for phase in record["phases"] for a in phase["audiences"]
        }
        if wanted["env"] not in environments:
            return False
    return True


def find_project(store: StateStore, request: Request) -> Project:
    """The project the request's path names, else 404."""
    key = request.path_params["projectKey"]
    project: Project | None = store.document["projects"].get(key)
    if project is None:
        raise not_found(f"project {key!r} not found")
    return project


class LaunchDarklyApi:
    def __init__(self, store: StateStore, legacy_by_default: bool) -> None:
        self.store = store
        self.legacy_by_default = legacy_by_default

    def _project(self, request: Request) -> Project:
        return find_project(self.store, request)

    def _pipeline(self, project: Project, request: Request) -> Pipeline:
        key = request.path_params["pipelineKey"]
        rules.check_exists(key in project["pipelines"], key)
        return project["pipelines"][key]

    async def _committed(self, project: Project, response: Response) -> Response:
        """`response` once the project's change is on disk. Callers render it before the
        write, so that it shows this change and not a later one."""
        await self.store.commit("projects", project["key"])
        return response

    async def list_pipelines(self, request: Request) -> Response:
        project = self._project(request)
        limit, offset = inputs.page(request.query_params)
        wanted = inputs.filters(request.query_params.get("filter"), ("query", "env"))
        found = [r for r in project["pipelines"].values() if _matches(r, wanted)]
        return JSONResponse(
            rep.pipeline_collection(project, found[offset : offset + limit], len(found))
        )

    async def create_pipeline(self, request: Request) -> Response:
        project = self._project(request)
        body = inputs.create_body(inputs.parse_json(await request.body()),
                                  projects.newer_fields(project))
        record = projects.create_pipeline(project, body, self.legacy_by_default)
        return await self._committed(
            project, JSONResponse(rep.pipeline(project, record), status_code=201)
        )

    async def get_pipeline(self, request: Request) -> Response:
        project = self._project(request)
        return JSONResponse(rep.pipeline(project, self._pipeline(project, request)))

    async def update_pipeline(self, request: Request) -> Response:
        project = self._project(request)
        key = request.path_params["pipelineKey"]
        rules.check_exists(key in project["pipelines"], key)
        body = inputs.update_body(inputs.parse_json(await request.body()),
                                  projects.newer_fields(project))
        record = projects.replace_pipeline(project, key, body)
        return await self._committed(project, JSONResponse(rep.pipeline(project, record)))

    async def delete_pipeline(self, request: Request) -> Response:
        project = self._project(request)
        projects.delete_pipeline(project, request.path_params["pipelineKey"])
        return await self._committed(project, Response(status_code=204))

    async def list_releases(self, request: Request) -> Response:
        project = self._project(request)
        record = self._pipeline(project, request)
        limit, offset = inputs.page(request.query_params)
        wanted = inputs.filters(request.query_params.get("filter"), ("status", "activePhaseId"))
        status, phase_id = wanted.get("status"), wanted.get("activePhaseId")
        if status not in (None, "active", "completed"):
            raise invalid_request(f"filter: status must be active or completed, not {status!r}")
        if status == "completed" and phase_id is not None:
            raise invalid_request(
                "filter: status:completed and activePhaseId select disjoint sets of releases"
            )
        releases = project["releases"].get(record["key"], [])
        if status == "completed":
            found = [r for r in releases if "_completedAt" in r]
        elif status == "active" or phase_id is not None:
            found = projects.active_releases(project, record["key"])
        else:
            found = list(releases)
        if phase_id is not None:
            found = [r for r in found if r["activePhaseId"] == phase_id]
        return JSONResponse(rep.progression_collection(
            project, record, found[offset : offset + limit], len(found), _self_href(request)
        ))

    async def get_project(self, request: Request) -> Response:
        project = self._project(request)
        expand = {part.strip() for part in request.query_params.get("expand", "").split(",")}
        return JSONResponse(rep.project_summary(project, "environments" in expand))

    async def patch_project(self, request: Request) -> Response:
        project = self._project(request)
        operations = inputs.patch_body(inputs.parse_json(await request.body()))
        projects.apply_patch(project, operations)
        return await self._committed(project, JSONResponse(rep.project_rep(project)))

    async def list_environments(self, request: Request) -> Response:
        project = self._project(request)
        limit, offset = inputs.page(request.query_params)
        records = list(project["environments"].values())
        items = [rep.environment(project["key"], e) for e in records[offset : offset + limit]]
        return JSONResponse(rep.collection(items, len(records), _self_href(request)))

    async def list_segments(self, request: Request) -> Response:
        project = self._project(request)
        environment_key = request.path_params["environmentKey"]
        if environment_key not in project["environments"]:
            raise not_found(
                f"environment {environment_key!r} not found in project {project['key']!r}"
            )
        limit, offset = inputs.page(request.query_params)
        records = list(project["segments"].get(environment_key, {}).values())
        items = [
            rep.segment(project["key"], environment_key, record)
            for record in records[offset : offset + limit]
        ]
        return JSONResponse(rep.collection(items, len(records), _self_href(request)))


def routes(store: StateStore, *, legacy_by_default: bool = False) -> list[BaseRoute]:
    """`legacy_by_default`: a create that omits isLegacy makes a legacy pipeline."""
    api = LaunchDarklyApi(store, legacy_by_default)

    def route(path: str, handler: Handler, method: str, *, beta: bool) -> Route:
        return Route(path, endpoint(handler, beta=beta), methods=[method])

    return [
        route(PIPELINES, api.list_pipelines, "GET", beta=True),
        route(PIPELINES, api.create_pipeline, "POST", beta=True),
        route(PIPELINE, api.get_pipeline, "GET", beta=True),
        route(PIPELINE, api.update_pipeline, "PUT", beta=True),
        route(PIPELINE, api.delete_pipeline, "DELETE", beta=True),
        route(PIPELINE + "/releases", api.list_releases, "GET", beta=True),
        route(PROJECT, api.get_project, "GET", beta=False),
        route(PROJECT, api.patch_project, "PATCH", beta=False),
        route(PROJECT + "/environments", api.list_environments, "GET", beta=False),
        route("/api/v2/segments/{projectKey}/{environmentKey}", api.list_segments, "GET",
              beta=False),
    ]
