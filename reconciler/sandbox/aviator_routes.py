"""Aviator's Releases endpoints (reference/aviator/api-reference.md), under /api/releases/
on the same port as LaunchDarkly's. Every route needs `Authorization: Bearer <token>` (any
token); errors are Aviator's `{"error": "..."}`.

The state file's `aviator` section holds one record per Release Project:
    name, repo (OWNER/NAME or None: any repository is accepted),
    environments: {name: {name, frozen}},
    releases: {rc version: {release_candidate_version, release_version, repo, commit,
                            trigger_build_workflow, created_at}},
    deployments: [records shaped as the list-deployments items, oldest first]
Deployments have no workflow behind them: they change status only when a client says so.

Undocumented, chosen: creating a release candidate version that exists answers 409
"Release candidate version already exists"; bad `status`, `page` or `per_page` values and
a body that is not a JSON object answer 400.
"""

import json
import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from reconciler.aviator.client import MAX_PER_PAGE, RC_VERSION, DeploymentStatus
from reconciler.sandbox.state import StateStore

SECTION = "aviator"
PROJECT = "/api/releases/{project}"
ENVIRONMENT = PROJECT + "/environments/{environment}"
COMMIT = re.compile(r"[0-9a-fA-F]{7,40}")
REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
ACTIVE = {DeploymentStatus.PENDING, DeploymentStatus.IN_PROGRESS, DeploymentStatus.CANCELING}
OUTCOMES = {DeploymentStatus.SUCCESS, DeploymentStatus.FAILURE, DeploymentStatus.ERROR}
ENDED = {*OUTCOMES, DeploymentStatus.CANCELED}
DEFAULT_PER_PAGE = 10

ReleaseProject = dict[str, Any]
Deployment = dict[str, Any]
Handler = Callable[[Request], Awaitable[Response]]


class AviatorProblem(Exception):
    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(message)

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.message}, status_code=self.status)


def new_release_project(name: str, environments: Sequence[str], frozen: Sequence[str] = (),
                        repo: str | None = None) -> ReleaseProject:
    return {
        "name": name,
        "repo": repo,
        "environments": {env: {"name": env, "frozen": env in frozen} for env in environments},
        "releases": {},
        "deployments": [],
    }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _version(text: str) -> str:
    if not isinstance(text, str) or not RC_VERSION.fullmatch(text):
        raise AviatorProblem(400, "Invalid release candidate version")
    return text


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except (UnicodeDecodeError, ValueError):
        raise AviatorProblem(400, "Request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise AviatorProblem(400, "Request body must be a JSON object")
    return body


def _positive(request: Request, name: str, default: int, most: int | None = None) -> int:
    text = request.query_params.get(name)
    if text is None:
        return default
    value = int(text) if text.isascii() and text.isdigit() else 0
    if value < 1 or (most is not None and value > most):
        limit = f" from 1 to {most}" if most else " of 1 or more"
        raise AviatorProblem(400, f"{name} must be an integer{limit}")
    return value


def _status(value: Any) -> DeploymentStatus:
    try:
        return DeploymentStatus(value)
    except ValueError:
        raise AviatorProblem(400, "Invalid deployment status") from None


def _in(project: ReleaseProject, environment: str) -> list[Deployment]:
    """The environment's deployments, most recent first."""
    return [d for d in reversed(project["deployments"]) if d["environment_name"] == environment]


def _successes(project: ReleaseProject, environment: str) -> list[Deployment]:
    return [d for d in _in(project, environment) if d["status"] == DeploymentStatus.SUCCESS]


def _new_deployment(project: ReleaseProject, environment: str, release: dict[str, Any],
                    status: DeploymentStatus) -> Deployment:
    running = next(iter(_successes(project, environment)), {})
    now = _now()
    record = {
        "id": max((d["id"] for d in project["deployments"]), default=0) + 1,
        "status": str(status),
        "release_candidate_version": release["release_candidate_version"],
        "release_version": release["release_version"],
        "from_release_candidate_version": running.get("release_candidate_version"),
        "from_release_version": running.get("release_version"),
        "deploy_start_at": now,
        "deploy_end_at": now if status in ENDED else None,
        "actor": None,  # an API token acts for no user
        "environment_name": environment,
        "error_message": None,
    }
    project["deployments"].append(record)
    return record


def _set_status(deployment: Deployment, status: DeploymentStatus) -> None:
    now = _now()
    if deployment["status"] in ENDED and status not in ENDED:
        deployment["deploy_start_at"] = now  # started over
    deployment["deploy_end_at"] = now if status in ENDED else None
    deployment["status"] = str(status)


class AviatorApi:
    def __init__(self, store: StateStore) -> None:
        self.store = store

    def _project(self, request: Request) -> ReleaseProject:
        project = self.store.document.get(SECTION, {}).get(request.path_params["project"])
        if project is None:
            raise AviatorProblem(404, "Release project not found")
        return project

    @staticmethod
    def _environment(project: ReleaseProject, request: Request) -> dict[str, Any]:
        environment = project["environments"].get(request.path_params["environment"])
        if environment is None:
            raise AviatorProblem(404, "Release environment not found")
        return environment

    @staticmethod
    def _release(project: ReleaseProject, version: str) -> dict[str, Any]:
        release = project["releases"].get(version)
        if release is None:
            raise AviatorProblem(404, "Release not found")
        return release

    async def _committed(self, project: ReleaseProject, response: Response) -> Response:
        await self.store.commit(SECTION, project["name"])
        return response

    async def create_release(self, request: Request) -> Response:
        project = self._project(request)
        version = _version(request.path_params["version"])
        body = await _body(request)
        commit, repo = body.get("commit"), body.get("repo")
        trigger = body.get("trigger_build_workflow", False)
        if not isinstance(commit, str) or not COMMIT.fullmatch(commit):
            raise AviatorProblem(400, "Invalid commit hash")
        if not isinstance(repo, str) or not REPOSITORY.fullmatch(repo) or (
                project["repo"] is not None and repo != project["repo"]):
            raise AviatorProblem(404, "GitHub repository not found")
        if not isinstance(trigger, bool):
            raise AviatorProblem(400, "trigger_build_workflow must be a boolean")
        if version in project["releases"]:
            raise AviatorProblem(409, "Release candidate version already exists")
        project["releases"][version] = {
            "release_candidate_version": version,
            "release_version": version.rpartition("-rc")[0],
            "repo": repo,
            "commit": commit.lower(),
            "trigger_build_workflow": trigger,
            "created_at": _now(),
        }
        return await self._committed(project, Response(status_code=201))

    async def _deployment_request(self, request: Request) -> tuple[ReleaseProject, str,
                                                                    dict[str, Any], Any]:
        """The project, environment and release a deployment request names, and its body."""
        project = self._project(request)
        body = await _body(request)
        version = _version(body.get("release_candidate_version"))
        environment = self._environment(project, request)["name"]
        return project, environment, self._release(project, version), body

    async def create_deployment(self, request: Request) -> Response:
        project, environment, release, _ = await self._deployment_request(request)
        _new_deployment(project, environment, release, DeploymentStatus.PENDING)
        return await self._committed(project, Response(status_code=201))

    async def update_deployment(self, request: Request) -> Response:
        project, environment, release, body = await self._deployment_request(request)
        status = _status(body.get("status"))
        version = release["release_candidate_version"]
        existing = next((d for d in _in(project, environment)
                         if d["release_candidate_version"] == version), None)
        if existing is None:
            _new_deployment(project, environment, release, status)
        else:
            _set_status(existing, status)
        return await self._committed(project, Response(status_code=200))

    async def list_deployments(self, request: Request) -> Response:
        project = self._project(request)
        environment = self._environment(project, request)["name"]
        page = _positive(request, "page", 1)
        per_page = _positive(request, "per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)
        found = _in(project, environment)[(page - 1) * per_page : page * per_page]
        return JSONResponse(found)

    async def rollback(self, request: Request) -> Response:
        project = self._project(request)
        body = await _body(request)
        force = body.get("force", False)
        if not isinstance(force, bool):
            raise AviatorProblem(400, "force must be a boolean")
        environment = self._environment(project, request)
        if environment["frozen"] and not force:
            raise AviatorProblem(400, "Environment is frozen")
        name = environment["name"]
        history = [d for d in _in(project, name) if d["status"] in OUTCOMES]
        successes = _successes(project, name)
        if history and history[0]["status"] == DeploymentStatus.SUCCESS:
            # Back to what ran before the latest success.
            current = history[0]["release_candidate_version"]
            target = next((d for d in successes if d["release_candidate_version"] != current),
                          None)
        else:
            # The latest deployment failed: the last known good version again.
            target = next(iter(successes), None)
        if target is None:
            raise AviatorProblem(404, "No previous deployment to roll back from")
        for active in _in(project, name):
            if active["status"] in ACTIVE:
                _set_status(active, DeploymentStatus.CANCELED)
        release = project["releases"][target["release_candidate_version"]]
        created = _new_deployment(project, name, release, DeploymentStatus.PENDING)
        return await self._committed(project, JSONResponse(dict(created), status_code=201))


def _endpoint(handler: Handler) -> Handler:
    async def endpoint(request: Request) -> Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return AviatorProblem(401, "Authorization: Bearer <token> required").response()
        try:
            return await handler(request)
        except AviatorProblem as problem:
            return problem.response()

    return endpoint


def routes(store: StateStore) -> list[BaseRoute]:
    api = AviatorApi(store)

    def route(path: str, handler: Handler, method: str) -> Route:
        return Route(path, _endpoint(handler), methods=[method])

    return [
        route(PROJECT + "/releases/{version}", api.create_release, "POST"),
        route(ENVIRONMENT + "/deployments", api.create_deployment, "POST"),
        route(ENVIRONMENT + "/deployments", api.update_deployment, "PATCH"),
        route(ENVIRONMENT + "/deployments", api.list_deployments, "GET"),
        route(ENVIRONMENT + "/rollback", api.rollback, "POST"),
    ]
