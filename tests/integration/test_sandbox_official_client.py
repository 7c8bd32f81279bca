"""LaunchDarkly's own generated client (launchdarkly-api) against a real `sandbox serve`:
the proof that the sandbox speaks the wire format, errors included."""

import json
from pathlib import Path

import launchdarkly_api
import pytest
from launchdarkly_api.api.environments_api import EnvironmentsApi
from launchdarkly_api.api.projects_api import ProjectsApi
from launchdarkly_api.api.release_pipelines_deprecated_api import ReleasePipelinesDeprecatedApi
from launchdarkly_api.api.segments_api import SegmentsApi
from launchdarkly_api.exceptions import ApiException
from launchdarkly_api.models.audience_configuration import AudienceConfiguration
from launchdarkly_api.models.audience_post import AudiencePost
from launchdarkly_api.models.create_phase_input import CreatePhaseInput
from launchdarkly_api.models.create_release_pipeline_input import CreateReleasePipelineInput
from launchdarkly_api.models.patch_operation import PatchOperation
from launchdarkly_api.models.pipeline_release_guardian_configuration import (
    PipelineReleaseGuardianConfiguration,
)
from launchdarkly_api.models.update_release_pipeline_input import UpdateReleasePipelineInput

from reconciler.sandbox import load_fixture

pytestmark = [
    pytest.mark.integration,
    # Every release-pipeline call of the 25.x client warns that the API is deprecated.
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

FIXTURE = load_fixture(Path(__file__).parents[1] / "fixtures" / "sandbox-web.yaml")
DEFAULT = "/defaultReleasePipelineKey"


def api_client(url: str, *, token: str | None = "sandbox-token",
               beta: bool = True) -> launchdarkly_api.ApiClient:
    configuration = launchdarkly_api.Configuration(host=url)
    if token is not None:
        configuration.api_key["ApiKey"] = token
    client = launchdarkly_api.ApiClient(configuration)
    if beta:
        # The client pins LD-API-Version 20240415 on every call; beta routes need "beta".
        client.default_headers["LD-API-Version"] = "beta"
    return client


def phases(env: str, *names: str) -> list[CreatePhaseInput]:
    guardian = PipelineReleaseGuardianConfiguration(
        monitoring_window_milliseconds=60000, rollout_weight=50, rollback_on_regression=True,
        randomization_unit="user",
    )
    configuration = AudienceConfiguration(
        release_strategy="monitoredRelease", require_approval=True,
        notify_team_keys=["reviewers"], release_guardian_configuration=guardian,
    )
    return [
        CreatePhaseInput(name=name, audiences=[AudiencePost(
            environment_key=env, name="QA", segment_keys=["qa-team"], configuration=configuration,
        )])
        for name in names
    ]


def refused(call, *args, **kwargs) -> tuple[int, str]:
    with pytest.raises(ApiException) as error:
        call(*args, **kwargs)
    return error.value.status, json.loads(error.value.body)["code"]


def test_the_official_client_drives_every_operation(sandbox_server):
    server = sandbox_server(FIXTURE)
    pipelines = ReleasePipelinesDeprecatedApi(api_client(server.url))
    projects = ProjectsApi(api_client(server.url, beta=False))

    listed = pipelines.get_all_release_pipelines("web")
    assert [p.key for p in listed.items] == ["standard", "hotfix"]
    assert listed.total_count == 2
    page = pipelines.get_all_release_pipelines("web", filter="env:production", limit=1, offset=1)
    assert ([p.key for p in page.items], page.total_count) == (["hotfix"], 2)

    created = pipelines.post_release_pipeline("web", CreateReleasePipelineInput(
        key="canary", name="Canary", description="c", tags=["t"], is_project_default=False,
        phases=phases("test", "Phase 1"),
    ))
    assert (created.key, created.version, created.is_project_default) == ("canary", 1, False)
    assert created.phases[0].audiences[0].environment.key == "test"
    guardian = created.phases[0].audiences[0].configuration.release_guardian_configuration
    assert guardian.rollout_weight == 50
    assert pipelines.get_release_pipeline_by_key("web", "canary") == created

    updated = pipelines.put_release_pipeline("web", "canary", UpdateReleasePipelineInput(
        name="Canary 2", description="", tags=[], phases=phases("production", "A", "B"),
    ))
    assert (updated.name, updated.version, len(updated.phases)) == ("Canary 2", 2, 2)
    assert updated.phases[0].id != created.phases[0].id

    progressions = pipelines.get_all_release_progressions_for_release_pipeline(
        "web", "standard", filter="status:active", limit=1)
    assert (progressions.active_count, progressions.total_count) == (2, 2)
    assert [i.flag_key for i in progressions.items] == ["new-checkout"]
    assert [p.release_count for p in progressions.phases] == [2, 0]

    patched = projects.patch_project(
        "web", [PatchOperation(op="replace", path=DEFAULT, value="canary")])
    assert patched.default_release_pipeline_key == "canary"
    project = projects.get_project("web", expand="environments")
    assert project.default_release_pipeline_key == "canary"
    assert [e.key for e in project.environments.items] == ["test", "production"]

    assert pipelines.delete_release_pipeline("web", "hotfix") is None
    assert [p.key for p in pipelines.get_all_release_pipelines("web").items] == [
        "standard", "canary"]

    environments = EnvironmentsApi(api_client(server.url, beta=False))
    assert [e.key for e in environments.get_environments_by_project("web").items] == [
        "test", "production"]
    segments = SegmentsApi(api_client(server.url, beta=False))
    assert [s.key for s in segments.get_segments("web", "test").items] == ["qa-team"]


def test_the_official_client_sees_launchdarklys_errors(sandbox_server):
    full = {"projects": {"full": {"environments": ["test"], "pipelines": [
        {"key": f"p{i}", "name": f"P{i}",
         "phases": [{"name": "P", "audiences": [{"name": "A", "environmentKey": "test"}]}]}
        for i in range(20)
    ]}, **FIXTURE["projects"]}}
    server = sandbox_server(full)
    pipelines = ReleasePipelinesDeprecatedApi(api_client(server.url))
    projects = ProjectsApi(api_client(server.url, beta=False))

    def create(project: str, key: str) -> None:
        pipelines.post_release_pipeline(project, CreateReleasePipelineInput(
            key=key, name=key, phases=phases("test", "P")))

    assert refused(create, "web", "standard") == (409, "conflict")
    assert refused(create, "full", "p20") == (400, "invalid_request")
    assert refused(create, "nope", "x") == (404, "not_found")
    assert refused(pipelines.delete_release_pipeline, "web", "hotfix") == (400, "invalid_request")
    assert refused(pipelines.delete_release_pipeline, "web", "standard") == (
        400, "invalid_request")
    assert refused(pipelines.get_release_pipeline_by_key, "web", "nope") == (404, "not_found")
    assert refused(pipelines.put_release_pipeline, "web", "nope", UpdateReleasePipelineInput(
        name="n", phases=phases("test", "P"))) == (404, "not_found")
    assert refused(pipelines.get_all_release_progressions_for_release_pipeline, "web",
                   "standard", filter="status:completed,activePhaseId:x") == (
        400, "invalid_request")
    assert refused(projects.patch_project, "web", [
        PatchOperation(op="replace", path=DEFAULT, value="nope")]) == (404, "not_found")
    assert refused(projects.patch_project, "web", [
        PatchOperation(op="replace", path="/name", value="x")]) == (422, "patch_failed")

    anonymous = ReleasePipelinesDeprecatedApi(api_client(server.url, token=None))
    assert refused(anonymous.get_all_release_pipelines, "web") == (401, "unauthorized")
    dated = ReleasePipelinesDeprecatedApi(api_client(server.url, beta=False))
    assert refused(dated.get_all_release_pipelines, "web") == (403, "forbidden")
    # Nothing above changed anything.
    assert [p.key for p in pipelines.get_all_release_pipelines("web").items] == [
        "standard", "hotfix"]
