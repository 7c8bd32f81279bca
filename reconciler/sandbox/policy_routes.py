"""LaunchDarkly's six release-policy operations (beta: they need `LD-API-Version: beta`,
and answer its absence as every beta route does, 403). Errors are `{code, message}`."""

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from reconciler.sandbox import inputs, policies, policy_inputs
from reconciler.sandbox.launchdarkly_routes import PROJECT, Handler, endpoint, find_project
from reconciler.sandbox.problems import invalid_request
from reconciler.sandbox.projects import Project
from reconciler.sandbox.state import StateStore

POLICIES = PROJECT + "/release-policies"
POLICY = POLICIES + "/{policyKey}"
ORDER = POLICIES + "/order"


def _flag(request: Request, name: str) -> bool:
    raw = request.query_params.get(name, "false")
    if raw not in ("true", "false"):
        raise invalid_request(f"{name}: must be true or false, not {raw!r}")
    return raw == "true"


class ReleasePolicyApi:
    def __init__(self, store: StateStore, default_marker: str, config_required: bool) -> None:
        if default_marker not in policies.DEFAULT_MARKERS:
            raise ValueError(
                f"default_policy_marker is one of {', '.join(policies.DEFAULT_MARKERS)}")
        self.store = store
        self.marker = default_marker
        self.config_required = config_required

    async def _committed(self, project: Project, response: Response) -> Response:
        # The response is rendered before the write, so that it shows this change only.
        await self.store.commit("projects", project["key"])
        return response

    async def list_policies(self, request: Request) -> Response:
        project = find_project(self.store, request)
        exclude_default = _flag(request, "excludeDefault")
        return JSONResponse(policies.listing(project, exclude_default, self.marker))

    async def create_policy(self, request: Request) -> Response:
        project = find_project(self.store, request)
        body = policy_inputs.create_body(inputs.parse_json(await request.body()),
                                         self.config_required)
        record = policies.create_policy(project, body)
        return await self._committed(project, JSONResponse(
            policies.representation(project, record, self.marker), status_code=201))

    async def get_policy(self, request: Request) -> Response:
        project = find_project(self.store, request)
        record = policies.find(project, request.path_params["policyKey"])
        return JSONResponse(policies.representation(project, record, self.marker))

    async def update_policy(self, request: Request) -> Response:
        project = find_project(self.store, request)
        key = request.path_params["policyKey"]
        policies.find(project, key)
        body = policy_inputs.update_body(inputs.parse_json(await request.body()), key,
                                         self.config_required)
        record = policies.replace_policy(project, key, body)
        return await self._committed(
            project, JSONResponse(policies.representation(project, record, self.marker)))

    async def delete_policy(self, request: Request) -> Response:
        project = find_project(self.store, request)
        policies.delete_policy(project, request.path_params["policyKey"])
        return await self._committed(project, Response(status_code=204))

    async def order_policies(self, request: Request) -> Response:
        project = find_project(self.store, request)
        keys = policy_inputs.order_body(inputs.parse_json(await request.body()))
        policies.order_policies(project, keys)
        ordered = [policies.representation(project, record, self.marker)
                   for record in policies.scoped(project).values()]
        return await self._committed(project, JSONResponse(ordered))


def routes(store: StateStore, *, default_marker: str = policies.FIELD,
           config_required: bool = False) -> list[BaseRoute]:
    """`default_marker`: how listings mark the default policy (policies.DEFAULT_MARKERS).
    `config_required`: creating or replacing a guarded or progressive policy without its
    config object is a 400."""
    api = ReleasePolicyApi(store, default_marker, config_required)

    def route(path: str, handler: Handler, method: str) -> Route:
        return Route(path, endpoint(handler, beta=True), methods=[method])

    return [
        route(POLICIES, api.list_policies, "GET"),
        route(POLICIES, api.create_policy, "POST"),
        # Before POLICY, which would read "order" as a policy key.
        route(ORDER, api.order_policies, "POST"),
        route(POLICY, api.get_policy, "GET"),
        route(POLICY, api.update_policy, "PUT"),
        route(POLICY, api.delete_policy, "DELETE"),
    ]
