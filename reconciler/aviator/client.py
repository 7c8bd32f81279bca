"""An async client for Aviator's Releases REST API (reference/aviator/api-reference.md),
on the shared HTTP layer.

Aviator answers errors as `{"error": "..."}`; they become ApiError naming the method and
the route. Its rate limits are undocumented: a 429, with `Retry-After` if any. Retries are
few and waits short: the callers are a best-effort reporter and a one-shot command. A POST
that may have landed is never sent again: a repeated create-deployment would run the
environment's workflow twice.
"""

import asyncio
import random
import re
import time
from collections.abc import Awaitable, Callable
from enum import StrEnum
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from reconciler.errors import ApiError, ReconcilerError
from reconciler.http import AsyncRequester, RetryAfterLimits, Service, message_field
from reconciler.http.pacing import Wait, ignore_wait

# `<release version>-rc<N>`: Aviator requires the -rcN suffix. No slash or space, as the
# version is a path segment.
RC_VERSION = re.compile(r"(?P<release>[^\s/]+)-rc(?P<candidate>\d+)")
MAX_PER_PAGE = 100
MAX_RETRIES = 2
MAX_WAIT_SECONDS = 30.0  # longer, and the apply it reports on goes on without it


class DeploymentStatus(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    SUCCESS = "success"
    FAILURE = "failure"
    CANCELING = "canceling"
    CANCELED = "canceled"
    ERROR = "error"
    UNKNOWN = "unknown"


class InvalidVersion(ReconcilerError):
    """A release candidate version Aviator would refuse; caught before any request."""


def check_version(version: str) -> str:
    if not RC_VERSION.fullmatch(version):
        raise InvalidVersion(
            f"invalid release candidate version {version!r}: it must be "
            "<release version>-rc<N>, e.g. 2026.08.06-1a2b3c4-rc1"
        )
    return version


class Deployment(BaseModel):
    """One item of the list-deployments answer (and the rollback answer)."""

    model_config = ConfigDict(extra="ignore")

    id: int | str
    # A plain string: a status added after this client was written must still list.
    status: str
    release_candidate_version: str | None = None
    release_version: str | None = None
    from_release_candidate_version: str | None = None
    from_release_version: str | None = None
    deploy_start_at: str | None = None
    deploy_end_at: str | None = None
    actor: str | None = None
    environment_name: str | None = None
    error_message: str | None = None


def _segment(name: str) -> str:
    # Project and environment names are case sensitive and free-form: quote everything.
    return quote(name, safe="")


def _already_exists(error: ApiError) -> bool:
    # Undocumented: taken to be a 409, or a 400/422 whose message says so.
    return error.status == 409 or (
        error.status in (400, 422) and "already exist" in error.reason.lower()
    )


# Aviator's `error`; `message` is what proxies and the sandbox's fault knob send.
_read_error = message_field("error", "message")


class AviatorClient:
    """`async with AviatorClient(base_url, token) as client: ...`"""

    def __init__(self, base_url: str, token: str, *,
                 transport: httpx.AsyncBaseTransport | None = None,
                 timeout_seconds: float = 10.0,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 clock: Callable[[], float] = time.time,
                 on_wait: Callable[[Wait], None] = ignore_wait) -> None:
        service = Service(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            secret=token,
            limits=RetryAfterLimits(),
            read_error=_read_error,
            max_retries=MAX_RETRIES,
            max_wait_seconds=MAX_WAIT_SECONDS,
            waits_past_cap=0,
            address_source="; AVIATOR_BASE_URL sets the address",
            timeout_seconds=timeout_seconds,
        )
        self._http = AsyncRequester(service, transport=transport, sleep=sleep, clock=clock,
                                    rng=random.Random(), on_wait=on_wait)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        await self._http.aclose()

    async def create_release(self, project: str, version: str, *, repo: str, commit: str,
                             trigger_build_workflow: bool = False) -> bool:
        """Create the release candidate `version` at `commit`. True if it was created,
        False if Aviator already had it (a re-run for the same commit)."""
        path = f"/api/releases/{_segment(project)}/releases/{_segment(check_version(version))}"
        body = {"repo": repo, "commit": commit, "trigger_build_workflow": trigger_build_workflow}
        try:
            await self._send("POST", path, json=body)
        except ApiError as error:
            if _already_exists(error):
                return False
            raise
        return True

    async def create_deployment(self, project: str, environment: str, version: str) -> None:
        """Deploy `version` to `environment`: runs the environment's deployment workflow."""
        body = {"release_candidate_version": check_version(version)}
        await self._send("POST", self._deployments(project, environment), json=body)

    async def update_deployment_status(self, project: str, environment: str, version: str,
                                       status: DeploymentStatus) -> None:
        """Set the status of `version`'s deployment to `environment`, creating the
        deployment if there is none (no workflow runs)."""
        body = {"release_candidate_version": check_version(version), "status": str(status)}
        await self._send("PATCH", self._deployments(project, environment), json=body)

    async def list_deployments(self, project: str, environment: str, *, page: int = 1,
                               per_page: int = 10) -> list[Deployment]:
        """One page of the environment's deployments, most recent first."""
        if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
            raise ValueError(f"page must be 1 or more and per_page 1 to {MAX_PER_PAGE}")
        path = self._deployments(project, environment)
        response = await self._send("GET", path, params={"page": page, "per_page": per_page})
        items = self._json(response, "GET", path)
        if not isinstance(items, list):
            raise ApiError("GET", path, response.status_code, "expected a JSON list")
        return [self._deployment(item, "GET", path) for item in items]

    async def recent_deployments(self, project: str, environment: str,
                                 limit: int) -> list[Deployment]:
        """Up to `limit` of the most recent deployments, across as many pages as needed."""
        found: list[Deployment] = []
        page = 1
        while len(found) < limit:
            per_page = min(limit - len(found), MAX_PER_PAGE)
            batch = await self.list_deployments(project, environment, page=page,
                                                per_page=per_page)
            found += batch
            if len(batch) < per_page:
                break
            page += 1
        return found[:limit]

    async def rollback(self, project: str, environment: str, *,
                       force: bool = False) -> Deployment:
        """Roll the environment back; `force` also when it is frozen. The new deployment."""
        path = f"/api/releases/{_segment(project)}/environments/{_segment(environment)}/rollback"
        response = await self._send("POST", path, json={"force": force})
        return self._deployment(self._json(response, "POST", path), "POST", path)

    @staticmethod
    def _deployments(project: str, environment: str) -> str:
        return (f"/api/releases/{_segment(project)}/environments/{_segment(environment)}"
                "/deployments")

    async def _send(self, method: str, path: str, *, json: Any = None,
                    params: dict[str, int] | None = None) -> httpx.Response:
        response = await self._http.send(method, path, json=json, params=params)
        if response.is_success:
            return response
        raise self._http.error(method, path, response)

    @staticmethod
    def _json(response: httpx.Response, method: str, path: str) -> Any:
        try:
            return response.json()
        except ValueError:
            raise ApiError(method, path, response.status_code, "the answer is not JSON") from None

    @staticmethod
    def _deployment(item: Any, method: str, path: str) -> Deployment:
        try:
            return Deployment.model_validate(item)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "item"
            raise ApiError(method, path, None,
                           f"unexpected deployment in the answer ({where}: {first['msg']})"
                           ) from None
