"""The sandbox's Aviator endpoints over raw HTTP: the documented errors, bearer auth, the
state file section and the fixture's `aviator:` section."""

import json

import pytest

from reconciler.sandbox import seed_state
from reconciler.sandbox.problems import SandboxError

TOKEN = "aviator-canary-0a1b2c3d"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
SHA = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"
VERSION = "2026.08.06-1a2b3c4-rc1"
RELEASE = f"/api/releases/web-pipelines/releases/{VERSION}"
DEPLOYMENTS = "/api/releases/web-pipelines/environments/production/deployments"
FIXTURE = {
    "projects": {"web": {"environments": ["test"]}},
    "aviator": {"projects": {"web-pipelines": {"environments": ["production"],
                                               "repo": "acme/pipelines"}}},
}
RELEASE_BODY = {"repo": "acme/pipelines", "commit": SHA}


@pytest.fixture
def sandbox(sandbox_app):
    return sandbox_app(FIXTURE)


def error(response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": TOKEN},
                                     {"Authorization": "Bearer "}, {"Authorization": "Basic x"}])
def test_every_route_needs_a_bearer_token(sandbox, headers) -> None:
    for method, path in [("POST", RELEASE), ("POST", DEPLOYMENTS), ("PATCH", DEPLOYMENTS),
                         ("GET", DEPLOYMENTS),
                         ("POST", "/api/releases/web-pipelines/environments/production/rollback")]:
        answer = sandbox.request(method, path, headers=headers, json={})
        assert error(answer) == (401, "Authorization: Bearer <token> required")


def test_create_release_checks_version_commit_and_repository(sandbox) -> None:
    def create(path: str = RELEASE, **body: object):
        return sandbox.request("POST", path, headers=BEARER, json={**RELEASE_BODY, **body})

    assert error(create("/api/releases/web-pipelines/releases/2026.08.06")) == (
        400, "Invalid release candidate version")
    assert error(create(commit="main")) == (400, "Invalid commit hash")
    assert error(create(repo="acme/other")) == (404, "GitHub repository not found")
    assert error(create(trigger_build_workflow="yes")) == (
        400, "trigger_build_workflow must be a boolean")
    assert error(create(f"/api/releases/mobile/releases/{VERSION}")) == (
        404, "Release project not found")
    assert create().status_code == 201
    assert error(create()) == (409, "Release candidate version already exists")
    bad_json = sandbox.request("POST", RELEASE, headers=BEARER, content=b"{")
    assert error(bad_json) == (400, "Request body is not valid JSON")


def test_deployment_routes_answer_their_documented_errors(sandbox) -> None:
    sandbox.request("POST", RELEASE, headers=BEARER, json=RELEASE_BODY)
    for method in ("POST", "PATCH"):
        def send(path: str = DEPLOYMENTS, method: str = method, **body: object):
            return sandbox.request(method, path, headers=BEARER,
                                   json={"release_candidate_version": VERSION,
                                         "status": "success", **body})

        assert error(send(release_candidate_version="2026.08.06")) == (
            400, "Invalid release candidate version")
        assert error(send(DEPLOYMENTS.replace("production", "prod"))) == (
            404, "Release environment not found")
        assert error(send(release_candidate_version="2026.08.07-1a2b3c4-rc1")) == (
            404, "Release not found")
    assert error(sandbox.request("PATCH", DEPLOYMENTS, headers=BEARER, json={
        "release_candidate_version": VERSION, "status": "done"})) == (
        400, "Invalid deployment status")
    assert error(sandbox.request("GET", DEPLOYMENTS.replace("production", "prod"),
                                 headers=BEARER)) == (404, "Release environment not found")
    assert error(sandbox.request("GET", DEPLOYMENTS, headers=BEARER,
                                 params={"per_page": 101})) == (
        400, "per_page must be an integer from 1 to 100")
    assert error(sandbox.request("GET", DEPLOYMENTS, headers=BEARER, params={"page": "0"})) == (
        400, "page must be an integer of 1 or more")


def test_answers_have_the_documented_status_codes_and_shapes(sandbox) -> None:
    assert sandbox.request("POST", RELEASE, headers=BEARER, json=RELEASE_BODY).status_code == 201
    body = {"release_candidate_version": VERSION}
    assert sandbox.request("POST", DEPLOYMENTS, headers=BEARER, json=body).status_code == 201
    patched = sandbox.request("PATCH", DEPLOYMENTS, headers=BEARER,
                              json={**body, "status": "error"})
    assert patched.status_code == 200
    [listed] = sandbox.request("GET", DEPLOYMENTS, headers=BEARER).json()
    assert set(listed) == {
        "actor", "deploy_end_at", "deploy_start_at", "environment_name", "error_message",
        "from_release_candidate_version", "from_release_version", "id",
        "release_candidate_version", "release_version", "status",
    }
    assert listed["status"] == "error" and listed["deploy_end_at"] is not None


def test_state_is_kept_in_the_aviator_section_without_the_token(sandbox) -> None:
    sandbox.request("POST", RELEASE, headers=BEARER, json=RELEASE_BODY)
    sandbox.request("PATCH", DEPLOYMENTS, headers=BEARER,
                    json={"release_candidate_version": VERSION, "status": "in_progress"})
    text = sandbox.state_path.read_text()
    assert TOKEN not in text
    project = json.loads(text)["aviator"]["web-pipelines"]
    assert list(project["releases"]) == [VERSION]
    assert [d["status"] for d in project["deployments"]] == ["in_progress"]
    assert "web" in json.loads(text)["projects"]
    assert all(TOKEN not in repr(record) for record in sandbox.app.state.request_log)


def test_a_state_file_without_an_aviator_section_knows_no_project(sandbox_app) -> None:
    sandbox = sandbox_app({"projects": {}})
    assert error(sandbox.request("GET", DEPLOYMENTS, headers=BEARER)) == (
        404, "Release project not found")


@pytest.mark.parametrize(("aviator", "message"), [
    ({"projects": {"p": {"environments": ["a"], "frozen": ["b"]}}}, "frozen: not environments"),
    ({"projects": {"bad/name": {}}}, "invalid fixture"),
    ({"projects": {"p": {"repo": "no-slash"}}}, "invalid fixture"),
    ({"projects": {"p": {"colour": "red"}}}, "invalid fixture"),
])
def test_bad_aviator_fixtures_are_refused(tmp_path, aviator, message) -> None:
    with pytest.raises(SandboxError, match=message):
        seed_state(tmp_path / "state.json", {"projects": {}, "aviator": aviator})


def test_seeding_replaces_a_release_project_and_keeps_the_others(tmp_path) -> None:
    path = tmp_path / "state.json"
    seed_state(path, {"projects": {}, "aviator": {"projects": {"a": {"environments": ["x"]},
                                                               "b": {}}}})
    seed_state(path, {"projects": {}, "aviator": {"projects": {"a": {"environments": ["y"]}}}})
    section = json.loads(path.read_text())["aviator"]
    assert sorted(section) == ["a", "b"]
    assert list(section["a"]["environments"]) == ["y"]
