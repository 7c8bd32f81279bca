"""The sandbox's release-policy endpoints and the policy rules, in process."""

import json
from typing import Any

import pytest

from reconciler.sandbox.problems import SandboxError
from reconciler.sandbox.state import read_document

POLICIES = "/api/v2/projects/web/release-policies"
ORDER = POLICIES + "/order"
GUARDED = {"rolloutContextKindKey": "user", "minSampleSize": 100, "rollbackOnRegression": True,
           "metricKeys": ["latency"], "stages": [{"allocation": 10000, "durationMillis": 60000}]}


def policy(key: str, method: str = "immediate-release", **extra: Any) -> dict[str, Any]:
    return {"key": key, "name": key.title(), "releaseMethod": method, **extra}


WEB = {"projects": {"web": {
    "environments": ["test", "production"],
    "policies": [
        policy("prod-guarded", "guarded-release", guardedReleaseConfig=GUARDED,
               scope={"environmentKeys": ["production"], "flagTagKeys": ["checkout"]}),
        policy("test-fast", scope={"environmentKeys": ["test"]}),
    ],
    "defaultPolicy": policy("default"),
}}}


@pytest.fixture
def web(sandbox_app):
    return sandbox_app(WEB)


def ranked(response) -> list[tuple[str, int]]:
    return [(item["key"], item["rank"]) for item in response.json()["items"]]


def refusal(response) -> tuple[int, str]:
    return response.status_code, response.json()["code"]


def test_the_listing_ranks_scoped_policies_and_marks_the_default_with_a_field(web):
    listed = web.request("GET", POLICIES)
    assert listed.status_code == 200
    assert ranked(listed) == [("prod-guarded", 1), ("test-fast", 2), ("default", 3)]
    assert [item.get("isDefault") for item in listed.json()["items"]] == [None, None, True]
    assert listed.json()["totalCount"] == 3
    first = listed.json()["items"][0]
    assert first["guardedReleaseConfig"] == GUARDED
    assert first["scope"] == {"environmentKeys": ["production"], "flagTagKeys": ["checkout"]}
    assert first["_access"] == {"denied": [], "allowed": []}
    assert len(first["_id"]) == 36  # a UUID, as the spec's example


@pytest.mark.parametrize(("marker", "expected"), [
    ("field", [("prod-guarded", 1), ("test-fast", 2), ("default", 3)]),
    ("rank0", [("default", 0), ("prod-guarded", 1), ("test-fast", 2)]),
    ("hidden", [("prod-guarded", 1), ("test-fast", 2)]),
])
def test_the_marker_knob_decides_how_the_default_is_listed(sandbox_app, marker, expected):
    sandbox = sandbox_app(WEB, default_policy_marker=marker)
    listed = sandbox.request("GET", POLICIES, params={"excludeDefault": "false"})
    assert ranked(listed) == expected
    assert listed.json()["totalCount"] == len(expected)
    assert ("isDefault" in json.dumps(listed.json())) is (marker == "field")
    by_key = sandbox.request("GET", f"{POLICIES}/default").json()
    assert by_key["rank"] == (3 if marker == "field" else 0)


@pytest.mark.parametrize("marker", ["field", "rank0", "hidden"])
def test_exclude_default_leaves_the_default_out(sandbox_app, marker):
    sandbox = sandbox_app(WEB, default_policy_marker=marker)
    listed = sandbox.request("GET", POLICIES, params={"excludeDefault": "true"})
    assert ranked(listed) == [("prod-guarded", 1), ("test-fast", 2)]


def test_exclude_default_must_be_a_boolean(web):
    assert refusal(web.request("GET", POLICIES, params={"excludeDefault": "yes"})) == (
        400, "invalid_request")


def test_an_unknown_marker_is_refused(sandbox_app):
    with pytest.raises(ValueError, match="field, rank0, hidden"):
        sandbox_app(WEB, default_policy_marker="flag")


def test_a_created_policy_ranks_last_and_reads_back(web):
    created = web.request("POST", POLICIES, json=policy("canary", scope={"flagTagKeys": ["x"]}))
    assert created.status_code == 201
    assert (created.json()["key"], created.json()["rank"]) == ("canary", 3)
    assert web.request("GET", f"{POLICIES}/canary").json() == created.json()
    assert ranked(web.request("GET", POLICIES, params={"excludeDefault": "true"})) == [
        ("prod-guarded", 1), ("test-fast", 2), ("canary", 3)]


@pytest.mark.parametrize("key", ["prod-guarded", "default"])
def test_a_duplicate_key_is_409_even_the_defaults(web, key):
    response = web.request("POST", POLICIES, json=policy(key))
    assert refusal(response) == (409, "conflict")
    assert key in response.json()["message"]


def test_unknown_body_fields_are_dropped_as_on_pipeline_routes(web):
    sent = policy("canary", scope={"environmentKeys": ["test"], "viewKeys": ["team"]},
                  colour="blue")
    created = web.request("POST", POLICIES, json=sent).json()
    assert "colour" not in created
    assert created["scope"] == {"environmentKeys": ["test"]}


@pytest.mark.parametrize(("body", "named"), [
    ({"key": "x", "releaseMethod": "immediate-release"}, "name"),
    (policy("x", "gradual-release"), "releaseMethod"),
    (policy("x", name="n" * 257), "name"),
    (policy("x", scope={"flagTagKeys": ["no spaces"]}), "scope.flagTagKeys[0]"),
    (policy("x", scope={"flagTagKeys": ["t" * 65]}), "scope.flagTagKeys[0]"),
    (policy("x", scope={"flagTagKeys": [f"t{i}" for i in range(1001)]}), "scope.flagTagKeys"),
    (policy("x", "guarded-release", guardedReleaseConfig={
        "stages": [{"allocation": 1, "durationMillis": 1}] * 21}), "guardedReleaseConfig.stages"),
    (policy("x", "progressive-release", progressiveReleaseConfig={
        "stages": [{"allocation": "25000", "durationMillis": 1}]}),
     "progressiveReleaseConfig.stages[0].allocation"),
    (policy("x", "guarded-release", guardedReleaseConfig={"stages": [{"allocation": 1}]}),
     "guardedReleaseConfig.stages[0].durationMillis"),
    (policy("bad key"), "key"),
])
def test_a_body_that_breaks_the_spec_is_400_naming_the_field(web, body, named):
    response = web.request("POST", POLICIES, json=body)
    assert refusal(response) == (400, "invalid_request")
    assert f"{named}:" in response.json()["message"]
    assert ranked(web.request("GET", POLICIES))[-1] == ("default", 3)  # nothing created


@pytest.mark.parametrize("content", [b"not json", b"[]", b'"x"'])
def test_a_body_that_is_no_object_is_400(web, content):
    assert refusal(web.request("POST", POLICIES, content=content)) == (400, "invalid_request")


@pytest.mark.parametrize(("method", "config"), [
    ("guarded-release", "guardedReleaseConfig"),
    ("progressive-release", "progressiveReleaseConfig"),
])
def test_the_config_knob_requires_the_methods_config_object(sandbox_app, method, config):
    strict = sandbox_app(WEB, policy_config_required=True)
    response = strict.request("POST", POLICIES, json=policy("x", method))
    assert refusal(response) == (400, "invalid_request")
    assert config in response.json()["message"]
    put = strict.request("PUT", f"{POLICIES}/test-fast",
                         json={"name": "T", "releaseMethod": method})
    assert refusal(put) == (400, "invalid_request")
    assert strict.request("POST", POLICIES, json=policy("y")).status_code == 201
    lenient = sandbox_app(WEB)
    assert lenient.request("POST", POLICIES, json=policy("x", method)).status_code == 201


def test_put_replaces_the_whole_policy_and_keeps_key_id_and_rank(web):
    before = web.request("GET", f"{POLICIES}/prod-guarded").json()
    put = web.request("PUT", f"{POLICIES}/prod-guarded",
                      json={"name": "Renamed", "releaseMethod": "immediate-release",
                            "key": "ignored"})
    assert put.status_code == 200
    assert put.json() == {"key": "prod-guarded", "name": "Renamed",
                          "releaseMethod": "immediate-release", "_id": before["_id"],
                          "rank": 1, "_access": {"denied": [], "allowed": []}}
    assert web.request("GET", f"{POLICIES}/prod-guarded").json() == put.json()


def test_the_default_policy_can_be_replaced(web):
    put = web.request("PUT", f"{POLICIES}/default",
                      json={"name": "Everything else", "releaseMethod": "immediate-release"})
    assert (put.status_code, put.json()["name"], put.json()["isDefault"]) == (
        200, "Everything else", True)


def test_delete_compacts_the_ranks(web):
    assert web.request("DELETE", f"{POLICIES}/prod-guarded").status_code == 204
    assert ranked(web.request("GET", POLICIES)) == [("test-fast", 1), ("default", 2)]
    assert refusal(web.request("GET", f"{POLICIES}/prod-guarded")) == (404, "not_found")


def test_the_default_policy_cannot_be_deleted(web):
    response = web.request("DELETE", f"{POLICIES}/default")
    assert refusal(response) == (400, "invalid_request")
    assert "default" in response.json()["message"]
    assert web.request("GET", f"{POLICIES}/default").status_code == 200


def test_order_reranks_and_answers_the_scoped_policies(web):
    web.request("POST", POLICIES, json=policy("canary"))
    response = web.request("POST", ORDER, json=["canary", "prod-guarded", "test-fast"])
    assert response.status_code == 200
    assert [(item["key"], item["rank"]) for item in response.json()] == [
        ("canary", 1), ("prod-guarded", 2), ("test-fast", 3)]
    assert ranked(web.request("GET", POLICIES)) == [
        ("canary", 1), ("prod-guarded", 2), ("test-fast", 3), ("default", 4)]


@pytest.mark.parametrize(("body", "words"), [
    (["test-fast"], "missing prod-guarded"),
    (["test-fast", "prod-guarded", "test-fast"], "repeated test-fast"),
    (["test-fast", "prod-guarded", "nope"], "unknown nope"),
    (["test-fast", "prod-guarded", "default"], "default release policy"),
    ([], "missing prod-guarded, test-fast"),
])
def test_an_order_that_is_not_the_scoped_keys_is_400(web, body, words):
    response = web.request("POST", ORDER, json=body)
    assert refusal(response) == (400, "invalid_request")
    assert words in response.json()["message"]
    assert ranked(web.request("GET", POLICIES))[:2] == [("prod-guarded", 1), ("test-fast", 2)]


@pytest.mark.parametrize("content", [b'{"keys": []}', b"[1, 2]", b"nope"])
def test_an_order_body_that_is_no_array_of_keys_is_400(web, content):
    assert refusal(web.request("POST", ORDER, content=content)) == (400, "invalid_request")


@pytest.mark.parametrize(("method", "path", "kwargs"), [
    ("GET", "/api/v2/projects/nope/release-policies", {}),
    ("POST", "/api/v2/projects/nope/release-policies", {"json": policy("x")}),
    ("POST", "/api/v2/projects/nope/release-policies/order", {"json": []}),
    ("GET", f"{POLICIES}/nope", {}),
    ("PUT", f"{POLICIES}/nope", {"json": {"name": "N", "releaseMethod": "immediate-release"}}),
    ("DELETE", f"{POLICIES}/nope", {}),
])
def test_an_unknown_project_or_policy_is_404(web, method, path, kwargs):
    assert refusal(web.request(method, path, **kwargs)) == (404, "not_found")


@pytest.mark.parametrize("version", [None, "20240415", "Beta"])
@pytest.mark.parametrize(("method", "path"), [
    ("GET", POLICIES), ("POST", POLICIES), ("POST", ORDER), ("GET", f"{POLICIES}/default"),
    ("PUT", f"{POLICIES}/default"), ("DELETE", f"{POLICIES}/test-fast"),
])
def test_every_policy_route_needs_the_beta_api_version(web, method, path, version):
    headers = {"Authorization": "t"} | ({} if version is None else {"LD-API-Version": version})
    response = web.request(method, path, headers=headers, json=policy("x"))
    assert refusal(response) == (403, "forbidden")
    assert "LD-API-Version: beta" in response.json()["message"]
    assert ranked(web.request("GET", POLICIES))[1] == ("test-fast", 2)  # nothing changed


def test_every_policy_route_needs_an_authorization_header(web):
    response = web.request("GET", POLICIES, headers={"LD-API-Version": "beta"})
    assert refusal(response) == (401, "unauthorized")


def test_policies_persist_in_the_state_file_beside_pipelines(web):
    web.request("POST", POLICIES, json=policy("canary"))
    web.request("POST", ORDER, json=["canary", "test-fast", "prod-guarded"])
    project = read_document(web.state_path)["projects"]["web"]
    assert list(project["policies"]) == ["canary", "test-fast", "prod-guarded"]
    assert project["defaultPolicy"]["key"] == "default"
    assert project["pipelines"] == {}


def test_a_project_without_policies_lists_none_and_its_state_has_no_policy_fields(
        sandbox_app):
    sandbox = sandbox_app({"projects": {"web": {"environments": ["test"]}}})
    assert sandbox.request("GET", POLICIES).json() == {"items": [], "totalCount": 0}
    sandbox.request("POST", "/api/v2/projects/web/release-pipelines", json={
        "key": "p", "name": "P",
        "phases": [{"name": "P1", "audiences": [{"name": "A", "environmentKey": "test"}]}]})
    project = read_document(sandbox.state_path)["projects"]["web"]
    assert "policies" not in project and "defaultPolicy" not in project


@pytest.mark.parametrize(("project", "message"), [
    ({"policies": [policy("a"), policy("a")]},
     "projects.web.policies[1]: a release policy with key 'a' already exists"),
    ({"policies": [policy("a")], "defaultPolicy": policy("a")},
     "projects.web.policies[0]: a release policy with key 'a' already exists"),
    ({"policies": [{"key": "a", "name": "A"}]},
     "projects.web.policies[0]: invalid request body: releaseMethod: Field required"),
    ({"defaultPolicy": {"key": "d"}}, "projects.web.defaultPolicy: invalid request body"),
])
def test_a_bad_policy_fixture_is_refused_naming_the_place(seeded_state, project, message):
    with pytest.raises(SandboxError, match="^" + message.replace("[", r"\[").replace("]", r"\]")):
        seeded_state({"projects": {"web": project}})
