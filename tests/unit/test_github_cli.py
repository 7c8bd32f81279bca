"""`plan --github-comment` and `drift --github-issue` through the real CLI entry point,
against the in-process sandbox and the fake GitHub of test_github (through respx)."""

import json
from pathlib import Path

import httpx
import pytest
from fake_github import API, PULL, REPO, TOKEN, FakeGitHub

from reconciler.github.issues import MARKER
from tests.entry_point import EntryPoint

FIXTURE = """\
projects:
  web:
    environments: [test]
    pipelines:
      - key: standard
        name: Standard
        phases: [{name: P1, audiences: [{name: QA, environmentKey: test}]}]
"""
PIPELINE = """\
key: standard
name: {name}
phases:
  - name: P1
    audiences:
      - name: QA
        environmentKey: test
"""


class Workspace:
    def __init__(self, root: Path, run: EntryPoint) -> None:
        self.root = root
        self.run = run

    def git_name(self, name: str) -> None:
        (self.root / "pipelines" / "web" / "standard.yaml").write_text(PIPELINE.format(name=name))


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
              entry_point: EntryPoint) -> Workspace:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pipelines" / "web").mkdir(parents=True)
    (tmp_path / "fixture.yaml").write_text(FIXTURE)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": PULL, "head": {"sha": "abc"}}}))
    for name, value in {"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": REPO, "GITHUB_API_URL": API,
                        "GITHUB_EVENT_PATH": str(event)}.items():
        monkeypatch.setenv(name, value)
    space = Workspace(tmp_path, entry_point)
    assert space.run("sandbox", "seed", "--state", "state.json", "fixture.yaml")[0] == 0
    space.git_name("Standard Pipeline")  # live says "Standard": one update
    return space


def test_plan_prints_then_comments(workspace: Workspace, github: FakeGitHub) -> None:
    code, out, err = workspace.run("plan", "--sandbox", "state.json", "--github-comment",
                                   "--detailed-exitcode")
    assert code == 2
    assert "update standard" in out
    (comment,) = github.comments_on(PULL)
    assert "Standard Pipeline" in comment["body"]
    assert err.startswith(f"github: pull request #{PULL}: plan comment in 1 part")


def test_plan_without_a_token_prints_the_plan_then_fails(
        workspace: Workspace, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN")
    code, out, err = workspace.run("plan", "--sandbox", "state.json", "--github-comment")
    assert code == 1
    assert "update standard" in out
    assert err.splitlines() == [
        "error: GITHUB_TOKEN is not set (in a workflow: env: GITHUB_TOKEN: ${{ github.token }})"]
    assert github.methods == []


def test_plan_keeps_its_exit_code_when_github_refuses(
        workspace: Workspace, github: FakeGitHub) -> None:
    github.fail_with = httpx.Response(403, json={"message": "Resource not accessible"})
    code, out, err = workspace.run("plan", "--sandbox", "state.json", "--github-comment",
                                   "--detailed-exitcode")
    assert code == 2
    assert "update standard" in out
    assert err.startswith("warning: the plan was not posted to the pull request: GET ")


def test_drift_opens_then_closes_the_issue(workspace: Workspace, github: FakeGitHub) -> None:
    code, _, err = workspace.run("drift", "--sandbox", "state.json", "--github-issue")
    assert code == 2
    assert err == f"github: drift issue: opened #{PULL + 1}\n"
    (issue,) = github.open_drift_issues()
    assert issue["body"].startswith(MARKER) and "standard" in issue["body"]

    workspace.git_name("Standard")  # git now says what live says
    code, _, err = workspace.run("drift", "--sandbox", "state.json", "--github-issue")
    assert code == 0
    assert err == f"github: drift issue: closed #{PULL + 1}\n"
    assert github.open_drift_issues() == []
