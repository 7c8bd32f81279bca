"""Apply reporting: settings from the environment, the commit and its version, and the
reports themselves against the in-process sandbox."""

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from reconciler.apply import ApplyReport, StepResult, StepStatus
from reconciler.aviator import (
    ApplyDeployment,
    AviatorClient,
    Commit,
    DeploymentStatus,
    current_commit,
    report_apply,
    settings_from_environ,
)
from reconciler.errors import SettingsError
from reconciler.plan import Action
from reconciler.sandbox import create_app, transport

TOKEN = "aviator-canary-9z8y7x"
SHA = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"
ENVIRON = {"AVIATOR_API_TOKEN": TOKEN, "AVIATOR_PROJECT": "web-pipelines",
           "AVIATOR_ENVIRONMENT": "production", "GITHUB_SHA": SHA,
           "GITHUB_REPOSITORY": "acme/pipelines"}
FIXTURE = {"projects": {},
           "aviator": {"projects": {"web-pipelines": {"environments": ["production"]}}}}
DONE = ApplyReport([StepResult("web", Action.CREATE, "standard", StepStatus.DONE)])
FAILED = ApplyReport([StepResult("web", Action.CREATE, "standard", StepStatus.FAILED, "400"),
                      StepResult("web", Action.DELETE, "old", StepStatus.NOT_RUN)])


def no_git(args: list[str]) -> None:
    return None


def aviator_state(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())["aviator"]["web-pipelines"]


@pytest.fixture(autouse=True)
def outside_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # current_commit asks git for the commit date: here there is none to find.
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("environ", [{}, {name: "" for name in ENVIRON},
                                     {"AVIATOR_BASE_URL": "https://api.aviator.co"}])
def test_unset_or_empty_variables_mean_not_configured(environ: dict[str, str]) -> None:
    assert settings_from_environ(environ) is None


def test_all_three_variables_configure_and_the_token_is_not_shown() -> None:
    settings = settings_from_environ({**ENVIRON, "AVIATOR_BASE_URL": "http://127.0.0.1:9/"})
    assert settings is not None
    assert (settings.project, settings.environment) == ("web-pipelines", "production")
    assert settings.base_url == "http://127.0.0.1:9"
    assert TOKEN not in repr(settings)


@pytest.mark.parametrize(("changes", "message"), [
    ({"AVIATOR_PROJECT": ""}, "partly configured: AVIATOR_PROJECT not set"),
    ({"AVIATOR_API_TOKEN": "", "AVIATOR_ENVIRONMENT": " "},
     "AVIATOR_API_TOKEN, AVIATOR_ENVIRONMENT not set"),
    ({"AVIATOR_API_TOKEN": "two words"}, "whitespace"),
    ({"AVIATOR_BASE_URL": "http://aviator.example"}, "refusing plain http:// to aviator"),
    ({"AVIATOR_BASE_URL": "ftp://aviator.example"}, "invalid AVIATOR_BASE_URL"),
])
def test_unusable_settings_are_named(changes: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message) as refused:
        settings_from_environ({**ENVIRON, **changes})
    assert TOKEN not in str(refused.value)


def test_the_version_is_the_commit_day_and_short_sha() -> None:
    assert Commit(SHA, "acme/p", date(2026, 8, 6)).version == "2026.08.06-1a2b3c4-rc1"


def test_the_commit_comes_from_github_actions_with_gits_date() -> None:
    def git(args: list[str]) -> str | None:
        return "1786000000" if args == ["show", "-s", "--format=%ct", SHA] else None

    commit = current_commit({"GITHUB_SHA": SHA.upper(), "GITHUB_REPOSITORY": "acme/p"}, git)
    assert commit == Commit(SHA, "acme/p", date(2026, 8, 6))


@pytest.mark.parametrize("remote", [
    "git@github.com:acme/pipes.git", "https://github.com/acme/pipes",
    "https://x-access-token:s3cret@github.com/acme/pipes.git", "ssh://git@host:22/acme/pipes/",
])
def test_else_the_commit_comes_from_git(remote: str) -> None:
    answers = {"rev-parse": SHA, "config": remote}

    def git(args: list[str]) -> str | None:
        return answers.get(args[0])

    commit = current_commit({}, git, today=lambda: date(2026, 1, 2))
    assert commit == Commit(SHA, "acme/pipes", date(2026, 1, 2))


@pytest.mark.parametrize(("environ", "message"), [
    ({}, "set GITHUB_SHA"),
    ({"GITHUB_SHA": "main"}, "'main' is not a commit SHA"),
    ({"GITHUB_SHA": SHA}, "set GITHUB_REPOSITORY"),
    ({"GITHUB_SHA": SHA, "GITHUB_REPOSITORY": "acme"}, "'acme' is not OWNER/NAME"),
])
def test_a_commit_that_cannot_be_told_is_a_settings_error(environ, message) -> None:
    with pytest.raises(SettingsError, match=message):
        current_commit(environ, no_git)


def test_a_successful_apply_is_a_release_candidate_and_a_successful_deployment(
        seeded_state) -> None:
    state = seeded_state(FIXTURE)
    lines: list[str] = []
    with report_apply(ENVIRON, sandbox=state, trigger=False, echo=lines.append) as finished:
        [started] = aviator_state(state)["deployments"]
        assert started["status"] == "in_progress"
        finished(DONE)
    project = aviator_state(state)
    [version] = project["releases"]
    assert version.endswith("-1a2b3c4-rc1")
    assert project["releases"][version]["commit"] == SHA
    assert [d["status"] for d in project["deployments"]] == ["success"]
    assert lines == [
        f"aviator: web-pipelines: release candidate {version} (acme/pipelines@1a2b3c4) created",
        f"aviator: production: {version} in_progress",
        f"aviator: production: {version} success",
    ]


def test_a_failed_apply_is_a_failed_deployment(seeded_state) -> None:
    state = seeded_state(FIXTURE)
    with report_apply(ENVIRON, sandbox=state, trigger=False, echo=print) as finished:
        finished(FAILED)
    assert [d["status"] for d in aviator_state(state)["deployments"]] == ["failure"]


@pytest.mark.parametrize(("raised", "status"), [(RuntimeError, "failure"),
                                                (KeyboardInterrupt, "canceled")])
def test_an_apply_that_raises_is_reported_and_the_error_goes_on(seeded_state, raised,
                                                                 status) -> None:
    state = seeded_state(FIXTURE)
    with pytest.raises(raised), report_apply(ENVIRON, sandbox=state, trigger=False,
                                             echo=print):
        raise raised()
    assert [d["status"] for d in aviator_state(state)["deployments"]] == [status]


def test_trigger_creates_the_deployment_then_reports_its_outcome(seeded_state) -> None:
    state = seeded_state(FIXTURE)
    lines: list[str] = []
    with report_apply(ENVIRON, sandbox=state, trigger=True, echo=lines.append) as finished:
        assert [d["status"] for d in aviator_state(state)["deployments"]] == ["pending"]
        finished(DONE)
    assert [d["status"] for d in aviator_state(state)["deployments"]] == ["success"]
    assert "deployment of" in lines[1] and lines[1].endswith("created")


def test_a_second_apply_of_the_commit_reuses_the_release_candidate(seeded_state) -> None:
    state = seeded_state(FIXTURE)
    lines: list[str] = []
    for report in (DONE, FAILED):
        with report_apply(ENVIRON, sandbox=state, trigger=False,
                          echo=lines.append) as finished:
            finished(report)
    project = aviator_state(state)
    assert len(project["releases"]) == 1
    assert [d["status"] for d in project["deployments"]] == ["failure"]
    assert lines[3].endswith("exists, reused")
    assert not any(line.startswith("warning") for line in lines)


@pytest.mark.parametrize("environ", [{}, {**ENVIRON, "AVIATOR_PROJECT": ""},
                                     {**ENVIRON, "GITHUB_SHA": "not-a-sha"}])
def test_unconfigured_or_unusable_settings_report_nothing(seeded_state, environ) -> None:
    state = seeded_state(FIXTURE)
    lines: list[str] = []
    with report_apply(environ, sandbox=state, trigger=False, echo=lines.append) as finished:
        finished(DONE)
    assert aviator_state(state)["deployments"] == []
    assert len(lines) == (1 if environ else 0)
    assert all(line.startswith("warning: Aviator: not reporting this apply: ")
               for line in lines)


def test_an_outage_is_a_warning_and_what_was_missed_is_tried_again(sandbox_app) -> None:
    good = sandbox_app(FIXTURE)
    down = create_app(good.state_path, fault_rate=1.0, seed=7)  # 5xx answers only
    apps = iter([down, good.app, down])
    settings = settings_from_environ(ENVIRON)
    assert settings is not None
    lines: list[str] = []
    deployment = ApplyDeployment(
        settings, Commit(SHA, "acme/pipelines", date(2026, 8, 6)),
        lambda: AviatorClient("http://sandbox", TOKEN, transport=transport(next(apps))),
        trigger=False, echo=lines.append,
    )
    deployment.start()  # down: nothing recorded
    deployment.finish(DeploymentStatus.SUCCESS)
    deployment.finish(DeploymentStatus.FAILURE)  # down again
    assert lines[0].startswith("warning: Aviator: could not mark the deployment in_progress "
                               "(apply is not affected): POST /api/releases/web-pipelines/"
                               "releases/2026.08.06-1a2b3c4-rc1: 50")
    assert lines[1:3] == [
        "aviator: web-pipelines: release candidate 2026.08.06-1a2b3c4-rc1 "
        "(acme/pipelines@1a2b3c4) created",
        "aviator: production: 2026.08.06-1a2b3c4-rc1 success",
    ]
    assert lines[3].startswith("warning: Aviator: could not report the deployment's failure")
    assert "PATCH" in lines[3]  # the release candidate is known: not created again
    assert [d["status"] for d in aviator_state(good.state_path)["deployments"]] == ["success"]
    assert all(TOKEN not in line for line in lines)
