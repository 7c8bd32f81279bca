"""The endpoints the reconciler uses: release pipelines and release policies (beta
routes), projects, environments and segments (dated routes). Answers are LaunchDarkly's
raw JSON.
"""

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from reconciler.errors import ApiError
from reconciler.http import AmbiguousFailure, gave_up
from reconciler.http.pacing import Wait, ignore_wait
from reconciler.launchdarkly.transport import Requester
from reconciler.normalize import canonical, canonical_live
from reconciler.settings import LaunchDarklySettings

# LaunchDarkly's default page size; the 20-pipeline cap makes one page the normal case.
PAGE_SIZE = 20
# Passes over a collection before an inconsistent listing fails its project.
LISTING_ATTEMPTS = 3


def _part(value: str) -> str:
    return quote(value, safe="")


def _pipelines(project: str) -> str:
    return f"/api/v2/projects/{_part(project)}/release-pipelines"


def _pipeline(project: str, key: str) -> str:
    return f"{_pipelines(project)}/{_part(key)}"


def _policies(project: str) -> str:
    return f"/api/v2/projects/{_part(project)}/release-policies"


def _policy(project: str, key: str) -> str:
    return f"{_policies(project)}/{_part(key)}"


def _same_pipeline(body: Mapping[str, Any], live: Mapping[str, Any]) -> bool:
    """Whether a live pipeline is what `body` would have created."""
    desired, actual = canonical(body), canonical_live(live)
    if desired["isLegacy"] is None:
        actual["isLegacy"] = None  # not sent, so any live value is what a create gives
    if body.get("isProjectDefault") and not live.get("isProjectDefault"):
        return False
    return desired == actual


class IncompleteListing(ApiError):
    """A collection could not be read whole and consistent: planning from it could, say,
    create a 21st pipeline that the missing page held."""


class LaunchDarklyClient:
    """Use as `async with LaunchDarklyClient(settings) as client:`; all calls share one
    connection pool, at most `settings.concurrency` requests in flight. Long waits go to
    `on_wait` (by default nowhere: the CLI passes the sink that shows them)."""

    def __init__(
        self,
        settings: LaunchDarklySettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.time,
        on_wait: Callable[[Wait], None] = ignore_wait,
    ) -> None:
        self._http = Requester(settings, transport=transport, sleep=sleep,
                               rng=rng or random.Random(), clock=clock, on_wait=on_wait)
        self._max_retries = settings.max_retries
        self.concurrency = settings.concurrency  # requests allowed in flight at once

    @property
    def calls(self) -> int:
        """HTTP requests sent so far, retries included."""
        return self._http.calls

    async def __aenter__(self) -> "LaunchDarklyClient":
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._http.aclose()

    # --- release pipelines -------------------------------------------------------------

    async def list_pipelines(self, project: str) -> list[dict]:
        return await self._pages(
            _pipelines(project), beta=True, not_found=f"project {project!r} not found"
        )

    async def get_pipeline(self, project: str, key: str) -> dict | None:
        return await self._get(_pipeline(project, key), beta=True)

    async def _create(self, path: str, body: Mapping,
                      reread: Callable[[], Awaitable[dict | None]],
                      settle: Callable[[ApiError, dict | None], dict | None],
                      reread_on: Sequence[int] = ()) -> dict:
        """POST `body`, never blindly repeated. After a failure that may have created it
        (transport error, 5xx) or an answer in `reread_on`, `reread` it: `settle` returns
        the object that counts as created, raises, or returns None to try again."""
        retries = 0
        while True:
            try:
                response = await self._http.send(
                    "POST", path, beta=True, json=dict(body), idempotent=False
                )
            except AmbiguousFailure as ambiguous:
                failure = ambiguous.error
            else:
                if response.is_success:
                    return self._object("POST", path, response)
                failure = self._http.error("POST", path, response, beta=True)
                if response.status_code not in reread_on:
                    raise failure
            if (created := settle(failure, await reread())) is not None:
                return created
            if retries >= self._max_retries:
                raise gave_up(failure, retries)
            await self._http.backoff(retries)
            retries += 1

    async def create_pipeline(self, project: str, body: Mapping) -> dict:
        """POST, never blindly repeated: after a failure that may have created the pipeline
        (transport error, 5xx) or a duplicate-key answer (400 or 409), re-read it; a live
        pipeline equal to `body` is success."""
        path, key = _pipelines(project), str(body["key"])

        def settle(failure: ApiError, existing: dict | None) -> dict | None:
            if existing is not None:
                if _same_pipeline(body, existing):
                    return existing
                raise ApiError(
                    "POST", path, failure.status,
                    f"release pipeline {key!r} already exists with different settings",
                    failure.code,
                )
            if failure.status == 400:
                raise failure  # not a duplicate: a real refusal (invalid body, the 20 cap)
            # Not created: the 5xx or transport error happened first, or the 409 was a
            # concurrent-request conflict, which LaunchDarkly says to retry.
            return None

        return await self._create(path, body, lambda: self.get_pipeline(project, key), settle,
                                  reread_on=(400, 409))

    async def update_pipeline(self, project: str, key: str, body: Mapping) -> dict:
        return await self._put(_pipeline(project, key), body)

    async def delete_pipeline(self, project: str, key: str) -> None:
        await self._delete(_pipeline(project, key))

    async def active_releases(self, project: str, key: str) -> list[str]:
        """Keys of the flags with an active release on the pipeline."""
        items = await self._pages(
            f"{_pipeline(project, key)}/releases",
            beta=True,
            params={"filter": "status:active"},
            identity="flagKey",
            not_found=f"release pipeline {key!r} not found in project {project!r}",
        )
        return [item["flagKey"] for item in items]

    # --- release policies (beta) --------------------------------------------------------

    async def list_policies(self, project: str) -> list[dict]:
        """Every policy of the project, the default one included when LaunchDarkly lists
        it: one call, since the route has no paging (`totalCount` is still checked)."""
        return await self._pages(
            _policies(project), beta=True, paged=False, params={"excludeDefault": "false"},
            not_found=f"project {project!r} not found",
        )

    async def get_policy(self, project: str, key: str) -> dict | None:
        return await self._get(_policy(project, key), beta=True)

    async def create_policy(self, project: str, body: Mapping) -> dict:
        """POST, never blindly repeated: after a failure that may have created the policy
        (transport error, 5xx), re-read it; the policy found is returned for the caller's
        response check. A 409 is LaunchDarkly's duplicate key: an error, as sent."""
        key = str(body["key"])
        return await self._create(_policies(project), body,
                                  lambda: self.get_policy(project, key),
                                  lambda _failure, existing: existing)

    async def update_policy(self, project: str, key: str, body: Mapping) -> dict:
        return await self._put(_policy(project, key), body)

    async def delete_policy(self, project: str, key: str) -> None:
        await self._delete(_policy(project, key))

    async def order_policies(self, project: str, keys: Sequence[str]) -> list[dict]:
        """Rank the scoped policies: `keys` is every scoped key, highest priority first.
        Sending the same order twice gives the same ranking, so retrying is safe."""
        path = f"{_policies(project)}/order"
        response = await self._http.send("POST", path, beta=True, json=list(keys))
        if not response.is_success:
            raise self._http.error("POST", path, response, beta=True)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
            raise ApiError("POST", path, response.status_code,
                           "response is not a JSON list of release policies")
        return body

    # --- projects, environments, segments ----------------------------------------------

    async def get_project(self, project: str) -> dict | None:
        return await self._get(f"/api/v2/projects/{_part(project)}", beta=False)

    async def set_default_pipeline(self, project: str, key: str) -> dict:
        # `add` sets the member whether or not it is already there; `replace` would fail
        # on a project that has no default yet (RFC 6902, facts 3.1).
        path = f"/api/v2/projects/{_part(project)}"
        patch = [{"op": "add", "path": "/defaultReleasePipelineKey", "value": key}]
        response = await self._http.send("PATCH", path, beta=False, json=patch)
        if not response.is_success:
            raise self._http.error("PATCH", path, response, beta=False)
        return self._object("PATCH", path, response)

    async def list_environments(self, project: str) -> list[str]:
        items = await self._pages(
            f"/api/v2/projects/{_part(project)}/environments",
            beta=False,
            not_found=f"project {project!r} not found",
        )
        return [item["key"] for item in items]

    async def list_segments(self, project: str, environment: str) -> list[str]:
        items = await self._pages(
            f"/api/v2/segments/{_part(project)}/{_part(environment)}",
            beta=False,
            not_found=f"project {project!r} or its environment {environment!r} not found",
        )
        return [item["key"] for item in items]

    # --- helpers -----------------------------------------------------------------------

    async def _put(self, path: str, body: Mapping) -> dict:
        response = await self._http.send("PUT", path, beta=True, json=dict(body))
        if not response.is_success:
            raise self._http.error("PUT", path, response, beta=True)
        return self._object("PUT", path, response)

    async def _delete(self, path: str) -> None:
        response = await self._http.send("DELETE", path, beta=True)
        # 404: already gone (also when a retried DELETE had landed the first time).
        if not response.is_success and response.status_code != 404:
            raise self._http.error("DELETE", path, response, beta=True)

    async def _get(self, path: str, *, beta: bool) -> dict | None:
        response = await self._http.send("GET", path, beta=beta)
        if response.status_code == 404:
            return None
        if not response.is_success:
            raise self._http.error("GET", path, response, beta=beta)
        return self._object("GET", path, response)

    async def _pages(
        self, path: str, *, beta: bool, not_found: str, params: Mapping[str, str] | None = None,
        identity: str = "key", paged: bool = True,
    ) -> list[dict]:
        """Every item of a collection. A listing that ends short of `totalCount`, runs past
        it, or repeats an item (the collection changed while it was paged, or the server
        miscounted) is read again from the start, at most LISTING_ATTEMPTS times in all;
        then it is an IncompleteListing, never a partial answer."""
        attempt = 1
        while True:
            items, total = await self._listing(path, beta=beta, not_found=not_found,
                                               params=params, paged=paged)
            keys = [item.get(identity) for item in items]
            counted = total is None or len(items) == total
            if counted and len(set(keys)) == len(keys):
                return items
            if attempt >= LISTING_ATTEMPTS:
                found = f"{len(items)} items" + ("" if total is None else f" of {total}")
                repeated = "" if len(set(keys)) == len(keys) else ", some repeated"
                raise IncompleteListing(
                    "GET", path, None,
                    f"the listing is inconsistent ({found}{repeated} after {attempt} "
                    f"attempts); a partial listing is never used",
                )
            await self._http.backoff(attempt - 1)
            attempt += 1

    async def _listing(
        self, path: str, *, beta: bool, not_found: str, params: Mapping[str, str] | None,
        paged: bool,
    ) -> tuple[list[dict], int | None]:
        """One pass over a collection, paging by offset until `totalCount` is reached (or,
        without one, until a short page), with the last `totalCount` seen. An unpaged
        collection is one call, without limit and offset."""
        items: list[dict] = []
        while True:
            paging = {"limit": PAGE_SIZE, "offset": len(items)} if paged else {}
            query = {**(params or {}), **paging}
            response = await self._http.send("GET", path, beta=beta, params=query)
            if not response.is_success:
                reason = not_found if response.status_code == 404 else ""
                raise self._http.error("GET", path, response, beta=beta, reason=reason)
            page = self._object("GET", path, response)
            batch = page.get("items")
            if not isinstance(batch, list) or not all(isinstance(i, dict) for i in batch):
                raise ApiError("GET", path, response.status_code, "response has no items list")
            items.extend(batch)
            total = page.get("totalCount")
            total = total if isinstance(total, int) else None
            done = len(items) >= total if total is not None else len(batch) < PAGE_SIZE
            if done or not batch or not paged:
                return items, total

    def _object(self, method: str, path: str, response: httpx.Response) -> dict:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ApiError(method, path, response.status_code, "response is not a JSON object")
        return body
