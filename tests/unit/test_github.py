"""The PR plan comment and the drift issue, end to end through the public functions,
against an in-memory fake of GitHub's REST API (reached through respx)."""

import json
import time
from pathlib import Path

import httpx
import pytest
from fake_github import API, PULL, REPO, TOKEN, FakeGitHub

from reconciler.errors import SettingsError
from reconciler.github import (
    post_plan_comment,
    publish_drift_issue,
    publish_plan_comment,
    sync_drift_issue,
)
from reconciler.github.client import MAX_RETRIES
from reconciler.github.comments import COMMENT_LIMIT, MAX_PARTS
from reconciler.github.issues import LABEL, MARKER, TITLE
from reconciler.github.markdown import Open, size


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"number": PULL, "pull_request": {
        "number": PULL, "head": {"sha": "0123456789abcdef"}}}))
    return {"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": REPO, "GITHUB_API_URL": API,
            "GITHUB_EVENT_PATH": str(event), "GITHUB_SERVER_URL": "https://github.test",
            "GITHUB_RUN_ID": "77", "GITHUB_SHA": "fedcba9876543210"}


def plan_markdown(pipelines: int, diff_lines: int = 5) -> str:
    """A plan shaped like render_markdown's: summary table, then a diff per pipeline."""
    rows = "".join(f"| web | p{i} | update |\n" for i in range(pipelines))
    diffs = "".join(
        f"<details><summary>web/p{i}: update</summary>\n\n```diff\n"
        + "".join(f"- phases[{n}].name: old value {'x' * 80}\n+ phases[{n}].name: new\n"
                  for n in range(diff_lines))
        + "```\n\n</details>\n\n"
        for i in range(pipelines))
    return f"## reconciler plan\n\n| project | pipeline | action |\n|---|---|---|\n{rows}\n{diffs}"


NO_CHANGES = "## reconciler plan\n\nNo changes: live matches git.\n"


def test_first_plan_creates_one_comment_with_marker(
        github: FakeGitHub, environ: dict[str, str]) -> None:
    github.comments[1] = {"id": 1, "issue": PULL, "body": "LGTM"}
    result = post_plan_comment(plan_markdown(2), environ)
    ours = [c for c in github.comments_on(PULL) if c["id"] != 1]
    assert len(ours) == 1
    body = ours[0]["body"]
    assert body.startswith("<!-- reconciler:plan part 1 -->\n")
    assert plan_markdown(2) in body
    assert "commit 0123456789ab" in body
    assert "https://github.test/acme/pipelines/actions/runs/77" in body
    assert "part 1 of" not in body  # a single part needs no numbering
    assert github.comments[1]["body"] == "LGTM"
    assert "1 created" in result


def test_later_plans_update_the_same_comment(
        github: FakeGitHub, environ: dict[str, str]) -> None:
    post_plan_comment(plan_markdown(2), environ)
    (first,) = github.comments_on(PULL)
    github.comments[1] = {"id": 1, "issue": PULL, "body": "a reviewer's comment"}
    post_plan_comment(plan_markdown(3), environ)
    post_plan_comment(NO_CHANGES, environ)
    ours = [c for c in github.comments_on(PULL) if c["id"] != 1]
    assert [c["id"] for c in ours] == [first["id"]]
    assert NO_CHANGES in ours[0]["body"]
    assert github.methods.count("POST") == 1


def test_an_unchanged_plan_is_not_edited(github: FakeGitHub, environ: dict[str, str]) -> None:
    post_plan_comment(NO_CHANGES, environ)
    post_plan_comment(NO_CHANGES, environ)
    assert github.methods == ["GET", "POST", "GET"]


def test_a_long_plan_is_split_into_numbered_parts_then_shrinks(
        github: FakeGitHub, environ: dict[str, str]) -> None:
    markdown = plan_markdown(40, diff_lines=30)
    assert 2 * COMMENT_LIMIT < len(markdown) < 3 * COMMENT_LIMIT
    post_plan_comment(markdown, environ)
    parts = github.comments_on(PULL)
    assert len(parts) == 3
    for number, comment in enumerate(parts, start=1):
        body = comment["body"]
        assert body.startswith(f"<!-- reconciler:plan part {number} -->\n"
                               f"**Plan, part {number} of 3**\n")
        assert size(body) <= COMMENT_LIMIT
        # Every part renders on its own: no code block or <details> is left open.
        state = Open()
        for line in body.splitlines():
            state = state.after(line)
        assert state == Open()
    assert "workflow run" in parts[-1]["body"] and "workflow run" not in parts[0]["body"]

    post_plan_comment(NO_CHANGES, environ)
    (left,) = github.comments_on(PULL)
    assert left["id"] == parts[0]["id"]  # part 1 edited in place, the surplus deleted
    assert NO_CHANGES in left["body"]
    assert github.methods.count("DELETE") == 2


def test_a_huge_plan_stops_at_the_part_cap(github: FakeGitHub,
                                           environ: dict[str, str]) -> None:
    post_plan_comment(plan_markdown(40, diff_lines=30) * 5, environ)
    parts = github.comments_on(PULL)
    assert len(parts) == MAX_PARTS
    assert "JSON plan artifact" in parts[-1]["body"]
    assert all(size(c["body"]) <= COMMENT_LIMIT for c in parts)


def test_comments_are_found_past_the_first_page(github: FakeGitHub,
                                                environ: dict[str, str]) -> None:
    github.page_size = 10
    post_plan_comment(NO_CHANGES, environ)
    for n in range(35):
        github.comments[n] = {"id": n, "issue": PULL, "body": f"discussion {n}"}
    post_plan_comment(plan_markdown(1), environ)
    assert len(github.comments_on(PULL)) == 36
    assert github.methods.count("POST") == 1


def test_duplicate_parts_from_racing_runs_are_removed(github: FakeGitHub,
                                                      environ: dict[str, str]) -> None:
    for comment_id in (10, 11):
        github.comments[comment_id] = {"id": comment_id, "issue": PULL,
                                       "body": "<!-- reconciler:plan part 1 -->\nold"}
    github.comments[12] = {"id": 12, "issue": PULL, "body": "> <!-- reconciler:plan part 1 -->"}
    post_plan_comment(NO_CHANGES, environ)
    assert sorted(github.comments) == [10, 12]
    assert NO_CHANGES in github.comments[10]["body"]


def test_missing_settings_fail_before_any_request(github: FakeGitHub,
                                                  environ: dict[str, str]) -> None:
    with pytest.raises(SettingsError, match="GITHUB_TOKEN"):
        post_plan_comment(NO_CHANGES, {**environ, "GITHUB_TOKEN": ""})
    with pytest.raises(SettingsError, match="GITHUB_EVENT_PATH"):
        post_plan_comment(NO_CHANGES, {k: v for k, v in environ.items()
                                       if k != "GITHUB_EVENT_PATH"})
    assert github.methods == []


@pytest.mark.parametrize("status", [403, 500, 503])
def test_publish_warns_on_github_errors_and_carries_on(
        github: FakeGitHub, environ: dict[str, str], status: int,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr(time, "sleep", sleeps.append)
    github.fail_with = httpx.Response(status, json={"message": f"boom {TOKEN}"})
    comment = publish_plan_comment(NO_CHANGES, environ)
    issue = publish_drift_issue(None, environ)
    # A 5xx on a read was retried before giving up; a permission error was not.
    assert len(sleeps) == (0 if status == 403 else 2 * MAX_RETRIES)
    assert comment.startswith("warning: the plan was not posted to the pull request: ")
    assert issue.startswith("warning: the drift issue was not updated: ")
    assert TOKEN not in comment + issue
    shown = capsys.readouterr()  # (retry notices are logged; a CLI run before may show them)
    assert comment not in shown.out + shown.err and issue not in shown.out + shown.err


def test_publish_reports_what_it_did(github: FakeGitHub, environ: dict[str, str],
                                     capsys: pytest.CaptureFixture[str]) -> None:
    comment = publish_plan_comment(NO_CHANGES, environ)
    assert comment.startswith(f"github: pull request #{PULL}: plan comment in 1 part")
    issue = publish_drift_issue("drift!", environ)
    assert issue == f"github: drift issue: opened #{PULL + 1}"
    shown = capsys.readouterr()
    assert comment not in shown.out + shown.err and issue not in shown.out + shown.err


def test_publish_lets_missing_settings_fail_the_command(environ: dict[str, str]) -> None:
    with pytest.raises(SettingsError):
        publish_plan_comment(NO_CHANGES, {**environ, "GITHUB_TOKEN": ""})
    with pytest.raises(SettingsError):
        publish_drift_issue(None, {**environ, "GITHUB_REPOSITORY": ""})


DRIFT = ("## Drift\n\n| project | pipeline | field | live | git |\n|---|---|---|---|---|\n"
         "| web | standard | /phases/0/name | Phase A | Phase 1 |\n")


def test_drift_issue_life_cycle(github: FakeGitHub, environ: dict[str, str]) -> None:
    assert sync_drift_issue(None, environ) == "nothing to do"
    assert sync_drift_issue(DRIFT, environ) == "opened #6"
    (issue,) = github.open_drift_issues()
    assert issue["title"] == TITLE and issue["labels"] == [LABEL]
    assert issue["body"].startswith(MARKER) and DRIFT in issue["body"]
    assert "commit fedcba987654" in issue["body"]

    worse = DRIFT + "| web | canary | /tags | [a] | [] |\n"
    assert sync_drift_issue(worse, environ) == "updated #6"
    assert sync_drift_issue(worse, environ) == "updated #6"
    (issue,) = github.open_drift_issues()
    assert worse in issue["body"]

    assert sync_drift_issue(None, environ) == "closed #6"
    assert github.open_drift_issues() == []
    assert github.issues[6]["state_reason"] == "completed"
    (closing,) = github.comments_on(6)
    assert "Live matches git again" in closing["body"]
    assert sync_drift_issue(None, environ) == "nothing to do"

    # Drift again later: a fresh issue, still only one open.
    assert sync_drift_issue(DRIFT, environ) == "opened #7"
    assert [i["number"] for i in github.open_drift_issues()] == [7]


def test_never_two_open_drift_issues(github: FakeGitHub, environ: dict[str, str]) -> None:
    for number in (20, 21):
        github.issues[number] = {"number": number, "title": TITLE, "state": "open",
                                 "labels": [LABEL], "body": f"{MARKER}\nold"}
    assert sync_drift_issue(DRIFT, environ) == "updated #20"
    assert [i["number"] for i in github.open_drift_issues()] == [20]
    assert github.issues[21]["state_reason"] == "not_planned"
    assert github.comments_on(21)[0]["body"] == "Duplicate of #20."


def test_issues_that_are_not_ours_are_left_alone(github: FakeGitHub,
                                                 environ: dict[str, str]) -> None:
    human = {"number": 30, "title": "Why did web drift?", "state": "open", "labels": [LABEL],
             "body": "Someone edited the pipeline in the UI"}
    github.issues[30] = dict(human)
    github.issues[PULL]["labels"] = [LABEL]
    github.issues[PULL]["body"] = f"{MARKER}\na pull request quoting the marker"
    assert sync_drift_issue(DRIFT, environ) == "opened #31"
    assert sync_drift_issue(None, environ) == "closed #31"
    assert github.issues[30] == human
    assert github.issues[PULL]["state"] == "open"


def test_a_huge_drift_report_is_cut_to_fit(github: FakeGitHub,
                                           environ: dict[str, str]) -> None:
    report = DRIFT + "".join(f"| web | p{i} | /name | {'x' * 100} | y |\n" for i in range(2000))
    sync_drift_issue(report, environ)
    (issue,) = github.open_drift_issues()
    assert size(issue["body"]) <= COMMENT_LIMIT
    assert "full report is in the workflow log" in issue["body"]
