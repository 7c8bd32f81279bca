"""The engine's reads against canned answers (httpx.MockTransport, fake sleeps): a project
that cannot be read becomes an unread entry of the plan; the others are still planned."""

import asyncio
import random
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.engine import build_plan
from reconciler.errors import ApiError
from reconciler.launchdarkly import LaunchDarklyClient
from reconciler.manifest import DesiredProject
from reconciler.manifest.models import CreateReleasePipelineInput, ProjectSettings
from reconciler.plan import Plan, PlanOptions, ReadFailure
from reconciler.settings import LaunchDarklySettings
from tests.builders import pipeline


def desired(key: str) -> DesiredProject:
    model = CreateReleasePipelineInput.model_validate(pipeline("a"))
    return DesiredProject(key, ProjectSettings(), {"a": model}, {"a": Path("a.yaml")},
                          Path("pipelines") / key)


def live_a() -> dict[str, Any]:
    return {"key": "a", "name": "A", "isProjectDefault": True, "_isLegacy": False,
            "phases": [{"id": "x", "name": "Phase 1", "audiences": [
                {"name": "Everyone", "environment": {"key": "test"}}]}]}


def plan_with(answers: dict[str, httpx.Response], *keys: str) -> Plan:
    """Plan `keys` against canned answers, by project."""

    def handler(request: httpx.Request) -> httpx.Response:
        return answers[request.url.path.split("/")[4]]

    async def no_sleep(seconds: float) -> None:
        pass

    async def main() -> Plan:
        settings = LaunchDarklySettings(base_uri="https://ld.test", token="t" * 20,
                                        max_retries=2)
        async with LaunchDarklyClient(settings, transport=httpx.MockTransport(handler),
                                      sleep=no_sleep, rng=random.Random(0)) as client:
            return await build_plan(client, [desired(k) for k in keys], PlanOptions())

    return asyncio.run(main())


OK = httpx.Response(200, json={"items": [live_a()], "totalCount": 1})


@pytest.mark.parametrize(("answer", "reason"), [
    (httpx.Response(403, json={"code": "forbidden", "message": "Access denied"}),
     "403 Access denied (forbidden); check the access token and its role, and that this "
     "route accepts LD-API-Version: beta"),
    (httpx.Response(503, json={"code": "unavailable", "message": "Try later"}),
     "503 Try later (unavailable) (gave up after 2 retries)"),
])
def test_a_project_that_cannot_be_read_is_an_unread_entry(answer: httpx.Response,
                                                          reason: str) -> None:
    plan = plan_with({"web": OK, "locked": answer}, "web", "locked")
    locked, web = plan.projects
    assert locked.failure == ReadFailure(
        folder="pipelines/locked/",
        reason=f"GET /api/v2/projects/locked/release-pipelines: {reason}")
    assert (locked.steps, locked.applicable) == ([], False)
    assert web.failure is None and web.applicable and web.liveCount == 1
    assert not plan.applicable and plan.failed == [locked]


def test_a_refused_token_ends_the_whole_run() -> None:
    refused = httpx.Response(401, json={"code": "unauthorized", "message": "Invalid token"})
    with pytest.raises(ApiError) as caught:
        plan_with({"web": refused}, "web")
    assert caught.value.status == 401
