"""The sandbox as an ASGI app, and the in-process transport the CLI's `--sandbox` uses."""

from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from reconciler.sandbox import aviator_routes, launchdarkly_routes, policy_routes
from reconciler.sandbox.knobs import (
    DroppedConnection,
    Faults,
    InconsistentListings,
    Latency,
    RateLimit,
    RefuseMutations,
    RequestLog,
    RequestRecord,
    SlowMutations,
)
from reconciler.sandbox.state import StateStore

_CODES = {404: "not_found", 405: "method_not_allowed"}


async def _http_error(request: Request, exc: Exception) -> Response:
    # Unknown routes and methods answer in LaunchDarkly's error format too.
    assert isinstance(exc, HTTPException)
    return JSONResponse(
        {"code": _CODES.get(exc.status_code, "error"), "message": exc.detail},
        status_code=exc.status_code, headers=exc.headers,
    )


def create_app(state_path: Path, *, latency_ms: int = 0, rate_limit: float | None = None,
               fault_rate: float = 0.0, seed: int | None = None,
               request_log: Path | None = None, slow_mutations_ms: int = 0,
               slow_mutations: int | None = None, inconsistent_listings: str | None = None,
               inconsistent_listings_count: int | None = None, legacy_by_default: bool = False,
               token: str | None = None, refuse_mutations: bool = False,
               default_policy_marker: str = "field", policy_config_required: bool = False
               ) -> Starlette:
    """The sandbox over the state file `state_path` (created on the first change). With
    `token`, LaunchDarkly's routes answer 401 to any other Authorization header.

    The state is loaded here, not at startup, because httpx's ASGI transport runs no
    lifespan events. `app.state.request_log` lists a RequestRecord per request.
    `legacy_by_default`: what an omitted isLegacy means on create (LaunchDarkly does not
    document it; false unless set). `default_policy_marker` (field, rank0 or hidden): how
    release-policy listings mark the project's default policy, which LaunchDarkly does not
    document. `policy_config_required`: a guarded or progressive policy without its config
    object is refused (400); the spec makes the configs optional."""
    if rate_limit is not None and rate_limit < 1:
        raise ValueError("rate_limit must be at least 1 request per second")
    if not 0 <= fault_rate <= 1:
        raise ValueError("fault_rate must be between 0 and 1")
    if slow_mutations_ms < 0 or (slow_mutations is not None and slow_mutations < 0):
        raise ValueError("slow_mutations_ms and slow_mutations cannot be negative")
    store = StateStore(state_path)
    records: list[RequestRecord] = []
    middleware = [Middleware(RequestLog, records=records, file=request_log)]
    if latency_ms:
        middleware.append(Middleware(Latency, ms=latency_ms))
    if rate_limit is not None:
        middleware.append(Middleware(RateLimit, per_second=rate_limit))
    if fault_rate:
        middleware.append(Middleware(Faults, rate=fault_rate, seed=seed))
    if slow_mutations_ms:
        middleware.append(Middleware(SlowMutations, ms=slow_mutations_ms, count=slow_mutations))
    if inconsistent_listings is not None:
        middleware.append(Middleware(InconsistentListings, mode=inconsistent_listings,
                                     count=inconsistent_listings_count))
    if refuse_mutations:
        middleware.append(Middleware(RefuseMutations))
    # Add emulated APIs here.
    routes: list[BaseRoute] = [
        *launchdarkly_routes.routes(store, legacy_by_default=legacy_by_default),
        *policy_routes.routes(store, default_marker=default_policy_marker,
                              config_required=policy_config_required),
        *aviator_routes.routes(store),
    ]
    app = Starlette(
        routes=routes, middleware=middleware, exception_handlers={HTTPException: _http_error}
    )
    app.state.store = store
    app.state.access_token = token
    app.state.request_log = records
    return app


class SandboxTransport(httpx.ASGITransport):
    """httpx's ASGI transport, with a dropped connection surfacing as it does over HTTP."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except DroppedConnection:
            raise httpx.RemoteProtocolError(
                "server disconnected without sending a complete response", request=request
            ) from None


def transport(app: Starlette) -> httpx.AsyncBaseTransport:
    return SandboxTransport(app=app)
