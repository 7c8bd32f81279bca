"""Project GET/PATCH, the environment and segment listings, and authentication."""

import pytest

PROJECT = "/api/v2/projects/web"
DEFAULT = "/defaultReleasePipelineKey"


def pipeline(key: str) -> dict:
    return {"key": key, "name": key,
            "phases": [{"name": "P", "audiences": [{"name": "A", "environmentKey": "test"}]}]}


WEB = {"projects": {"web": {
    "environments": ["test", "production", "staging"],
    "segments": {"test": ["qa-team", "beta", "staff"]},
    "pipelines": [pipeline("standard"), pipeline("hotfix")],
}}}


@pytest.fixture
def web(sandbox_app):
    return sandbox_app(WEB)


def test_project_get_shows_the_default_and_expands_environments(web):
    plain = web.request("GET", PROJECT).json()
    assert plain["key"] == "web"
    assert plain["defaultReleasePipelineKey"] == "standard"
    assert "environments" not in plain
    expanded = web.request("GET", PROJECT, params={"expand": "environments"}).json()
    environments = expanded["environments"]
    assert [e["key"] for e in environments["items"]] == ["test", "production", "staging"]
    assert environments["totalCount"] == 3


def test_project_of_an_empty_project_has_no_default(sandbox_app):
    empty = sandbox_app({"projects": {"web": {"environments": ["test"]}}})
    assert "defaultReleasePipelineKey" not in empty.request("GET", PROJECT).json()


@pytest.mark.parametrize("op", ["add", "replace"])
def test_patch_moves_the_default(web, op):
    patched = web.request("PATCH", PROJECT, json=[{"op": op, "path": DEFAULT, "value": "hotfix"}])
    assert patched.status_code == 200
    assert patched.json()["defaultReleasePipelineKey"] == "hotfix"
    assert [e["key"] for e in patched.json()["environments"]] == ["test", "production", "staging"]
    hotfix = web.request("GET", f"{PROJECT}/release-pipelines/hotfix").json()
    assert hotfix["isProjectDefault"] is True


def test_patch_accepts_the_comment_wrapper(web):
    patch = [{"op": "replace", "path": DEFAULT, "value": "hotfix"}]
    patched = web.request("PATCH", PROJECT, json={"comment": "move it", "patch": patch})
    assert patched.json()["defaultReleasePipelineKey"] == "hotfix"


@pytest.mark.parametrize("patch", [
    [{"op": "remove", "path": DEFAULT}],
    [{"op": "replace", "path": "/name", "value": "x"}],
    [{"op": "replace", "path": DEFAULT, "value": 3}],
])
def test_a_patch_the_sandbox_cannot_apply_is_422(web, patch):
    refused = web.request("PATCH", PROJECT, json=patch)
    assert (refused.status_code, refused.json()["code"]) == (422, "patch_failed")


def test_patch_to_a_missing_pipeline_is_404(web):
    patch = [{"op": "replace", "path": DEFAULT, "value": "no"}]
    refused = web.request("PATCH", PROJECT, json=patch)
    assert (refused.status_code, refused.json()["code"]) == (404, "not_found")


@pytest.mark.parametrize(("patch", "named"), [
    ({"op": "replace"}, "JSON Patch array"),
    ([{"path": DEFAULT, "value": "hotfix"}], "[0].op"),
    ([{"op": "replace", "path": 5}], "[0].path"),
])
def test_a_malformed_patch_is_400_naming_the_field(web, patch, named):
    refused = web.request("PATCH", PROJECT, json=patch)
    assert (refused.status_code, refused.json()["code"]) == (400, "invalid_request")
    assert named in refused.json()["message"]


def test_environments_are_listed_and_paged(web):
    url = f"{PROJECT}/environments"
    listed = web.request("GET", url).json()
    assert [e["key"] for e in listed["items"]] == ["test", "production", "staging"]
    assert listed["totalCount"] == 3
    page = web.request("GET", url, params={"limit": 1, "offset": 1}).json()
    assert ([e["key"] for e in page["items"]], page["totalCount"]) == (["production"], 3)


def test_segments_are_listed_per_environment(web):
    listed = web.request("GET", "/api/v2/segments/web/test").json()
    assert [s["key"] for s in listed["items"]] == ["qa-team", "beta", "staff"]
    assert listed["totalCount"] == 3
    assert web.request("GET", "/api/v2/segments/web/production").json()["items"] == []
    page = web.request("GET", "/api/v2/segments/web/test", params={"limit": 2}).json()
    assert [s["key"] for s in page["items"]] == ["qa-team", "beta"]
    missing = web.request("GET", "/api/v2/segments/web/nope")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")


ROUTES = [
    ("GET", f"{PROJECT}/release-pipelines"),
    ("GET", f"{PROJECT}/release-pipelines/standard"),
    ("GET", f"{PROJECT}/release-pipelines/standard/releases"),
    ("DELETE", f"{PROJECT}/release-pipelines/hotfix"),
    ("GET", PROJECT),
    ("GET", f"{PROJECT}/environments"),
    ("GET", "/api/v2/segments/web/test"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_route_needs_an_authorization_header(web, method, path):
    refused = web.request(method, path, headers={"LD-API-Version": "beta"})
    assert refused.status_code == 401
    assert refused.json() == {"code": "unauthorized", "message": "Invalid access token"}


@pytest.mark.parametrize("version", [None, "20240415"])
@pytest.mark.parametrize(("method", "path"), [r for r in ROUTES if "release-pipelines" in r[1]])
def test_beta_routes_need_the_beta_api_version(web, method, path, version):
    headers = {"Authorization": "token"} | ({"LD-API-Version": version} if version else {})
    refused = web.request(method, path, headers=headers)
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")


def test_project_routes_take_the_dated_api_version(web):
    headers = {"Authorization": "token", "LD-API-Version": "20240415"}
    assert web.request("GET", PROJECT, headers=headers).status_code == 200


def test_unknown_routes_and_methods_answer_in_the_error_format(web):
    missing = web.request("GET", "/api/v2/flags/web")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    wrong_method = web.request("POST", PROJECT)
    assert (wrong_method.status_code, wrong_method.json()["code"]) == (405, "method_not_allowed")
