"""A first import of many projects: `export` with `--project` given more than once, through
the real CLI against the in-process sandbox, then a plan of what was written."""

from pathlib import Path

import pytest

from reconciler.errors import ApiError
from reconciler.launchdarkly import LaunchDarklyClient
from tests.builders import pipeline, project
from tests.entry_point import EntryPoint


def test_every_listed_project_is_written_and_plans_to_nothing(
        tmp_path: Path, seeded_state, monkeypatch: pytest.MonkeyPatch,
        entry_point: EntryPoint) -> None:
    monkeypatch.chdir(tmp_path)
    state = str(seeded_state({"projects": {
        "web": project([pipeline("standard"), pipeline("hotfix")]),
        "mobile": project([pipeline("beta")]),
        "other": project([pipeline("left-out")]),
    }}))
    code, out, err = entry_point("export", "--sandbox", state,
                                 "--project", "web", "--project", "mobile", "--project", "web")
    assert code == 0, err
    assert out.splitlines()[-3:] == ["exported 2 pipelines of 'web'", "wrote "
                                     "pipelines/mobile/beta.yaml", "exported 1 pipeline of "
                                     "'mobile'"]
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.yaml"))
    assert written == ["pipelines/mobile/beta.yaml", "pipelines/web/hotfix.yaml",
                       "pipelines/web/standard.yaml"]
    code, out, err = entry_point("plan", "--sandbox", state, "--detailed-exitcode")
    assert code == 0, out + err


def test_a_project_that_cannot_be_read_writes_nothing(
        tmp_path: Path, seeded_state, monkeypatch: pytest.MonkeyPatch,
        entry_point: EntryPoint) -> None:
    monkeypatch.chdir(tmp_path)
    state = str(seeded_state({"projects": {"web": project([pipeline("standard")])}}))
    code, _, err = entry_point("export", "--sandbox", state,
                       "--project", "web", "--project", "missing")
    assert code == 1 and "missing" in err
    assert not (tmp_path / "pipelines").exists()


def _refuse_policies(status: int):
    async def refused(self, project: str) -> list[dict]:
        raise ApiError("GET", f"/api/v2/projects/{project}/release-policies", status,
                       "forbidden: the release policies beta is not enabled")
    return refused


def test_an_account_without_the_policies_beta_still_exports_its_pipelines(
        tmp_path: Path, seeded_state, monkeypatch: pytest.MonkeyPatch,
        entry_point: EntryPoint) -> None:
    monkeypatch.chdir(tmp_path)
    state = str(seeded_state({"projects": {"web": project([pipeline("standard")])}}))
    monkeypatch.setattr(LaunchDarklyClient, "list_policies", _refuse_policies(403))
    code, out, err = entry_point("export", "--sandbox", state, "--project", "web")
    assert code == 0, err
    assert out.splitlines()[-1] == "exported 1 pipeline of 'web'"
    assert err.splitlines() == [
        "notice: release policies of 'web' not exported: GET "
        "/api/v2/projects/web/release-policies: 403 forbidden: the release policies beta is "
        "not enabled"]
    assert (tmp_path / "pipelines/web/standard.yaml").exists()


def test_any_other_policy_listing_error_writes_nothing(
        tmp_path: Path, seeded_state, monkeypatch: pytest.MonkeyPatch,
        entry_point: EntryPoint) -> None:
    monkeypatch.chdir(tmp_path)
    state = str(seeded_state({"projects": {"web": project([pipeline("standard")])}}))
    monkeypatch.setattr(LaunchDarklyClient, "list_policies", _refuse_policies(500))
    code, _, err = entry_point("export", "--sandbox", state, "--project", "web")
    assert code == 1 and "500" in err
    assert not (tmp_path / "pipelines").exists()
