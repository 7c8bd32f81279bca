"""Colour and progress on the terminal: one decision for every command, and an apply log
that the progress bar never erases."""

import io
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from reconciler.apply import StepResult, StepStatus
from reconciler.cli import cli
from reconciler.cli.colour import draws_bar, wants_colour
from reconciler.cli.progress import StepProgress
from reconciler.plan import Action
from reconciler.sandbox import seed_state
from tests.builders import dump_yaml, pipeline, project

ESC = "\x1b["


@pytest.mark.parametrize(("choice", "terminal", "environ", "expected"), [
    ("auto", True, {}, True),
    ("auto", False, {}, False),
    ("auto", True, {"NO_COLOR": "1"}, False),
    ("auto", True, {"NO_COLOR": "0"}, False),  # any value, "0" included
    ("auto", True, {"NO_COLOR": ""}, True),  # empty: as if unset (no-color.org)
    ("auto", False, {"FORCE_COLOR": "1"}, True),
    ("auto", False, {"FORCE_COLOR": ""}, False),
    ("auto", True, {"NO_COLOR": "1", "FORCE_COLOR": "1"}, False),
    ("auto", True, {"TERM": "dumb"}, False),
    ("auto", False, {"TERM": "dumb", "FORCE_COLOR": "1"}, True),
    ("always", False, {"NO_COLOR": "1", "TERM": "dumb"}, True),
    ("never", True, {"FORCE_COLOR": "1"}, False),
])
def test_one_decision(choice: str, terminal: bool, environ: dict[str, str],
                      expected: bool) -> None:
    assert wants_colour(choice, terminal, environ) is expected


def test_no_bar_on_a_dumb_terminal_or_off_a_terminal() -> None:
    assert draws_bar(True, {"TERM": "xterm-256color"})
    assert not draws_bar(True, {"TERM": "dumb"})
    assert not draws_bar(False, {})


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    seed_state(tmp_path / "state.json",
               {"projects": {"web": project([pipeline("main", name="Live")])}})
    (tmp_path / "pipelines" / "web").mkdir(parents=True)
    dump_yaml(pipeline("main", name="Git"), tmp_path / "pipelines" / "web" / "main.yaml")
    monkeypatch.chdir(tmp_path)
    for name in ("NO_COLOR", "FORCE_COLOR", "TERM"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def plan_output(*args: str, env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(cli, [*args, "--sandbox", "state.json"], env=env)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.usefixtures("workspace")
def test_the_environment_and_the_flag_through_the_cli() -> None:
    assert ESC not in plan_output("plan")  # not a terminal
    assert ESC in plan_output("plan", env={"FORCE_COLOR": "1"})
    assert ESC not in plan_output("plan", env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert ESC not in plan_output("plan", "--color", "never", env={"FORCE_COLOR": "1"})
    assert ESC in plan_output("plan", "--color", "always", env={"NO_COLOR": "1"})
    assert ESC in plan_output("--color", "always", "plan")  # the group's option
    assert ESC not in plan_output("--color", "always", "plan", "--color", "never")
    coloured = plan_output("plan", "--color", "always")
    assert '\x1b[33m~\x1b[0m /name: "Live" -> "Git"' in coloured


@pytest.mark.parametrize("command", [
    ["validate"], ["plan"], ["apply"], ["drift"], ["export"], ["graph"], ["schema"],
    ["sandbox", "serve"], ["sandbox", "seed"], ["aviator", "deployments"],
])
def test_every_command_takes_color(command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0 and "--color [auto|always|never]" in result.output


def result(key: str, status: StepStatus, error: str | None = None) -> StepResult:
    return StepResult(project="web", action=Action.UPDATE, key=key, status=status, error=error)


def test_the_bar_keeps_every_step_line_above_it() -> None:
    console = Console(file=io.StringIO(), force_terminal=True, record=True, width=100)
    with StepProgress(3, bar=True, colour=False, console=console) as progress:
        progress.advance(result("a", StepStatus.DONE))
        progress.advance(result("b", StepStatus.FAILED, "400 invalid_request: bad [phase]"))
        progress.advance(result("c", StepStatus.NOT_RUN))
    # The record also holds the bar's frames; what stays besides them is the log.
    log = re.sub(r"applying [━╸╺ ]+ \d+/\d+", "", console.export_text())
    assert [line for line in log.splitlines() if line] == [
        "web: update a ... done",
        "web: update b ... failed: 400 invalid_request: bad [phase]",
        "web: update c ... not run",
    ]


def test_without_a_bar_one_plain_line_per_step(capsys: pytest.CaptureFixture[str]) -> None:
    with StepProgress(2, bar=False, colour=False) as progress:
        progress.advance(result("a", StepStatus.DONE))
        progress.advance(result("b", StepStatus.FAILED, "boom"))
    assert capsys.readouterr().out == "web: update a ... done\nweb: update b ... failed: boom\n"
