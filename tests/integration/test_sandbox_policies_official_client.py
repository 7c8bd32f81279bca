"""LaunchDarkly's own generated client (launchdarkly-api 25, `ReleasePoliciesBetaApi`)
against a real `sandbox serve`: every release-policy operation and every error path."""

import json

import httpx
import launchdarkly_api
import pytest
from launchdarkly_api.api.release_policies_beta_api import ReleasePoliciesBetaApi
from launchdarkly_api.exceptions import ApiException
from launchdarkly_api.models.guarded_release_config import GuardedReleaseConfig
from launchdarkly_api.models.post_release_policy_request import PostReleasePolicyRequest
from launchdarkly_api.models.progressive_release_config import ProgressiveReleaseConfig
from launchdarkly_api.models.put_release_policy_request import PutReleasePolicyRequest
from launchdarkly_api.models.release_method import ReleaseMethod
from launchdarkly_api.models.release_policy_scope import ReleasePolicyScope
from launchdarkly_api.models.release_policy_stage import ReleasePolicyStage

pytestmark = pytest.mark.integration

BETA = "beta"
FIXTURE = {"projects": {"web": {
    "environments": ["test", "production"],
    "policies": [
        {"key": "prod-guarded", "name": "Production, guarded", "releaseMethod": "guarded-release",
         "scope": {"environmentKeys": ["production"], "flagTagKeys": ["checkout"]},
         "guardedReleaseConfig": {"metricKeys": ["latency"], "rollbackOnRegression": True,
                                  "stages": [{"allocation": 10000, "durationMillis": 60000}]}},
        {"key": "test-fast", "name": "Test, immediate", "releaseMethod": "immediate-release",
         "scope": {"environmentKeys": ["test"]}},
    ],
    "defaultPolicy": {"key": "default", "name": "Default", "releaseMethod": "immediate-release"},
}}}


def policies_api(url: str, *, beta: bool = True) -> ReleasePoliciesBetaApi:
    configuration = launchdarkly_api.Configuration(host=url)
    configuration.api_key["ApiKey"] = "sandbox-token"
    client = launchdarkly_api.ApiClient(configuration)
    if beta:
        # The client's default LD-API-Version (20240415) overrides the `ld_api_version`
        # argument of every call, so the argument alone never reaches the server.
        client.default_headers["LD-API-Version"] = BETA
    return ReleasePoliciesBetaApi(client)


def refused(call, *args, **kwargs) -> tuple[int, str]:
    with pytest.raises(ApiException) as error:
        call(*args, **kwargs)
    return error.value.status, json.loads(error.value.body)["code"]


def ranked(policies) -> list[tuple[str, int]]:
    return [(policy.key, policy.rank) for policy in policies]


def test_the_official_client_drives_every_policy_operation(sandbox_server):
    api = policies_api(sandbox_server(FIXTURE).url)

    listed = api.get_release_policies(BETA, "web", exclude_default=False)
    assert ranked(listed.items) == [("prod-guarded", 1), ("test-fast", 2), ("default", 3)]
    assert listed.total_count == 3
    guarded = listed.items[0]
    assert guarded.release_method == ReleaseMethod.GUARDED_MINUS_RELEASE
    assert guarded.scope.flag_tag_keys == ["checkout"]
    assert guarded.guarded_release_config.stages[0].allocation == 10000
    assert guarded.access.denied == []
    assert ranked(api.get_release_policies(BETA, "web", exclude_default=True).items) == [
        ("prod-guarded", 1), ("test-fast", 2)]

    created = api.post_release_policy(BETA, "web", PostReleasePolicyRequest(
        key="canary", name="Canary", release_method=ReleaseMethod.PROGRESSIVE_MINUS_RELEASE,
        scope=ReleasePolicyScope(environment_keys=["production"], flag_tag_keys=["beta"]),
        progressive_release_config=ProgressiveReleaseConfig(
            rollout_context_kind_key="user",
            stages=[ReleasePolicyStage(allocation=25000, duration_millis=3600000)]),
    ))
    assert (created.key, created.rank) == ("canary", 3)
    assert created.progressive_release_config.stages[0].duration_millis == 3600000
    assert api.get_release_policy(BETA, "web", "canary") == created

    updated = api.put_release_policy(BETA, "web", "canary", PutReleasePolicyRequest(
        name="Canary 2", release_method=ReleaseMethod.GUARDED_MINUS_RELEASE,
        guarded_release_config=GuardedReleaseConfig(
            metric_keys=["errors"], min_sample_size=50,
            stages=[ReleasePolicyStage(allocation=5000, duration_millis=60000)]),
    ))
    assert (updated.name, updated.id, updated.rank) == ("Canary 2", created.id, 3)
    assert updated.scope is None and updated.progressive_release_config is None

    ordered = api.post_release_policies_order(BETA, "web", ["canary", "test-fast", "prod-guarded"])
    assert ranked(ordered) == [("canary", 1), ("test-fast", 2), ("prod-guarded", 3)]

    assert api.delete_release_policy(BETA, "web", "test-fast") is None
    assert ranked(api.get_release_policies(BETA, "web").items) == [
        ("canary", 1), ("prod-guarded", 2), ("default", 3)]


def test_the_official_client_gets_every_policy_error(sandbox_server):
    server = sandbox_server(FIXTURE)
    api = policies_api(server.url)
    immediate = ReleaseMethod.IMMEDIATE_MINUS_RELEASE
    again = PostReleasePolicyRequest(key="test-fast", name="Again", release_method=immediate)
    assert refused(api.post_release_policy, BETA, "web", again) == (409, "conflict")
    named_default = PostReleasePolicyRequest(key="default", name="D", release_method=immediate)
    assert refused(api.post_release_policy, BETA, "web", named_default) == (409, "conflict")

    assert refused(api.post_release_policies_order, BETA, "web", ["test-fast"]) == (
        400, "invalid_request")
    assert refused(api.post_release_policies_order, BETA, "web",
                   ["prod-guarded", "test-fast", "default"]) == (400, "invalid_request")
    assert refused(api.delete_release_policy, BETA, "web", "default") == (
        400, "invalid_request")

    put = PutReleasePolicyRequest(name="N", release_method=immediate)
    assert refused(api.get_release_policy, BETA, "web", "nope") == (404, "not_found")
    assert refused(api.put_release_policy, BETA, "web", "nope", put) == (404, "not_found")
    assert refused(api.delete_release_policy, BETA, "web", "nope") == (404, "not_found")
    assert refused(api.get_release_policies, BETA, "nope") == (404, "not_found")

    pinned = policies_api(server.url, beta=False)  # sends the client's 20240415
    assert refused(pinned.get_release_policies, BETA, "web") == (403, "forbidden")
    assert refused(pinned.delete_release_policy, BETA, "web", "test-fast") == (
        403, "forbidden")
    # The client cannot leave out a required header; plain HTTP can.
    missing = httpx.get(f"{server.url}/api/v2/projects/web/release-policies",
                        headers={"Authorization": "sandbox-token"}, timeout=30)
    assert (missing.status_code, missing.json()["code"]) == (403, "forbidden")

    # Nothing refused changed anything.
    assert ranked(api.get_release_policies(BETA, "web").items) == [
        ("prod-guarded", 1), ("test-fast", 2), ("default", 3)]


@pytest.mark.parametrize(("marker", "expected"), [
    ("rank0", [("default", 0), ("prod-guarded", 1), ("test-fast", 2)]),
    ("hidden", [("prod-guarded", 1), ("test-fast", 2)]),
])
def test_the_served_sandbox_takes_the_default_marker_knob(sandbox_server, marker, expected):
    api = policies_api(sandbox_server(FIXTURE, "--default-policy-marker", marker).url)
    assert ranked(api.get_release_policies(BETA, "web", exclude_default=False).items) == expected


def test_the_served_sandbox_takes_the_config_knob(sandbox_server):
    api = policies_api(sandbox_server(FIXTURE, "--policy-config-required").url)
    bare = PostReleasePolicyRequest(key="g", name="G",
                                    release_method=ReleaseMethod.GUARDED_MINUS_RELEASE)
    assert refused(api.post_release_policy, BETA, "web", bare) == (400, "invalid_request")
