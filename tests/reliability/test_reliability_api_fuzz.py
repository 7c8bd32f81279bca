"""The sandbox's LaunchDarkly endpoints fuzzed with schemathesis against the wire contract
(tests/fixtures/launchdarkly-release-pipelines.openapi.json, the copy of
shared/specs/launchdarkly-release-pipelines.openapi.json): requests that fit the spec and
requests that break it, mostly aimed at projects and pipelines that exist. No answer is a
5xx, and after every request the state keeps LaunchDarkly's rules and is on disk whole.
"""

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from reliability_harness import base_seed, pipeline, project
from starlette.applications import Starlette

from reconciler.sandbox import create_app, seed_state
from reconciler.sandbox.state import read_document

SPEC = Path(__file__).parents[1] / "fixtures" / "launchdarkly-release-pipelines.openapi.json"
SCHEMA = schemathesis.openapi.from_path(SPEC)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
PROJECTS = ["web", "small", "missing"]
PIPELINES = ["p00", "p01", "busy", "only", "missing"]
MODES = [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]


def _plausible(body: Any, key: str) -> None:
    """A pipeline body with a valid key and audiences in an environment that exists, so
    that creates and updates can succeed (random ones are only ever refused)."""
    if isinstance(body, dict) and "key" in body:
        body["key"] = key
    phases = body.get("phases") if isinstance(body, dict) else None
    for phase in phases if isinstance(phases, list) else ():
        audiences = phase.get("audiences") if isinstance(phase, dict) else None
        for audience in audiences if isinstance(audiences, list) else ():
            if isinstance(audience, dict):
                audience["environmentKey"] = "test"


@st.composite
def requests(draw: st.DrawFn) -> Any:
    operation = draw(st.sampled_from(OPERATIONS))
    case = draw(operation.as_strategy(generation_mode=draw(st.sampled_from(MODES))))
    # Mostly existing keys and usable headers, else only the 404, 401 and 403 paths are
    # reached; sampled_from leans to its first items, None keeps what was generated.
    for name, known in (("projectKey", PROJECTS), ("pipelineKey", PIPELINES)):
        chosen = draw(st.sampled_from([*known, None]))
        if name in case.path_parameters and chosen is not None:
            case.path_parameters[name] = chosen
    if draw(st.sampled_from([True, False])):
        _plausible(case.body, draw(st.sampled_from(["fuzzed", "p01", "busy", "only"])))
    version = "beta" if "release-pipelines" in operation.path else "20240415"
    wanted = {"Authorization": draw(st.sampled_from(["fuzz-token", None])),
              "LD-API-Version": draw(st.sampled_from([version, None]))}
    case.headers = {**(case.headers or {}),
                    **{name: value for name, value in wanted.items() if value is not None}}
    return case


def check_rules(app: Starlette, state_path: Path) -> None:
    document = app.state.store.document
    for key, record in document["projects"].items():
        pipelines = record["pipelines"]
        assert len(pipelines) <= 20, key
        default = record["defaultReleasePipelineKey"]
        assert (default in pipelines) if pipelines else default is None, key
        for pipeline_key in record["releases"]:
            assert pipeline_key in pipelines, (key, pipeline_key)
        for body in pipelines.values():
            ids = [phase["id"] for phase in body["phases"]]
            assert ids and len(set(ids)) == len(ids), (key, body["key"])
    assert read_document(state_path) == document  # every answer waited for its write


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> tuple[Starlette, Path]:
    state_path = tmp_path_factory.mktemp("api-fuzz") / "state.json"
    seed_state(state_path, {"projects": {
        "web": project([pipeline(f"p{i:02}") for i in range(18)] + [pipeline("busy")],
                       default="p00", active={"busy": ["new-checkout"]}),
        "small": project([pipeline("only")]),
    }})
    return create_app(state_path), state_path


@seed(base_seed())
@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=requests())
def test_no_request_gets_a_5xx_and_the_rules_hold(sandbox: tuple[Starlette, Path],
                                                   case: Any) -> None:
    app, state_path = sandbox
    response = case.call(app=app)
    assert response.status_code < 500, f"{case.as_curl_command()}\n{response.text}"
    check_rules(app, state_path)
