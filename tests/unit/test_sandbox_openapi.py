"""Every sandbox response, success and error, against LaunchDarkly's OpenAPI specs.

tests/fixtures/launchdarkly-release-pipelines.openapi.json and
launchdarkly-release-policies.openapi.json are copies of the contracts in shared/specs
(LaunchDarkly's spec, Apache-2.0, cut to these endpoints). Objects the specs declare are
closed here: a field the spec does not have fails the test too.
"""

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

FIXTURES = Path(__file__).parents[1] / "fixtures"
SPEC = json.loads((FIXTURES / "launchdarkly-release-pipelines.openapi.json").read_text())
POLICY_SPEC = json.loads((FIXTURES / "launchdarkly-release-policies.openapi.json").read_text())
ERROR = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
    "additionalProperties": False,
}
ENVIRONMENTS = "/api/v2/projects/[^/]+/environments"
SEGMENTS = "/api/v2/segments/[^/]+/[^/]+"
# The segment listing is not in the spec subset: LaunchDarkly's UserSegments, as the
# official client (launchdarkly-api 25.0.1) requires it. The integration test reads it
# with that client too.
USER_SEGMENTS = {
    "type": "object",
    "required": ["items", "_links"],
    "properties": {
        "_links": {"type": "object"},
        "totalCount": {"type": "integer"},
        "items": {"type": "array", "items": {
            "type": "object",
            "required": ["name", "tags", "creationDate", "lastModifiedDate", "key", "_links",
                         "rules", "version", "deleted", "generation"],
            "properties": {
                "name": {"type": "string"}, "key": {"type": "string"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "creationDate": {"type": "integer"}, "lastModifiedDate": {"type": "integer"},
                "rules": {"type": "array"}, "version": {"type": "integer"},
                "deleted": {"type": "boolean"}, "generation": {"type": "integer"},
            },
        }},
    },
}


def closed(node: Any) -> Any:
    if isinstance(node, list):
        return [closed(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: closed(value) for key, value in node.items()}
    if out.get("type") == "object" and out.get("properties") and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def check(schema: dict[str, Any], body: Any, spec: dict[str, Any] = SPEC) -> list[str]:
    validator = Draft202012Validator({**schema, "components": closed(spec["components"])})
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(body)
    ]


def spec_schema(method: str, path: str, status: int, spec: dict[str, Any] = SPEC
                ) -> dict[str, Any] | None:
    """The response schema the spec declares; None for a declared empty body."""
    if re.fullmatch(ENVIRONMENTS, path) and status == 200:
        return {"$ref": "#/components/schemas/Environments"}
    if re.fullmatch(SEGMENTS, path) and status == 200:
        return USER_SEGMENTS
    for template, operations in spec["paths"].items():
        if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), path) and method in operations:
            declared = operations[method]["responses"].get(str(status))
            if declared is None:
                assert status >= 400, f"{method} {path}: undeclared success status {status}"
                return ERROR
            content = declared.get("content")
            return content["application/json"]["schema"] if content else None
    assert status >= 400, f"{method} {path}: not in the spec"
    return ERROR


def problems(response: httpx.Response, spec: dict[str, Any] = SPEC) -> list[str]:
    method, path = response.request.method.lower(), response.request.url.path
    where = f"{method.upper()} {response.request.url} -> {response.status_code}"
    schema = spec_schema(method, path, response.status_code, spec)
    if schema is None:
        return [] if response.content == b"" else [f"{where}: body where the spec has none"]
    return [f"{where}: {problem}" for problem in check(schema, response.json(), spec)]


def phases(env: str = "test") -> list[dict[str, Any]]:
    return [{"name": "P1", "configuration": {}, "audiences": [{
        "name": "QA", "environmentKey": env, "segmentKeys": ["qa-team"],
        "configuration": {
            "releaseStrategy": "monitoredRelease", "requireApproval": True,
            "notifyMemberIds": ["1234a56b7c89d012345e678f"], "notifyTeamKeys": ["reviewers"],
            "releaseGuardianConfiguration": {
                "monitoringWindowMilliseconds": 60000, "rolloutWeight": 50,
                "rollbackOnRegression": True, "randomizationUnit": "user",
            },
        },
    }]}]


WEB = {"projects": {"web": {
    "environments": ["test", "production"],
    "segments": {"test": ["qa-team"]},
    "pipelines": [{"key": "standard", "name": "Standard", "description": "d", "tags": ["t"],
                   "phases": phases()}],
    "active": {"standard": ["new-checkout"]},
}}}
P = "/api/v2/projects/web"
RP = f"{P}/release-pipelines"
SCENARIO: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", RP, {}),
    ("GET", RP, {"params": {"filter": "query:stand,env:test", "limit": 5, "offset": 0}}),
    ("GET", RP, {"params": {"limit": "x"}}),
    ("POST", RP, {"json": {"key": "fast", "name": "Fast", "phases": phases("production"),
                           "isProjectDefault": True, "isLegacy": False}}),
    ("POST", RP, {"json": {"key": "fast", "name": "Fast", "phases": phases()}}),
    ("POST", RP, {"json": {"key": "bad", "phases": phases()}}),
    ("POST", RP, {"content": b"not json"}),
    ("POST", "/api/v2/projects/nope/release-pipelines", {"json": {}}),
    ("GET", f"{RP}/standard", {}),
    ("GET", f"{RP}/missing", {}),
    ("PUT", f"{RP}/standard", {"json": {"name": "S", "description": "", "tags": [],
                                        "phases": phases() * 2}}),
    ("PUT", f"{RP}/standard", {"json": {"name": "S"}}),
    ("PUT", f"{RP}/missing", {"json": {"name": "S", "phases": phases()}}),
    ("GET", f"{RP}/standard/releases", {}),
    ("GET", f"{RP}/standard/releases", {"params": {"filter": "status:active"}}),
    ("GET", f"{RP}/standard/releases", {"params": {"filter": "status:x"}}),
    ("GET", f"{RP}/missing/releases", {}),
    ("DELETE", f"{RP}/standard", {}),
    ("DELETE", f"{RP}/fast", {}),
    ("DELETE", f"{RP}/missing", {}),
    ("GET", P, {}),
    ("GET", P, {"params": {"expand": "environments"}}),
    ("GET", "/api/v2/projects/nope", {}),
    ("PATCH", P, {"json": [{"op": "replace", "path": "/defaultReleasePipelineKey",
                            "value": "standard"}]}),
    ("PATCH", P, {"json": [{"op": "remove", "path": "/tags"}]}),
    ("PATCH", P, {"json": {"op": "replace"}}),
    ("DELETE", f"{RP}/fast", {}),
    ("GET", f"{P}/environments", {}),
    ("GET", "/api/v2/segments/web/test", {}),
    ("GET", "/api/v2/segments/web/nope", {}),
    ("GET", RP, {"headers": {"Authorization": "t"}}),
    ("GET", P, {"headers": {}}),
]


def test_every_response_of_the_scenario_matches_the_spec(sandbox_app):
    sandbox = sandbox_app(WEB)
    found = []
    statuses = []
    for method, path, options in SCENARIO:
        response = sandbox.request(method, path, **options)
        statuses.append(response.status_code)
        found += problems(response)
    assert found == []
    # The scenario reaches every answer the sandbox gives, not only the happy ones.
    assert set(statuses) == {200, 201, 204, 400, 401, 403, 404, 409, 422}


@pytest.mark.parametrize("options", [{"rate_limit": 1}, {"fault_rate": 1.0, "seed": 3}])
def test_knob_responses_match_the_spec(sandbox_app, options):
    sandbox = sandbox_app(WEB, **options)
    found = []
    for _ in range(6):
        try:
            found += problems(sandbox.request("GET", P))
        except httpx.TransportError:
            continue  # a dropped connection has no body to check
    assert found == []


def test_the_closed_schemas_catch_an_undeclared_field(sandbox_app):
    response = sandbox_app(WEB).request("GET", f"{RP}/standard")
    body = response.json()
    body["phases"][0]["audiences"][0]["environmentKey"] = "test"
    assert check({"$ref": "#/components/schemas/ReleasePipeline"}, body) != []


GUARDED = {"rolloutContextKindKey": "user", "minSampleSize": 100, "rollbackOnRegression": True,
           "metricKeys": ["latency"], "metricGroupKeys": ["web"],
           "stages": [{"allocation": 25000, "durationMillis": 60000}]}
PROGRESSIVE = {"rolloutContextKindKey": "user",
               "stages": [{"allocation": 50000, "durationMillis": 60000}]}
POLICY_WEB = {"projects": {"web": {
    "environments": ["test", "production"],
    "policies": [
        {"key": "prod", "name": "Prod", "releaseMethod": "guarded-release",
         "scope": {"environmentKeys": ["production"], "flagTagKeys": ["checkout"]},
         "guardedReleaseConfig": GUARDED},
        {"key": "test", "name": "Test", "releaseMethod": "immediate-release"},
    ],
    "defaultPolicy": {"key": "default", "name": "Default", "releaseMethod": "immediate-release"},
}}}
RPOL = f"{P}/release-policies"
POLICY_SCENARIO: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", RPOL, {}),
    ("GET", RPOL, {"params": {"excludeDefault": "true"}}),
    ("GET", RPOL, {"params": {"excludeDefault": "maybe"}}),
    ("POST", RPOL, {"json": {"key": "canary", "name": "Canary",
                             "releaseMethod": "progressive-release",
                             "progressiveReleaseConfig": PROGRESSIVE}}),
    ("POST", RPOL, {"json": {"key": "canary", "name": "C", "releaseMethod": "immediate-release"}}),
    ("POST", RPOL, {"json": {"key": "bad", "releaseMethod": "immediate-release"}}),
    ("POST", "/api/v2/projects/nope/release-policies", {"json": {}}),
    ("GET", f"{RPOL}/prod", {}),
    ("GET", f"{RPOL}/default", {}),
    ("GET", f"{RPOL}/missing", {}),
    ("PUT", f"{RPOL}/prod", {"json": {"name": "P", "releaseMethod": "guarded-release",
                                      "guardedReleaseConfig": GUARDED, "scope": {}}}),
    ("PUT", f"{RPOL}/prod", {"json": {"releaseMethod": "guarded-release"}}),
    ("PUT", f"{RPOL}/missing", {"json": {"name": "M", "releaseMethod": "immediate-release"}}),
    ("POST", f"{RPOL}/order", {"json": ["canary", "test", "prod"]}),
    ("POST", f"{RPOL}/order", {"json": ["canary", "test", "prod", "default"]}),
    ("POST", f"{RPOL}/order", {"json": ["test"]}),
    ("DELETE", f"{RPOL}/default", {}),
    ("DELETE", f"{RPOL}/canary", {}),
    ("DELETE", f"{RPOL}/canary", {}),
    ("GET", RPOL, {"headers": {"Authorization": "t"}}),
    ("GET", RPOL, {"headers": {"LD-API-Version": "beta"}}),
]


@pytest.mark.parametrize("marker", ["rank0", "hidden"])
def test_every_policy_response_of_the_scenario_matches_the_spec(sandbox_app, marker):
    sandbox = sandbox_app(POLICY_WEB, default_policy_marker=marker)
    found = []
    statuses = []
    for method, path, options in POLICY_SCENARIO:
        response = sandbox.request(method, path, **options)
        statuses.append(response.status_code)
        found += problems(response, POLICY_SPEC)
    assert found == []
    assert set(statuses) == {200, 201, 204, 400, 401, 403, 404, 409}


def test_the_field_marker_adds_only_is_default_to_the_spec(sandbox_app):
    listed = sandbox_app(POLICY_WEB).request("GET", RPOL).json()
    default = listed["items"][-1]
    assert default.pop("isDefault") is True
    assert check({"$ref": "#/components/schemas/ReleasePoliciesResponse"}, listed,
                 POLICY_SPEC) == []
