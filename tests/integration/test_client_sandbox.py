"""The LaunchDarkly client against a real `reconciler sandbox serve` over loopback HTTP:
every endpoint, LaunchDarkly's rules as errors, paging, pacing under a rate limit, and
retries (with create re-reads) under injected faults."""

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from reconciler.errors import ApiError
from reconciler.launchdarkly import LaunchDarklyClient
from reconciler.normalize import canonical, canonical_live
from reconciler.settings import LaunchDarklySettings

pytestmark = pytest.mark.integration

TOKEN = "integration-token-7a1c"


def pipeline(key: str, name: str, environment: str = "test") -> dict[str, Any]:
    return {"key": key, "name": name, "description": "", "tags": ["team-a"],
            "phases": [{"name": "Phase 1", "audiences": [
                {"name": "QA", "environmentKey": environment, "segmentKeys": ["qa-team"]}]}]}


FIXTURE = {
    "projects": {
        "web": {
            "environments": [f"env-{i:02}" for i in range(43)] + ["test", "production"],
            "segments": {"test": ["qa-team", "beta-users"]},
            "pipelines": [pipeline("standard", "Standard"), pipeline("hotfix", "Hotfix")],
            "default": "standard",
            "active": {"standard": ["new-checkout"]},
        }
    }
}


def drive(url: str, action: Callable[[LaunchDarklyClient], Awaitable[Any]],
          **options: Any) -> Any:
    settings = LaunchDarklySettings(base_uri=url, token=TOKEN, timeout_seconds=10, **options)

    async def main() -> Any:
        async with LaunchDarklyClient(settings) as client:
            return await action(client)

    return asyncio.run(main())


def test_pipeline_round_trip(sandbox_server: Callable[..., Any]) -> None:
    server = sandbox_server(FIXTURE)
    fast = pipeline("fast", "Fast", environment="production")

    async def scenario(client: LaunchDarklyClient) -> None:
        listed = await client.list_pipelines("web")
        assert {p["key"]: p["isProjectDefault"] for p in listed} == {
            "standard": True, "hotfix": False}

        created = await client.create_pipeline("web", fast)
        assert canonical_live(created) == canonical(fast) | {"isLegacy": False}
        assert all(phase["id"] for phase in created["phases"])
        assert await client.get_pipeline("web", "fast") == created

        body = {k: v for k, v in fast.items() if k != "key"} | {"name": "Faster", "tags": []}
        updated = await client.update_pipeline("web", "fast", body)
        assert (updated["name"], updated["tags"]) == ("Faster", [])
        assert updated["_version"] > created["_version"]

        await client.delete_pipeline("web", "fast")
        assert await client.get_pipeline("web", "fast") is None
        await client.delete_pipeline("web", "fast")  # already gone: still success
        assert [p["key"] for p in await client.list_pipelines("web")] == ["standard", "hotfix"]

    drive(server.url, scenario)


def test_create_of_an_existing_key(sandbox_server: Callable[..., Any]) -> None:
    server = sandbox_server(FIXTURE)

    async def scenario(client: LaunchDarklyClient) -> None:
        same = await client.create_pipeline("web", pipeline("hotfix", "Hotfix"))
        assert same["key"] == "hotfix"
        with pytest.raises(ApiError, match="'hotfix' already exists with different settings"):
            await client.create_pipeline("web", pipeline("hotfix", "Another hotfix"))

    drive(server.url, scenario)


def test_default_pipeline_and_the_rules_that_guard_it(
    sandbox_server: Callable[..., Any]
) -> None:
    server = sandbox_server(FIXTURE)

    async def scenario(client: LaunchDarklyClient) -> None:
        project = await client.get_project("web")
        assert project is not None
        assert project["defaultReleasePipelineKey"] == "standard"
        assert await client.get_project("nope") is None

        moved = await client.set_default_pipeline("web", "hotfix")
        assert moved["defaultReleasePipelineKey"] == "hotfix"
        hotfix = await client.get_pipeline("web", "hotfix")
        assert hotfix is not None and hotfix["isProjectDefault"] is True

        with pytest.raises(ApiError) as refused:
            await client.delete_pipeline("web", "hotfix")  # the default, no active releases
        assert refused.value.status == 400

    drive(server.url, scenario)


def test_active_releases_block_a_delete(sandbox_server: Callable[..., Any]) -> None:
    server = sandbox_server(FIXTURE)

    async def scenario(client: LaunchDarklyClient) -> None:
        assert await client.active_releases("web", "standard") == ["new-checkout"]
        assert await client.active_releases("web", "hotfix") == []
        await client.set_default_pipeline("web", "hotfix")
        with pytest.raises(ApiError) as refused:
            await client.delete_pipeline("web", "standard")
        assert refused.value.status == 400

    drive(server.url, scenario)


def test_environments_page_and_segments_list(sandbox_server: Callable[..., Any]) -> None:
    server = sandbox_server(FIXTURE)

    async def scenario(client: LaunchDarklyClient) -> tuple[list[str], list[str], int]:
        environments = await client.list_environments("web")
        segments = await client.list_segments("web", "test")
        return environments, segments, client.calls

    environments, segments, calls = drive(server.url, scenario)
    assert sorted(environments) == sorted(FIXTURE["projects"]["web"]["environments"])
    assert sorted(segments) == ["beta-users", "qa-team"]
    assert calls == 4  # 45 environments: three pages of 20; one segment page


def test_unknown_project_is_an_error_naming_it(sandbox_server: Callable[..., Any]) -> None:
    server = sandbox_server(FIXTURE)
    with pytest.raises(ApiError, match="404 project 'nope' not found"):
        drive(server.url, lambda client: client.list_pipelines("nope"))


def test_pacing_keeps_429s_rare_under_a_rate_limit(sandbox_server: Callable[..., Any]) -> None:
    server = sandbox_server(FIXTURE, "--rate-limit", "40")
    reads = 100

    async def scenario(client: LaunchDarklyClient) -> int:
        await asyncio.gather(*(client.get_pipeline("web", "standard") for _ in range(reads)))
        return client.calls

    calls = drive(server.url, scenario, concurrency=8)
    assert (calls - reads) / calls < 0.05  # every extra call is a retry after a 429


def test_retries_and_re_reads_converge_under_faults(
    sandbox_server: Callable[..., Any], tmp_path: Path
) -> None:
    # Seed 3 drops the connection after one POST has landed, answers other POSTs and a
    # DELETE with 5xx before they run: both sides of the create re-read get exercised.
    log = tmp_path / "requests.jsonl"
    server = sandbox_server(FIXTURE, "--fault-rate", "0.25", "--seed", "3",
                            "--request-log", str(log))
    keys = [f"p{i}" for i in range(6)]

    async def scenario(client: LaunchDarklyClient) -> list[str]:
        for key in keys:
            await client.create_pipeline("web", pipeline(key, key.upper()))
        for key in keys[:3]:
            await client.delete_pipeline("web", key)
        return [p["key"] for p in await client.list_pipelines("web")]

    assert drive(server.url, scenario) == ["standard", "hotfix", *keys[3:]]
    posts = [json.loads(line)["status"] for line in log.read_text().splitlines()
             if json.loads(line)["method"] == "POST"]
    assert None in posts, "the seed no longer drops a POST: pick another"
    assert any(status is not None and status >= 500 for status in posts)
    # Each pipeline was created by exactly one POST: a dropped one is never sent again.
    assert posts.count(201) + posts.count(None) == len(keys)
