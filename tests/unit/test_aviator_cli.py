"""`apply` reporting to Aviator and `aviator deployments`, through the real CLI entry point
against the in-process sandbox (`--sandbox STATE_FILE`, no AVIATOR_BASE_URL)."""

import json
import os
from pathlib import Path

import pytest

from reconciler.aviator import Deployment
from reconciler.cli.aviator_cmd import deployments_table
from tests.entry_point import EntryPoint

TOKEN = "aviator-canary-77aa66bb"
SHA = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"
FIXTURE = {
    "projects": {"web": {"environments": ["test"]}},
    "aviator": {"projects": {"web-pipelines": {"environments": ["production"]}}},
}
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
    def __init__(self, root: Path, state: Path, entry_point: EntryPoint) -> None:
        self.root = root
        self.state = state
        self._entry_point = entry_point

    def run(self, *args: str) -> tuple[int, str, str]:
        code, out, err = self._entry_point(*args)
        assert TOKEN not in out + err
        return code, out, err

    def apply(self, name: str) -> tuple[int, str, str]:
        (self.root / "pipelines" / "web" / "standard.yaml").write_text(PIPELINE.format(name=name))
        return self.run("apply", "--yes", "--sandbox", str(self.state))

    def deployments(self) -> list[dict]:
        return json.loads(self.state.read_text())["aviator"]["web-pipelines"]["deployments"]


@pytest.fixture
def workspace(tmp_path: Path, seeded_state, monkeypatch: pytest.MonkeyPatch,
              entry_point: EntryPoint) -> Workspace:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pipelines" / "web").mkdir(parents=True)
    for name in [n for n in os.environ if n.startswith(("AVIATOR_", "GITHUB_"))]:
        monkeypatch.delenv(name)
    for name, value in {"AVIATOR_API_TOKEN": TOKEN, "AVIATOR_PROJECT": "web-pipelines",
                        "AVIATOR_ENVIRONMENT": "production", "GITHUB_SHA": SHA,
                        "GITHUB_REPOSITORY": "acme/pipelines"}.items():
        monkeypatch.setenv(name, value)
    return Workspace(tmp_path, seeded_state(FIXTURE), entry_point)


def test_apply_reports_then_the_list_shows_it(workspace: Workspace) -> None:
    code, out, err = workspace.apply("Standard")
    assert code == 0 and "Apply: 1 done" in out
    assert [line for line in err.splitlines() if line.startswith("aviator:")][-1].endswith(
        "-1a2b3c4-rc1 success")
    code, out, err = workspace.run("aviator", "deployments", "--sandbox", str(workspace.state))
    assert code == 0, err
    header, columns, row = out.splitlines()
    assert header == "web-pipelines / production: 1 most recent deployment"
    assert columns.split() == ["STATUS", "VERSION", "FROM", "VERSION", "STARTED", "(UTC)",
                               "ENDED", "(UTC)", "ACTOR"]
    assert row.split()[0] == "success" and row.split()[1].endswith("-1a2b3c4-rc1")


def test_a_no_change_apply_reports_nothing(workspace: Workspace) -> None:
    workspace.apply("Standard")
    before = workspace.deployments()
    code, out, err = workspace.apply("Standard")
    assert code == 0 and "No changes" in out
    assert "aviator" not in err.lower()
    assert workspace.deployments() == before


@pytest.mark.parametrize(("variable", "value", "reason"), [
    ("AVIATOR_PROJECT", "", "Aviator is partly configured: AVIATOR_PROJECT not set (set all "
                            "of AVIATOR_API_TOKEN, AVIATOR_PROJECT, AVIATOR_ENVIRONMENT, or none)"),
    ("GITHUB_SHA", "not-a-sha", "cannot tell the commit: GITHUB_SHA 'not-a-sha' is not a "
                                "commit SHA"),
])
def test_unusable_settings_are_one_warning_and_apply_goes_on(
        workspace: Workspace, monkeypatch: pytest.MonkeyPatch, variable: str, value: str,
        reason: str) -> None:
    monkeypatch.setenv(variable, value)
    code, out, err = workspace.apply("Standard")
    assert code == 0 and "Apply: 1 done" in out
    assert [line for line in err.splitlines() if "viator" in line] == [
        f"warning: Aviator: not reporting this apply: {reason}"
    ]
    assert workspace.deployments() == []


def test_an_unknown_environment_is_a_warning_and_apply_goes_on(
        workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AVIATOR_ENVIRONMENT", "staging")
    code, out, err = workspace.apply("Standard")
    assert code == 0 and "Apply: 1 done" in out
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2
    assert all("/environments/staging/deployments: 404 Release environment not found" in w
               for w in warnings)


def test_the_list_needs_aviator_configured(workspace: Workspace,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AVIATOR_API_TOKEN")
    code, _, err = workspace.run("aviator", "deployments", "--sandbox", str(workspace.state))
    assert code == 1
    assert err.startswith("error: Aviator is partly configured: AVIATOR_API_TOKEN not set")
    for name in ("AVIATOR_PROJECT", "AVIATOR_ENVIRONMENT"):
        monkeypatch.delenv(name)
    code, _, err = workspace.run("aviator", "deployments")
    assert code == 1
    assert err == ("error: Aviator is not configured: set AVIATOR_API_TOKEN, AVIATOR_PROJECT, "
                   "AVIATOR_ENVIRONMENT\n")


def test_an_empty_environment_says_so(workspace: Workspace) -> None:
    code, out, _ = workspace.run("aviator", "deployments", "--sandbox", str(workspace.state))
    assert (code, out) == (0, "web-pipelines / production: no deployments\n")


def test_the_table_shows_times_in_utc_and_dashes_for_nothing() -> None:
    rows = [
        Deployment(id=2, status="in_progress", release_candidate_version="2.0-rc1",
                   from_release_candidate_version="1.0-rc1",
                   deploy_start_at="2026-08-06T14:00:00+02:00", actor="ana@example.com"),
        Deployment(id=1, status="success", release_candidate_version="1.0-rc1",
                   deploy_start_at="2026-08-05T10:00:00.123Z",
                   deploy_end_at="yesterday"),
    ]
    assert deployments_table(rows).splitlines() == [
        "STATUS       VERSION  FROM VERSION  STARTED (UTC)        ENDED (UTC)  ACTOR",
        "in_progress  2.0-rc1  1.0-rc1       2026-08-06 12:00:00  -            ana@example.com",
        "success      1.0-rc1  -             2026-08-05 10:00:00  yesterday    -",
    ]
