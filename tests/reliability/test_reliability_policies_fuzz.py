"""The sandbox's release-policy endpoints fuzzed with schemathesis against their wire
contract (tests/fixtures/launchdarkly-release-policies.openapi.json, the copy of
shared/specs/launchdarkly-release-policies.openapi.json): requests that fit the spec and
requests that break it, mostly aimed at a project and policies that exist. No answer is a
5xx, and after every request the state keeps the policy rules and is on disk whole.
"""

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from reliability_harness import base_seed
from starlette.applications import Starlette

from reconciler.sandbox import create_app, seed_state
from reconciler.sandbox.state import read_document

SPEC = Path(__file__).parents[1] / "fixtures" / "launchdarkly-release-policies.openapi.json"
SCHEMA = schemathesis.openapi.from_path(SPEC)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
PROJECTS = ["web", "missing"]
POLICIES = ["p0", "p1", "p2", "default", "missing"]
MODES = [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]


def _policy(key: str) -> dict[str, Any]:
    return {"key": key, "name": key, "releaseMethod": "immediate-release"}


@st.composite
def requests(draw: st.DrawFn) -> Any:
    operation = draw(st.sampled_from(OPERATIONS))
    case = draw(operation.as_strategy(generation_mode=draw(st.sampled_from(MODES))))
    # Mostly existing keys and usable headers, else only the 404, 401 and 403 paths are
    # reached; None keeps what was generated.
    for name, known in (("projectKey", PROJECTS), ("policyKey", POLICIES)):
        chosen = draw(st.sampled_from([*known, None]))
        if name in case.path_parameters and chosen is not None:
            case.path_parameters[name] = chosen
    if isinstance(case.body, dict) and "key" in case.body and draw(st.booleans()):
        # Deleted keys come back, so creates keep succeeding as well as clashing.
        case.body["key"] = draw(st.sampled_from(["p0", "p1", "p2", "fuzzed", "default"]))
    wanted = {"Authorization": draw(st.sampled_from(["fuzz-token", None])),
              "LD-API-Version": draw(st.sampled_from(["beta", None]))}
    case.headers = {**(case.headers or {}),
                    **{name: value for name, value in wanted.items() if value is not None}}
    return case


def check_rules(app: Starlette, state_path: Path) -> None:
    document = app.state.store.document
    for key, record in document["projects"].items():
        scoped = record.get("policies", {})
        default = record.get("defaultPolicy")
        assert default is not None and default["key"] == "default", key  # never deleted
        assert "default" not in scoped, key
        assert all(name == body["key"] for name, body in scoped.items()), key
    assert read_document(state_path) == document  # every answer waited for its write


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> tuple[Starlette, Path]:
    state_path = tmp_path_factory.mktemp("policy-fuzz") / "state.json"
    seed_state(state_path, {"projects": {"web": {
        "environments": ["test", "production"],
        "policies": [_policy(f"p{i}") for i in range(3)],
        "defaultPolicy": _policy("default"),
    }}})
    return create_app(state_path), state_path


@seed(base_seed())
@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=requests(), order=st.sampled_from([None, "reversed", "with-default"]))
def test_no_policy_request_gets_a_5xx_and_the_rules_hold(sandbox: tuple[Starlette, Path],
                                                          case: Any, order: str | None) -> None:
    app, state_path = sandbox
    project = app.state.store.document["projects"]["web"]
    if case.path.endswith("/order") and order is not None:
        # The scoped keys of the moment, so the success path is reached too.
        keys = list(reversed(project.get("policies", {})))
        case.body = keys if order == "reversed" else [*keys, "default"]
        case.path_parameters["projectKey"] = "web"
    response = case.call(app=app)
    assert response.status_code < 500, f"{case.as_curl_command()}\n{response.text}"
    check_rules(app, state_path)
