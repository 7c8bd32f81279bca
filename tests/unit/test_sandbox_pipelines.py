"""The sandbox's release-pipeline endpoints and LaunchDarkly's rules, in process."""

import copy
import json
from typing import Any

import pytest

from reconciler.sandbox.problems import SandboxError

PIPELINES = "/api/v2/projects/web/release-pipelines"


def body(key: str, env: str = "test", **extra: Any) -> dict[str, Any]:
    return {
        "key": key,
        "name": key.title(),
        "phases": [{"name": "P1", "audiences": [{"name": "A", "environmentKey": env}]}],
        **extra,
    }


WEB = {"projects": {"web": {
    "environments": ["test", "production"],
    "segments": {"test": ["qa-team"]},
    "pipelines": [
        body("standard", description="Standard rollout", tags=["example-tag"]),
        {**body("hotfix", env="production"), "phases": [
            {"name": "Test", "audiences": [{"name": "A", "environmentKey": "test"}]},
            {"name": "Prod", "audiences": [{"name": "B", "environmentKey": "production"}]},
        ]},
    ],
    "active": {"hotfix": ["new-checkout", "dark-mode"]},
}}}


@pytest.fixture
def web(sandbox_app):
    return sandbox_app(WEB)


def keys(response) -> list[str]:
    return [item["key"] for item in response.json()["items"]]


def test_first_pipeline_becomes_default_and_later_ones_do_not(sandbox_app):
    sandbox = sandbox_app({"projects": {"web": {"environments": ["test"]}}})
    first = sandbox.request("POST", PIPELINES, json=body("first"))
    second = sandbox.request("POST", PIPELINES, json=body("second"))
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["isProjectDefault"] is True
    assert second.json()["isProjectDefault"] is False
    project = sandbox.request("GET", "/api/v2/projects/web").json()
    assert project["defaultReleasePipelineKey"] == "first"


def test_is_project_default_on_create_moves_the_default(web):
    created = web.request("POST", PIPELINES, json=body("new", isProjectDefault=True))
    assert created.json()["isProjectDefault"] is True
    items = web.request("GET", PIPELINES).json()["items"]
    listed = {p["key"]: p["isProjectDefault"] for p in items}
    assert listed == {"standard": False, "hotfix": False, "new": True}


def test_created_pipeline_has_the_response_shape(web):
    sent = body("shaped", env="production", description="d", tags=["t"], isLegacy=True)
    sent["phases"][0]["audiences"][0]["segmentKeys"] = ["beta"]
    created = web.request("POST", PIPELINES, json=sent).json()
    phase = created["phases"][0]
    assert len(phase["id"]) == 24
    assert phase["configuration"] == {}
    assert phase["audiences"][0]["environment"]["key"] == "production"
    assert "environmentKey" not in phase["audiences"][0]
    assert phase["audiences"][0]["segmentKeys"] == ["beta"]
    assert created["_version"] == 1
    assert created["_isLegacy"] is True
    assert created["_access"] == {"denied": [], "allowed": []}
    assert (created["description"], created["tags"]) == ("d", ["t"])
    assert web.request("GET", f"{PIPELINES}/shaped").json() == created


def test_unknown_body_fields_are_ignored_as_launchdarkly_does(web):
    sent = body("extra", surprise=True, _version=99)
    sent["phases"][0]["colour"] = "red"
    sent["phases"][0]["audiences"][0]["weight"] = 3
    created = web.request("POST", PIPELINES, json=sent)
    assert created.status_code == 201
    assert created.json()["_version"] == 1
    stored = json.loads(web.state_path.read_text())["projects"]["web"]["pipelines"]["extra"]
    assert "surprise" not in stored
    assert "colour" not in stored["phases"][0]
    assert "weight" not in stored["phases"][0]["audiences"][0]


def test_newer_fields_from_a_fixture_are_returned_and_kept_by_post_and_put(sandbox_app):
    seeded = body("seeded", extra={"rolloutPolicy": "gradual"})
    seeded["phases"][0]["extra"] = {"holdHours": 4}
    seeded["phases"][0]["audiences"][0]["extra"] = {"weightHint": 3}
    sandbox = sandbox_app({"projects": {"web": {"environments": ["test"],
                                                "pipelines": [seeded]}}})
    got = sandbox.request("GET", f"{PIPELINES}/seeded").json()
    assert (got["rolloutPolicy"], got["phases"][0]["holdHours"],
            got["phases"][0]["audiences"][0]["weightHint"]) == ("gradual", 4, 3)
    # This LaunchDarkly now knows those fields: sent values are kept, others still dropped.
    sent = body("later", rolloutPolicy="fast", surprise=True)
    sent["phases"][0]["holdHours"] = 8
    created = sandbox.request("POST", PIPELINES, json=sent).json()
    assert (created["rolloutPolicy"], created["phases"][0]["holdHours"]) == ("fast", 8)
    assert "surprise" not in created
    put = {k: v for k, v in body("x").items() if k != "key"}
    updated = sandbox.request("PUT", f"{PIPELINES}/seeded", json=put).json()
    assert "rolloutPolicy" not in updated  # a PUT is a full replacement
    assert "holdHours" not in updated["phases"][0]


@pytest.mark.parametrize("level", ["pipeline", "phase", "audience"])
def test_a_fixture_extra_cannot_take_a_name_the_spec_or_responses_use(seeded_state, level):
    taken = {"pipeline": "createdAt", "phase": "id", "audience": "environment"}[level]
    seeded = body("seeded")
    node = {"pipeline": seeded, "phase": seeded["phases"][0],
            "audience": seeded["phases"][0]["audiences"][0]}[level]
    node["extra"] = {taken: "x"}
    with pytest.raises(SandboxError, match=f"extra.{taken}: not a new field"):
        seeded_state({"projects": {"web": {"environments": ["test"], "pipelines": [seeded]}}})


@pytest.mark.parametrize("legacy_by_default", [False, True])
def test_an_omitted_is_legacy_takes_the_servers_default(sandbox_app, legacy_by_default):
    sandbox = sandbox_app(WEB, legacy_by_default=legacy_by_default)
    created = sandbox.request("POST", PIPELINES, json=body("new")).json()
    assert created["_isLegacy"] is legacy_by_default
    pinned = sandbox.request("POST", PIPELINES, json=body("pinned", isLegacy=False)).json()
    assert pinned["_isLegacy"] is False


def test_twenty_first_pipeline_is_refused_with_400(sandbox_app):
    twenty = [body(f"p{i}") for i in range(20)]
    sandbox = sandbox_app({"projects": {"web": {"environments": ["test"], "pipelines": twenty}}})
    refused = sandbox.request("POST", PIPELINES, json=body("p20"))
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid_request"
    assert "at most 20" in refused.json()["message"]


def test_duplicate_key_is_a_409(web):
    refused = web.request("POST", PIPELINES, json=body("standard"))
    assert refused.status_code == 409
    assert set(refused.json()) == {"code", "message"}


def test_deleting_the_default_is_refused_until_the_default_moves(web):
    refused = web.request("DELETE", f"{PIPELINES}/standard")
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid_request"
    patch = [{"op": "replace", "path": "/defaultReleasePipelineKey", "value": "hotfix"}]
    web.request("PATCH", "/api/v2/projects/web", json=patch)
    assert web.request("DELETE", f"{PIPELINES}/standard").status_code == 204
    assert web.request("GET", f"{PIPELINES}/standard").status_code == 404


def test_deleting_a_pipeline_with_active_releases_is_refused(web):
    refused = web.request("DELETE", f"{PIPELINES}/hotfix")
    assert refused.status_code == 400
    assert "new-checkout" in refused.json()["message"]


def test_missing_pipeline_and_project_are_404(web):
    for method in ("GET", "DELETE"):
        missing = web.request(method, f"{PIPELINES}/nope")
        assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    assert web.request("PUT", f"{PIPELINES}/nope", json=body("nope")).status_code == 404
    assert web.request("GET", "/api/v2/projects/other/release-pipelines").status_code == 404


def test_put_replaces_the_pipeline_regenerates_phase_ids_and_bumps_version(web):
    before = web.request("GET", f"{PIPELINES}/standard").json()
    sent = {"name": "Renamed", "phases": body("x")["phases"] * 2, "key": "ignored"}
    updated = web.request("PUT", f"{PIPELINES}/standard", json=sent)
    assert updated.status_code == 200
    after = updated.json()
    assert after["key"] == "standard"
    assert after["name"] == "Renamed"
    assert after["_version"] == before["_version"] + 1
    assert len(after["phases"]) == 2
    assert not {p["id"] for p in after["phases"]} & {p["id"] for p in before["phases"]}
    # A PUT is a full replacement: the omitted description and tags are cleared.
    assert "description" not in after
    assert after["tags"] == []
    assert after["createdAt"] == before["createdAt"]


def test_put_moves_active_releases_to_the_new_phase_ids(web):
    two_phases = web.request("GET", f"{PIPELINES}/hotfix").json()["phases"]
    one_phase = [{"name": "Only", "audiences": [{"name": "A", "environmentKey": "production"}]}]
    updated = web.request("PUT", f"{PIPELINES}/hotfix", json={"name": "H", "phases": one_phase})
    new_id = updated.json()["phases"][0]["id"]
    releases = web.request("GET", f"{PIPELINES}/hotfix/releases").json()
    assert {item["activePhaseId"] for item in releases["items"]} == {new_id}
    assert new_id not in {p["id"] for p in two_phases}
    assert releases["phases"] == [{"_id": new_id, "name": "Only", "releaseCount": 2}]
    assert web.request("DELETE", f"{PIPELINES}/hotfix").status_code == 400


def test_list_filters_by_query_and_environment_combined(web):
    assert keys(web.request("GET", PIPELINES, params={"filter": "query:ROLLOUT"})) == ["standard"]
    assert keys(web.request("GET", PIPELINES, params={"filter": "env:production"})) == ["hotfix"]
    both = web.request("GET", PIPELINES, params={"filter": "query:hot,env:production"})
    assert keys(both) == ["hotfix"]
    none = web.request("GET", PIPELINES, params={"filter": "query:standard,env:production"})
    assert none.json() == {"items": [], "totalCount": 0}


def test_list_pages_with_limit_and_offset(sandbox_app):
    many = [body(f"p{i:02}") for i in range(20)]
    sandbox = sandbox_app({"projects": {"web": {"environments": ["test"], "pipelines": many}}})
    assert len(keys(sandbox.request("GET", PIPELINES))) == 20
    first = sandbox.request("GET", PIPELINES, params={"limit": 15})
    assert (keys(first), first.json()["totalCount"]) == ([p["key"] for p in many[:15]], 20)
    rest = sandbox.request("GET", PIPELINES, params={"limit": 15, "offset": 15})
    assert keys(rest) == [p["key"] for p in many[15:]]


@pytest.mark.parametrize("params", [
    {"limit": "many"}, {"limit": 0}, {"offset": -1}, {"filter": "colour:red"}, {"filter": "query"},
])
def test_bad_list_parameters_are_400_naming_the_parameter(web, params):
    refused = web.request("GET", PIPELINES, params=params)
    assert refused.status_code == 400
    assert next(iter(params)) in refused.json()["message"]


def test_progressions_filter_by_status_and_phase_with_counts(web):
    url = f"{PIPELINES}/hotfix/releases"
    phases = web.request("GET", f"{PIPELINES}/hotfix").json()["phases"]
    everything = web.request("GET", url).json()
    assert (everything["activeCount"], everything["completedCount"]) == (2, 0)
    assert everything["totalCount"] == 2
    assert {i["flagKey"] for i in everything["items"]} == {"new-checkout", "dark-mode"}
    assert [p["releaseCount"] for p in everything["phases"]] == [2, 0]
    assert everything["_links"]["self"]["href"] == url
    on_first = web.request("GET", url, params={"filter": f"activePhaseId:{phases[0]['id']}"})
    assert on_first.json()["totalCount"] == 2
    on_second = web.request("GET", url, params={"filter": f"activePhaseId:{phases[1]['id']}"})
    assert on_second.json()["items"] == []
    completed = web.request("GET", url, params={"filter": "status:completed"}).json()
    assert (completed["items"], completed["totalCount"], completed["activeCount"]) == ([], 0, 2)
    paged = web.request("GET", url, params={"filter": "status:active", "limit": 1, "offset": 1})
    assert (len(paged.json()["items"]), paged.json()["totalCount"]) == (1, 2)


@pytest.mark.parametrize("filter_", [
    "status:done", "status:completed,activePhaseId:abc", "flagKey:x",
])
def test_bad_progression_filters_are_400(web, filter_):
    refused = web.request("GET", f"{PIPELINES}/hotfix/releases", params={"filter": filter_})
    assert (refused.status_code, refused.json()["code"]) == (400, "invalid_request")


@pytest.mark.parametrize(("sent", "named"), [
    (body("x", name=7), "name"),
    ({"name": "X", "phases": []}, "key"),
    ({"key": "x", "name": "X"}, "phases"),
    (body("x", phases=[]), "phases"),
    (body("x", tags="a"), "tags"),
    (body("x", isProjectDefault="yes"), "isProjectDefault"),
    (body("x", phases=[{"name": "P", "audiences": [{"name": "A"}]}]),
     "phases[0].audiences[0].environmentKey"),
    (body("x", phases=[{"name": "P", "audiences": [{"name": "A", "environmentKey": "test",
                                                   "configuration": {"releaseStrategy": "r"}}]}]),
     "phases[0].audiences[0].configuration.requireApproval"),
    (body("not a key!"), "key"),
    (body("x", env="staging"), "phases[0].audiences[0].environmentKey"),
    ([body("x")], "JSON object"),
])
def test_bad_create_bodies_are_400_naming_the_field(web, sent, named):
    refused = web.request("POST", PIPELINES, json=sent)
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid_request"
    assert named in refused.json()["message"]


def test_malformed_json_is_400(web):
    refused = web.request("POST", PIPELINES, content=b'{"key": "x",')
    assert (refused.status_code, refused.json()["code"]) == (400, "invalid_request")
    assert "not valid JSON" in refused.json()["message"]


def test_put_requires_name_and_phases(web):
    refused = web.request("PUT", f"{PIPELINES}/standard", json={"description": "only"})
    assert refused.status_code == 400
    assert "name" in refused.json()["message"]
    assert "phases" in refused.json()["message"]


REFUSED = [
    ("POST", PIPELINES, {"content": b"{oops"}),
    ("POST", PIPELINES, {"json": body("x", name=None)}),
    ("POST", PIPELINES, {"json": body("standard")}),
    ("POST", PIPELINES, {"json": body("x", env="staging")}),
    ("PUT", f"{PIPELINES}/standard", {"json": {"name": "X", "phases": "P1"}}),
    ("PUT", f"{PIPELINES}/standard", {"json": {"name": "X", "phases": body("x", env="nope")[
        "phases"]}}),
    ("DELETE", f"{PIPELINES}/standard", {}),
    ("DELETE", f"{PIPELINES}/hotfix", {}),
    ("PATCH", "/api/v2/projects/web", {"json": [
        {"op": "replace", "path": "/defaultReleasePipelineKey", "value": "hotfix"},
        {"op": "replace", "path": "/name", "value": "x"}]}),
    ("PATCH", "/api/v2/projects/web", {"json": [
        {"op": "replace", "path": "/defaultReleasePipelineKey", "value": "nope"}]}),
    ("POST", PIPELINES, {"json": body("x"), "headers": {"LD-API-Version": "beta"}}),
    ("POST", PIPELINES, {"json": body("x"), "headers": {"Authorization": "t"}}),
]


@pytest.mark.parametrize(("method", "path", "options"), REFUSED)
def test_refused_requests_change_nothing(web, method, path, options):
    document = copy.deepcopy(web.app.state.store.document)
    on_disk = web.state_path.read_bytes()
    refused = web.request(method, path, **options)
    assert 400 <= refused.status_code < 500
    assert set(refused.json()) == {"code", "message"}
    assert web.app.state.store.document == document
    assert web.state_path.read_bytes() == on_disk
