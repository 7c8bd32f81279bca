"""GitHub Actions' surfaces: workflow-command annotations (escaping, GitHub's per-step cap),
the job summary (its 1 MiB cap), and the plan comment marked out of date when the files
fail, through the real CLI against the in-process sandbox and the fake GitHub."""

import json
import os
import re
from pathlib import Path

import pytest
from fake_github import API, PULL, REPO, TOKEN, FakeGitHub

from reconciler.errors import ApiError
from reconciler.github.workflow import (
    SUMMARY_LIMIT,
    Annotation,
    capped,
    escape_data,
    escape_property,
    summary_text,
)
from reconciler.launchdarkly import LaunchDarklyClient
from tests.builders import dump_yaml, pipeline, project
from tests.entry_point import EntryPoint

# The workflow-command grammar the runner parses: `::kind props::message`, one line.
COMMAND = re.compile(r"::(error|warning|notice)( [^:]*)?::(.*)")


def unescape(value: str) -> str:
    """The runner's decoding, written from GitHub's documented table."""
    for escaped, raw in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","),
                         ("%25", "%")):
        value = value.replace(escaped, raw)
    return value


def parse(line: str) -> tuple[str, dict[str, str], str]:
    """(kind, properties, message) as the runner reads one line."""
    match = COMMAND.fullmatch(line)
    assert match, line
    props = {}
    for prop in (match.group(2) or "").strip().split(","):
        if prop:
            name, value = prop.split("=", 1)
            props[name] = unescape(value)
    return match.group(1), props, unescape(match.group(3))


HOSTILE = [
    "plain.yaml",
    "a,title=forged.yaml",
    "x::error::injected.yaml",
    "line\nbreak::warning::x",
    "percent%0A::error::encoded",
    "cr\rreturn",
    "colon:comma,both%",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_every_value_round_trips_and_stays_on_one_line(text: str) -> None:
    line = Annotation("error", f"{text} is wrong", title=f"t {text}", file=text, line=3,
                      col=7).command()
    assert "\n" not in line and "\r" not in line
    kind, props, message = parse(line)
    assert kind == "error"
    assert props == {"file": text, "line": "3", "col": "7", "title": f"t {text}"}
    assert message == f"{text} is wrong"


def test_escaping_follows_githubs_table() -> None:
    assert escape_data("50% a:b,c\r\n") == "50%25 a:b,c%0D%0A"
    assert escape_property("50% a:b,c\r\n") == "50%25 a%3Ab%2Cc%0D%0A"
    # Already-escaped text is escaped again, so it decodes to itself, not to a line break.
    assert escape_data("%0A") == "%250A"
    # Other control characters are shown, never sent raw.
    assert escape_data("\x1b[31mred") == "\\x1b[31mred"


def test_past_the_cap_the_last_annotation_counts_the_rest() -> None:
    errors = [Annotation("error", f"e{i}", file=f"f{i}.yaml", line=1) for i in range(25)]
    warnings = [Annotation("warning", f"w{i}") for i in range(3)]
    lines = capped(errors + warnings, "see the log")
    parsed = [parse(line) for line in lines]
    assert [kind for kind, _, _ in parsed] == ["error"] * 10 + ["warning"] * 3
    assert [message for _, _, message in parsed[:9]] == [f"e{i}" for i in range(9)]
    assert parsed[9][2] == ("16 more errors not shown as annotations (GitHub shows 10 per "
                            "step): see the log")
    exactly = capped(errors[:10], "see the log")
    assert [parse(line)[2] for line in exactly] == [f"e{i}" for i in range(10)]


def test_the_summary_fits_what_is_left_of_its_mebibyte() -> None:
    small = "## Plan\n\nno changes\n"
    assert summary_text(small, 0) == small + "\n"
    huge = "".join(f"- line {i} with some text é\n" for i in range(60_000))  # ~1.6 MB
    used = 300_000
    text = summary_text(huge, used)
    assert used + len(text.encode()) <= SUMMARY_LIMIT
    assert text.startswith("- line 0 ") and text.endswith("the rest is in the workflow log.**\n")
    assert summary_text(huge, SUMMARY_LIMIT - 50) == ""


class Run(EntryPoint):
    """The CLI in a workspace `root` whose job summary is `summary`."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch,
                 capsys: pytest.CaptureFixture[str]) -> None:
        super().__init__(monkeypatch, capsys)
        self.root = root
        self.summary = root / "step_summary.md"


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> Run:
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith(("AVIATOR_", "GITHUB_"))]:
        monkeypatch.delenv(name)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": PULL, "head": {"sha": "abc"}}}))
    actions = Run(tmp_path, monkeypatch, capsys)
    for name, value in {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(actions.summary),
                        "GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": REPO, "GITHUB_API_URL": API,
                        "GITHUB_EVENT_PATH": str(event), "GITHUB_SERVER_URL": "https://gh.test",
                        "GITHUB_RUN_ID": "77"}.items():
        monkeypatch.setenv(name, value)
    return actions


def annotations(err: str) -> list[tuple[str, dict[str, str], str]]:
    return [parse(line) for line in err.splitlines() if line.startswith("::")]


def test_validate_annotates_hostile_file_names_without_injection(run: Run) -> None:
    folder = run.root / "pipelines" / "web"
    folder.mkdir(parents=True)
    names = ["a,b::error::x%0A.yaml", "c::warning title=x::y.yaml"]
    for name in names:
        (folder / name).write_text("key: a\nname: [\n")
    code, _, err = run("validate")
    assert code == 1
    lines = [line for line in err.splitlines() if line.startswith("::")]
    # Only our two commands: nothing in a name started a command of its own.
    assert len(lines) == 2
    found = {props["file"]: (kind, props["line"], props["col"], message)
             for kind, props, message in annotations(err)}
    assert set(found) == {f"pipelines/web/{name}" for name in names}
    for kind, line, col, message in found.values():
        assert (kind, line, col) == ("error", "3", "1")
        assert message.startswith("YAML syntax error")


def test_a_yaml_value_with_a_newline_cannot_start_a_command(run: Run) -> None:
    folder = run.root / "pipelines" / "web"
    folder.mkdir(parents=True)
    (folder / "a.yaml").write_text('key: a\nname: A\nphases: "\\n::error::forged%0A"\n')
    code, _, err = run("validate")
    assert code == 1
    commands = [line for line in err.splitlines() if line.startswith("::")]
    assert len(commands) == 1
    assert commands[0].startswith("::error file=pipelines/web/a.yaml,line=3,col=9,")
    # The value arrives as written: the runner decodes %250A to the text %0A, not a newline.
    assert parse(commands[0])[2].endswith("('\\n::error::forged%0A')")


def test_twelve_broken_files_make_ten_annotations(run: Run) -> None:
    folder = run.root / "pipelines" / "web"
    folder.mkdir(parents=True)
    for i in range(12):
        (folder / f"p{i:02}.yaml").write_text("key: [\n")
    code, _, err = run("validate")
    assert code == 1
    found = annotations(err)
    assert len(found) == 10
    assert [props["file"] for _, props, _ in found[:9]] == [
        f"pipelines/web/p{i:02}.yaml" for i in range(9)]
    assert found[9][2].startswith("3 more errors not shown as annotations")


def test_outside_actions_nothing_is_annotated_or_summarised(
        run: Run, monkeypatch: pytest.MonkeyPatch, seeded_state) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS")
    (run.root / "pipelines" / "web").mkdir(parents=True)
    (run.root / "pipelines" / "web" / "a.yaml").write_text("key: [\n")
    code, _, err = run("validate")
    assert code == 1 and "::" not in err
    assert not run.summary.exists()


def seed_web(run: Run, seeded_state, **web: object) -> Path:
    state = seeded_state({"projects": {"web": project([pipeline("standard")], **web)}})
    folder = run.root / "pipelines" / "web"
    folder.mkdir(parents=True, exist_ok=True)
    dump_yaml(pipeline("standard", name="Standard Pipeline"), folder / "standard.yaml")
    return state


def test_plan_drift_and_apply_append_to_the_job_summary(run: Run, seeded_state) -> None:
    state = str(seed_web(run, seeded_state))
    assert run("plan", "--sandbox", state)[0] == 0
    assert run("drift", "--sandbox", state)[0] == 2
    assert run("apply", "--sandbox", state, "--yes")[0] == 0
    summary = run.summary.read_text()
    heads = re.findall(r"<sub>reconciler (\w+)</sub>", summary)
    assert heads == ["plan", "drift", "apply"]
    plan, drift, applied = re.split(r"<sub>reconciler \w+</sub>\n\n", summary)[1:]
    assert plan.startswith("## Release pipelines plan") and "Standard Pipeline" in plan
    assert drift.startswith("## Live release pipelines differ from git")
    assert applied.rstrip().endswith("**Apply: 1 done, 0 failed, 0 not run.**")


def test_a_blocked_change_is_a_warning(run: Run, seeded_state) -> None:
    state = str(seed_web(run, seeded_state, active={"standard": ["new-checkout"]}))
    dump_yaml({**pipeline("standard", name="Standard Pipeline"),
               "phases": [{"name": "Only", "audiences": [{"name": "All",
                                                          "environmentKey": "production"}]}]},
              run.root / "pipelines" / "web" / "standard.yaml")
    code, _, err = run("plan", "--sandbox", state)
    assert code == 1
    (warning,) = annotations(err)
    assert warning[0] == "warning" and warning[1] == {"title": "reconciler: web blocked"}
    assert warning[2].startswith("update standard blocked: ")
    assert warning[2].endswith("; flags in flight: new-checkout")


def test_failing_files_mark_the_plan_comment_out_of_date(
        run: Run, seeded_state, github: FakeGitHub) -> None:
    state = str(seed_web(run, seeded_state))
    assert run("plan", "--sandbox", state, "--github-comment")[0] == 0
    (comment,) = github.comments_on(PULL)
    assert "Standard Pipeline" in comment["body"]
    other = {"id": 1, "issue": PULL, "body": "<!-- reconciler:plan scope=shard-1-of-2 part 1 "
                                                 "-->\nanother scope's plan"}
    github.comments[1] = other

    (run.root / "pipelines" / "web" / "standard.yaml").write_text("key: [\n")
    code, _, err = run("plan", "--sandbox", state, "--github-comment")
    assert code == 1
    assert annotations(err)[0][1]["file"] == "pipelines/web/standard.yaml"
    assert f"github: marked out of date: pull request #{PULL}: plan comment in 1 part, " \
           "0 created, 1 updated, 0 deleted" in err
    stale = github.comments[comment["id"]]["body"]
    assert "Standard Pipeline" not in stale
    assert "**Out of date: no current plan.**" in stale
    assert "(1 error in 1 file)" in stale
    assert "[workflow run](https://gh.test/acme/pipelines/actions/runs/77)" in stale
    assert github.comments[1] == other  # another scope's comment is left alone

    dump_yaml(pipeline("standard", name="Fixed"), run.root / "pipelines" / "web" /
              "standard.yaml")
    assert run("plan", "--sandbox", state, "--github-comment")[0] == 0
    assert "Out of date" not in github.comments[comment["id"]]["body"]


def test_a_project_that_cannot_be_read_is_an_error(
        run: Run, seeded_state, monkeypatch: pytest.MonkeyPatch) -> None:
    state = str(seed_web(run, seeded_state))

    async def refused(self: LaunchDarklyClient, project_key: str) -> list[dict]:
        raise ApiError("GET", f"/api/v2/projects/{project_key}/release-pipelines", 403,
                       "Forbidden")

    monkeypatch.setattr(LaunchDarklyClient, "list_pipelines", refused)
    code, _, err = run("plan", "--sandbox", state)
    assert code == 1
    (error,) = annotations(err)
    assert error[:2] == ("error", {"title": "reconciler: web not read"})
    assert error[2].startswith("pipelines/web/ not planned: live could not be read: GET ")
