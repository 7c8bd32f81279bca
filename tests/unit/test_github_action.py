"""The composite action (action.yml) run end to end as a runner runs it: its steps' `run:`
scripts executed by `bash --noprofile --norc -eo pipefail` in order, with the inputs,
contexts, environment files ($GITHUB_OUTPUT, $GITHUB_PATH) and `if:` conditions a runner
gives, against the in-process sandbox (`--sandbox` through the `args` input) and, for
apply's head check, a fake GitHub API on loopback.

The install step really installs the package from a copy of the repository's tracked
files (as a runner checks out the action) into a fresh venv. Offline: the dependencies
come from this test environment on PYTHONPATH and the build runs without isolation.
"""

import json
import re
import shutil
import subprocess
import sys
import sysconfig
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from reconciler import __version__
from reconciler.sandbox.fixture import seed_state
from tests.builders import dump_yaml, pipeline, project

ROOT = Path(__file__).resolve().parents[2]
ACTION = YAML(typ="safe").load((ROOT / "action.yml").read_text())
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
CONDITION = re.compile(r"inputs\.([\w-]+) (==|!=) '([^']*)'")
TOKEN = "ghs_action0123456789abcdefghij"
REPO = "acme/pipelines"
HEAD = "c0ffee0000000000000000000000000000000001"
OLD = "c0ffee0000000000000000000000000000000000"
# Left out of the dependencies the package's own install sees: the package itself (it is
# what gets installed) and pip (the new venv has its own).
NOT_DEPENDENCIES = re.compile(r"reconciler.*|__editable__.*|pip|pip-.*|.*\.pth|__pycache__|"
                              r"_distutils_hack")


@dataclass
class StepResult:
    name: str
    code: int
    stdout: str
    stderr: str


@dataclass
class ActionRun:
    ok: bool
    outputs: dict[str, str]
    steps: list[StepResult]

    @property
    def log(self) -> str:
        return "".join(step.stdout + step.stderr for step in self.steps)


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines() if path.exists() else []:
        name, _, value = line.partition("=")
        values[name] = value
    return values


class Runner:
    """One job on a runner: RUNNER_TEMP and $GITHUB_PATH last the whole job."""

    def __init__(self, root: Path, action_path: Path, deps: Path, api_url: str) -> None:
        self.root = root
        self.temp = root / "runner-temp"
        self.temp.mkdir()
        self.path_file = self.temp / "github_path"
        self.path_file.touch()
        self.action_path = action_path
        tools = root / "tools"
        tools.mkdir()
        # What actions/setup-python would put first on PATH.
        (tools / "python").symlink_to(sys.executable)
        self.base_env = {
            "PATH": f"{tools}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(root),
            "PYTHONPATH": str(deps),
            "PIP_NO_INDEX": "1",
            "PIP_NO_BUILD_ISOLATION": "0",  # pip's spelling of "build without isolation"
            "RUNNER_TEMP": str(self.temp),
            "GITHUB_ACTIONS": "true",
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_API_URL": api_url,
            "GITHUB_REF": "refs/heads/main",
            "GITHUB_SHA": HEAD,
        }

    def context(self, expression: str, inputs: Mapping[str, str],
                outputs: Mapping[str, dict[str, str]]) -> str:
        if match := re.fullmatch(r"inputs\.([\w-]+)", expression):
            return inputs[match.group(1)]
        if match := re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expression):
            return outputs.get(match.group(1), {}).get(match.group(2), "")
        known = {"github.action_path": str(self.action_path), "github.token": TOKEN,
                 "github.event.repository.default_branch": "main"}
        assert expression in known, f"the test runner does not know ${{{{ {expression} }}}}"
        return known[expression]

    def expand(self, text: str, inputs: Mapping[str, str],
               outputs: Mapping[str, dict[str, str]]) -> str:
        return EXPRESSION.sub(lambda m: self.context(m.group(1), inputs, outputs), text)

    def run(self, cwd: Path, env: Mapping[str, str] | None = None,
            **given: str) -> ActionRun:
        defaults = {name: self.expand(str(spec.get("default", "")), {}, {})
                    for name, spec in ACTION["inputs"].items()}
        unknown = set(given) - set(defaults)
        assert not unknown, f"no such inputs: {unknown}"
        inputs = {**defaults, **{k.replace("_", "-"): v for k, v in given.items()}}
        outputs: dict[str, dict[str, str]] = {}
        results = []
        for number, step in enumerate(ACTION["runs"]["steps"]):
            if "if" in step:
                name, operator, value = CONDITION.fullmatch(step["if"]).groups()
                if (inputs[name] == value) != (operator == "=="):
                    continue
            if "uses" in step:  # set-up the runner does, or the cache: not run here
                assert step["uses"].startswith(("actions/setup-python@", "actions/cache@"))
                continue
            # Inputs reach scripts only through env: an input can never become shell code.
            assert "${{" not in step["run"], f"step {number} expands an expression in its script"
            assert step["shell"] == "bash"
            output_file = self.temp / f"output_{number}"
            output_file.touch()
            prepended = [line for line in self.path_file.read_text().splitlines() if line]
            step_env = {**self.base_env, **(env or {}),
                        **{k: self.expand(str(v), inputs, outputs)
                           for k, v in step.get("env", {}).items()},
                        "GITHUB_OUTPUT": str(output_file), "GITHUB_PATH": str(self.path_file),
                        "GITHUB_STEP_SUMMARY": str(self.temp / "summary.md")}
            step_env["PATH"] = ":".join([*reversed(prepended), step_env["PATH"]])
            script = self.temp / f"step_{number}.sh"
            script.write_text(step["run"])
            done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail",
                                   str(script)], cwd=cwd, env=step_env, capture_output=True,
                                  text=True, timeout=300, check=False)
            results.append(StepResult(self.expand(step.get("name", ""), inputs, outputs),
                                      done.returncode, done.stdout, done.stderr))
            if "id" in step:
                outputs[step["id"]] = read_env_file(output_file)
            if done.returncode != 0:
                return ActionRun(False, {}, results)
        action_outputs = {name: self.expand(spec["value"], inputs, outputs)
                          for name, spec in ACTION["outputs"].items()}
        return ActionRun(True, action_outputs, results)


class FakeHead(BaseHTTPRequestHandler):
    """GET /repos/OWNER/NAME/commits/BRANCH with `Accept: application/vnd.github.sha`."""

    def do_GET(self) -> None:
        ok = (self.path == f"/repos/{REPO}/commits/main"
              and self.headers.get("Accept") == "application/vnd.github.sha"
              and self.headers.get("Authorization") == f"Bearer {TOKEN}")
        body = HEAD.encode() if ok else b'{"message": "Not Found"}'
        self.send_response(200 if ok else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def api_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeHead)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory, api_url: str) -> Runner:
    root = tmp_path_factory.mktemp("runner")
    # The action as a runner checks it out: the repository's tracked files.
    action_path = root / "action"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                             check=True, timeout=60).stdout.decode().split("\0")
    for name in filter(None, tracked):
        if (ROOT / name).is_file():
            (action_path / name).parent.mkdir(parents=True, exist_ok=True)
            (action_path / name).write_bytes((ROOT / name).read_bytes())
    deps = root / "deps"
    deps.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not NOT_DEPENDENCIES.fullmatch(entry.name):
            (deps / entry.name).symlink_to(entry)
    return Runner(root, action_path, deps, api_url)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A config repository: only pipelines/, and a sandbox whose `web` differs from it."""
    seed_state(tmp_path / "state.json", {"projects": {"web": project([pipeline("standard")])}})
    (tmp_path / "pipelines" / "web").mkdir(parents=True)
    dump_yaml(pipeline("standard", name="Standard Pipeline"),
              tmp_path / "pipelines" / "web" / "standard.yaml")
    return tmp_path


def test_validate_installs_the_actions_own_version(runner: Runner, workspace: Path) -> None:
    run = runner.run(workspace, command="validate")
    assert run.ok, run.log
    assert f"reconciler, version {__version__}" in run.log
    assert run.outputs == {"exit-code": "0", "has-changes": "false", "plan-file": ""}
    assert "ok: 1 pipeline in 1 project" in run.steps[-1].stdout


@pytest.mark.parametrize(("cache", "kept"), [("true", True), ("false", False)])
def test_the_parse_cache_lives_where_actions_cache_keeps_it(
        runner: Runner, workspace: Path, cache: str, kept: bool) -> None:
    folder = runner.temp / "reconciler-cache"
    shutil.rmtree(folder, ignore_errors=True)  # the runner's temporary folder is shared
    run = runner.run(workspace, command="validate", cache=cache)
    assert run.ok, run.log
    assert (folder / "parse-cache.sqlite3").exists() is kept


def test_plan_outputs_changes_and_the_plan_file(runner: Runner, workspace: Path) -> None:
    run = runner.run(workspace, command="plan", format="markdown", args="--sandbox state.json")
    assert run.ok, run.log
    assert run.outputs["exit-code"] == "2" and run.outputs["has-changes"] == "true"
    saved = json.loads(Path(run.outputs["plan-file"]).read_text())
    assert [step["key"] for step in saved["projects"][0]["steps"]] == ["standard"]
    assert run.steps[-1].stdout.startswith("## Release pipelines plan")
    assert "Standard Pipeline" in (runner.temp / "summary.md").read_text()


def test_a_shard_and_projects_reach_the_command(runner: Runner, workspace: Path) -> None:
    run = runner.run(workspace, command="plan", shard="2/2", projects="web",
                     args="--sandbox state.json")
    # web is in shard 2 of 2 (sha256 of "web", worked out by hand).
    assert run.ok and run.outputs["has-changes"] == "true", run.log
    run = runner.run(workspace, command="drift", shard="1/2", args="--sandbox state.json")
    assert run.ok, run.log
    assert run.outputs["has-changes"] == "false"
    assert run.steps[-1].stdout == "Nothing to plan: shard 1/2 holds no projects.\n"


def test_drift_reports_without_failing_the_step(runner: Runner, workspace: Path) -> None:
    run = runner.run(workspace, command="drift", args="--sandbox state.json")
    assert run.ok, run.log
    assert run.outputs == {"exit-code": "2", "has-changes": "true", "plan-file": ""}


def test_failing_files_fail_the_step_with_annotations(runner: Runner, workspace: Path) -> None:
    (workspace / "pipelines" / "web" / "standard.yaml").write_text("key: [\n")
    run = runner.run(workspace, command="plan", args="--sandbox state.json")
    assert not run.ok
    assert "::error file=pipelines/web/standard.yaml,line=2,col=1," in run.steps[-1].stderr
    assert read_env_file(runner.temp / f"output_{len(ACTION['runs']['steps']) - 1}")[
        "exit-code"] == "1"


def test_apply_at_the_head_of_main_applies(runner: Runner, workspace: Path) -> None:
    run = runner.run(workspace, command="apply", args="--sandbox state.json")
    assert run.ok, run.log
    assert f"{HEAD} is the head of main" in run.log
    assert "Apply: 1 done, 0 failed, 0 not run." in run.steps[-1].stdout
    again = runner.run(workspace, command="plan", args="--sandbox state.json")
    assert again.outputs["has-changes"] == "false"


@pytest.mark.parametrize(("env", "reason"), [
    ({"GITHUB_SHA": OLD}, f"this run is for {OLD} but main is now at {HEAD}"),
    ({"GITHUB_REF": "refs/heads/feature"}, "apply runs only for the default branch (main)"),
])
def test_apply_of_anything_but_the_head_is_refused(
        runner: Runner, workspace: Path, env: dict[str, str], reason: str) -> None:
    run = runner.run(workspace, env=env, command="apply", args="--sandbox state.json")
    assert not run.ok
    assert run.steps[-1].name == "Check that this is the head of the default branch"
    assert run.steps[-1].stdout.startswith("::error title=reconciler: apply refused::")
    assert reason in run.steps[-1].stdout
    # Nothing was applied: live still differs from git.
    plan = runner.run(workspace, command="plan", args="--sandbox state.json")
    assert plan.outputs["has-changes"] == "true"


def test_an_unknown_command_is_refused(runner: Runner, workspace: Path) -> None:
    run = runner.run(workspace, command="destroy")
    assert not run.ok
    assert "the command input must be validate, plan, apply or drift" in run.steps[-1].stdout
