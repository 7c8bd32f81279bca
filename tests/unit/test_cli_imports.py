"""What a command imports, checked by name, never timed: `plan --help` loads click and the
CLI alone, and a plan of one unchanged pipeline with no policy file leaves out what only
other commands, changes or policies need. Each run is a fresh interpreter, so a module
that someone imports at a module's top (instead of where it is needed) shows up here."""

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.builders import dump_yaml, pipeline, project

# Runs the CLI as its entry point does, then writes what it imported to the file named
# first: `python -c PROBE OUT ARGS...`.
PROBE = """\
import json, sys
from reconciler.cli import main
out, sys.argv = sys.argv[1], ["reconciler", *sys.argv[2:]]
try:
    main()
except SystemExit as exited:
    code = exited.code
with open(out, "w") as modules:
    json.dump({"code": code, "modules": sorted(name for name, module in sys.modules.items()
                                               if module is not None)}, modules)
"""

# Nothing a plan needs: the help of a command is its options.
NOT_FOR_HELP = ["pydantic", "httpx", "ruamel.yaml", "deepdiff", "rich", "yaml_rs",
                "reconciler.apply", "reconciler.manager", "reconciler.manifest",
                "reconciler.kinds", "reconciler.plan", "reconciler.render",
                "reconciler.launchdarkly", "reconciler.github", "reconciler.aviator",
                "reconciler.sandbox"]
# What a plan that changes nothing, of a project with no policy file, outside GitHub
# Actions, never uses.
NOT_FOR_A_PLAN = ["deepdiff", "rich", "pygments", "ruamel.yaml", "reconciler.export",
                  "reconciler.apply", "reconciler.aviator", "reconciler.github",
                  "reconciler.sandbox", "reconciler.render.markdown", "reconciler.render.drift",
                  "reconciler.kinds.policies.models",
                  "reconciler.kinds.policies.canonical", "reconciler.kinds.policies.planner",
                  "reconciler.kinds.policies.dispatch", "reconciler.kinds.policies.checks"]


def imported(tmp_path: Path, *args: str, environ: dict[str, str] | None = None
             ) -> tuple[dict[str, Any], str]:
    """The exit code and modules of `reconciler ARGS...` in a fresh interpreter, and its
    stdout."""
    out = tmp_path / "modules.json"
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("GITHUB_", "LAUNCHDARKLY_", "RECONCILER_PIPELINES"))}
    done = subprocess.run([sys.executable, "-c", PROBE, str(out), *args], cwd=tmp_path,
                          env={**env, **(environ or {})}, capture_output=True, text=True,
                          check=True)
    return json.loads(out.read_text()), done.stdout


def loaded(modules: list[str], names: list[str]) -> list[str]:
    """Those of `names` that are among `modules`, as packages with their submodules."""
    return [name for name in names
            if any(m == name or m.startswith(f"{name}.") for m in modules)]


def test_plan_help_loads_the_cli_alone(tmp_path: Path) -> None:
    result, shown = imported(tmp_path, "plan", "--help")
    assert result["code"] == 0 and "reconciler plan [OPTIONS]" in shown
    assert "reconciler.cli.plan_cmd" in result["modules"]
    assert loaded(result["modules"], NOT_FOR_HELP) == []


def test_a_plan_of_one_unchanged_pipeline_loads_only_the_plan_path(
        tmp_path: Path, sandbox_server: Callable[..., Any]) -> None:
    server = sandbox_server({"projects": {"web": project([pipeline("standard")])}})
    (tmp_path / "pipelines" / "web").mkdir(parents=True)
    dump_yaml(pipeline("standard"), tmp_path / "pipelines" / "web" / "standard.yaml")
    result, shown = imported(tmp_path, "plan", "--detailed-exitcode", environ={
        "LAUNCHDARKLY_BASE_URI": server.url, "LAUNCHDARKLY_ACCESS_TOKEN": "token",
        "RECONCILER_NO_CACHE": "1"})
    assert result["code"] == 0 and "No changes" in shown
    assert "reconciler.manifest.loader" in result["modules"]
    assert loaded(result["modules"], NOT_FOR_A_PLAN) == []
