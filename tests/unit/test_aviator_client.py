"""The Aviator Releases client, against the in-process sandbox (and respx for answers the
sandbox never gives)."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest
import respx

from reconciler.aviator import AviatorClient, DeploymentStatus, InvalidVersion, check_version
from reconciler.errors import ApiError
from reconciler.sandbox import transport
from tests.faketime import FakeTime

T = TypeVar("T")
TOKEN = "aviator-canary-5f4e3d2c1b"
PROJECT, ENV = "web-pipelines", "production"
SHA = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"
FIXTURE = {
    "projects": {},
    "aviator": {"projects": {
        PROJECT: {"environments": [ENV, "staging"], "frozen": ["staging"]},
    }},
}


def run(sandbox: Any, work: Callable[[AviatorClient], Awaitable[T]]) -> T:
    async def go() -> T:
        async with AviatorClient("http://sandbox", TOKEN,
                                 transport=transport(sandbox.app)) as client:
            return await work(client)

    return asyncio.run(go())


def version(n: int) -> str:
    return f"2026.08.{n:02d}-1a2b3c4-rc1"


async def deploy(client: AviatorClient, n: int, status: DeploymentStatus,
                 env: str = ENV) -> None:
    await client.create_release(PROJECT, version(n), repo="acme/pipelines", commit=SHA)
    await client.update_deployment_status(PROJECT, env, version(n), status)


@pytest.mark.parametrize("good", ["2026.08.06-1a2b3c4-rc1", "1.2.3-rc10", "v1-rc0"])
def test_versions_with_an_rc_suffix_pass(good: str) -> None:
    assert check_version(good) == good


@pytest.mark.parametrize("bad", ["2026.08.06", "2026.08.06-rc", "2026.08.06.rc1", "-rc1",
                                 "a/b-rc1", "a b-rc1", "1-rc1x"])
def test_versions_without_an_rc_suffix_fail(bad: str) -> None:
    with pytest.raises(InvalidVersion, match="-rc<N>"):
        check_version(bad)


def test_a_bad_version_is_refused_before_any_request(sandbox_app) -> None:
    sandbox = sandbox_app(FIXTURE)
    for call in (
        lambda c: c.create_release(PROJECT, "2026.08.06", repo="acme/p", commit=SHA),
        lambda c: c.create_deployment(PROJECT, ENV, "2026.08.06"),
        lambda c: c.update_deployment_status(PROJECT, ENV, "2026.08.06",
                                             DeploymentStatus.SUCCESS),
    ):
        with pytest.raises(InvalidVersion):
            run(sandbox, call)
    assert sandbox.app.state.request_log == []


def test_create_release_then_again_reports_that_it_existed(sandbox_app) -> None:
    sandbox = sandbox_app(FIXTURE)

    async def twice(client: AviatorClient) -> tuple[bool, bool]:
        first = await client.create_release(PROJECT, version(6), repo="acme/pipelines",
                                            commit=SHA)
        second = await client.create_release(PROJECT, version(6), repo="acme/pipelines",
                                             commit=SHA)
        return first, second

    assert run(sandbox, twice) == (True, False)
    release = sandbox.app.state.store.document["aviator"][PROJECT]["releases"][version(6)]
    assert release["commit"] == SHA and release["repo"] == "acme/pipelines"
    assert release["trigger_build_workflow"] is False
    assert release["release_version"] == "2026.08.06-1a2b3c4"


def test_status_updates_create_then_update_the_deployment(sandbox_app) -> None:
    sandbox = sandbox_app(FIXTURE)

    async def work(client: AviatorClient) -> list[Any]:
        await deploy(client, 1, DeploymentStatus.IN_PROGRESS)
        middle = await client.list_deployments(PROJECT, ENV)
        await client.update_deployment_status(PROJECT, ENV, version(1),
                                              DeploymentStatus.SUCCESS)
        return [middle, await client.list_deployments(PROJECT, ENV)]

    middle, end = run(sandbox, work)
    assert [(d.id, d.status, d.deploy_end_at) for d in middle] == [(1, "in_progress", None)]
    [done] = end
    assert (done.id, done.status, done.environment_name) == (1, "success", ENV)
    assert done.release_candidate_version == version(1)
    assert done.deploy_start_at and done.deploy_end_at and done.error_message is None


def test_create_deployment_is_pending_and_records_where_it_came_from(sandbox_app) -> None:
    sandbox = sandbox_app(FIXTURE)

    async def work(client: AviatorClient) -> list[Any]:
        await deploy(client, 1, DeploymentStatus.SUCCESS)
        await client.create_release(PROJECT, version(2), repo="acme/pipelines", commit=SHA)
        await client.create_deployment(PROJECT, ENV, version(2))
        return await client.list_deployments(PROJECT, ENV)

    newest, oldest = run(sandbox, work)
    assert (newest.status, newest.release_candidate_version) == ("pending", version(2))
    assert newest.from_release_candidate_version == version(1)
    assert newest.from_release_version == "2026.08.01-1a2b3c4"
    assert oldest.status == "success"


def test_errors_name_the_endpoint_and_aviators_reason(sandbox_app) -> None:
    sandbox = sandbox_app(FIXTURE)
    with pytest.raises(ApiError) as unknown_env:
        run(sandbox, lambda c: c.update_deployment_status(PROJECT, "prod", version(1),
                                                         DeploymentStatus.SUCCESS))
    assert str(unknown_env.value) == (f"PATCH /api/releases/{PROJECT}/environments/prod/"
                                      "deployments: 404 Release environment not found")
    with pytest.raises(ApiError, match=r"^POST .*/deployments: 404 Release not found$"):
        run(sandbox, lambda c: c.create_deployment(PROJECT, ENV, version(9)))
    with pytest.raises(ApiError, match=r"404 Release project not found$"):
        run(sandbox, lambda c: c.list_deployments("nope", ENV))


def test_recent_deployments_pages_newest_first(sandbox_app) -> None:
    sandbox = sandbox_app(FIXTURE)

    async def work(client: AviatorClient) -> tuple[list[Any], list[Any], list[Any]]:
        for n in range(1, 13):
            await deploy(client, n, DeploymentStatus.SUCCESS)
        return (await client.recent_deployments(PROJECT, ENV, 11),
                await client.list_deployments(PROJECT, ENV, page=3, per_page=5),
                await client.recent_deployments(PROJECT, "staging", 5))

    recent, last_page, staging = run(sandbox, work)
    assert [d.id for d in recent] == list(range(12, 1, -1))
    assert [d.id for d in last_page] == [2, 1]
    assert staging == []
    with pytest.raises(ValueError):
        run(sandbox, lambda c: c.list_deployments(PROJECT, ENV, per_page=101))


def test_rollback_goes_back_to_the_version_before_the_latest_success(sandbox_app) -> None:
    sandbox = sandbox_app(FIXTURE)

    async def work(client: AviatorClient) -> Any:
        await deploy(client, 1, DeploymentStatus.SUCCESS)
        await deploy(client, 2, DeploymentStatus.SUCCESS)
        return await client.rollback(PROJECT, ENV)

    back = run(sandbox, work)
    assert (back.id, back.status, back.release_candidate_version) == (3, "pending", version(1))
    assert back.from_release_candidate_version == version(2)


def test_rollback_after_a_failure_redeploys_the_last_success_and_cancels(sandbox_app) -> None:
    sandbox = sandbox_app(FIXTURE)

    async def work(client: AviatorClient) -> tuple[Any, list[Any]]:
        await deploy(client, 1, DeploymentStatus.SUCCESS)
        await deploy(client, 2, DeploymentStatus.FAILURE)
        await deploy(client, 3, DeploymentStatus.IN_PROGRESS)
        back = await client.rollback(PROJECT, ENV)
        return back, await client.list_deployments(PROJECT, ENV)

    back, listed = run(sandbox, work)
    assert back.release_candidate_version == version(1)
    assert [(d.release_candidate_version, d.status) for d in listed] == [
        (version(1), "pending"), (version(3), "canceled"), (version(2), "failure"),
        (version(1), "success"),
    ]


def test_rollback_refusals(sandbox_app) -> None:
    sandbox = sandbox_app(FIXTURE)
    with pytest.raises(ApiError, match="404 No previous deployment to roll back from"):
        run(sandbox, lambda c: c.rollback(PROJECT, ENV))

    async def frozen(client: AviatorClient) -> Any:
        await deploy(client, 1, DeploymentStatus.SUCCESS, env="staging")
        await deploy(client, 2, DeploymentStatus.FAILURE, env="staging")
        with pytest.raises(ApiError, match="400 Environment is frozen"):
            await client.rollback(PROJECT, "staging")
        return await client.rollback(PROJECT, "staging", force=True)

    assert run(sandbox, frozen).release_candidate_version == version(1)


@respx.mock
def test_already_exists_in_a_400_is_not_an_error_and_tokens_are_redacted() -> None:
    base = "https://aviator.test"
    route = respx.post(f"{base}/api/releases/p/releases/{version(1)}")

    async def create() -> bool:
        async with AviatorClient(base, TOKEN, sleep=FakeTime().sleep) as client:
            return await client.create_release("p", version(1), repo="a/b", commit=SHA)

    route.mock(return_value=httpx.Response(400, json={"error": "Release already exists"}))
    assert asyncio.run(create()) is False
    assert route.calls.last.request.headers["Authorization"] == f"Bearer {TOKEN}"
    route.mock(return_value=httpx.Response(401, json={"error": f"bad token {TOKEN}"}))
    with pytest.raises(ApiError) as refused:
        asyncio.run(create())
    assert str(refused.value).endswith("401 bad token ***")
    route.mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(ApiError, match=r"cannot connect to aviator\.test \(refused\)"):
        asyncio.run(create())


@respx.mock
def test_a_malformed_list_is_an_api_error() -> None:
    base = "https://aviator.test"
    path = f"{base}/api/releases/my%20project/environments/prod/deployments"
    route = respx.get(path).mock(return_value=httpx.Response(200, json=[{"status": "ok"}]))

    async def listing() -> Any:
        async with AviatorClient(base, TOKEN) as client:
            return await client.list_deployments("my project", "prod")

    with pytest.raises(ApiError, match=r"unexpected deployment in the answer \(id: Field"):
        asyncio.run(listing())
    route.mock(return_value=httpx.Response(200, json={"items": []}))
    with pytest.raises(ApiError, match="expected a JSON list"):
        asyncio.run(listing())
