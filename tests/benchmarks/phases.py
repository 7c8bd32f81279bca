"""Where the CPU of an in-process plan goes: the stages of `reconciler plan --sandbox`,
with the same functions, project by project as the plan streams them (one project read,
fetched and planned after the other, nothing overlapped), each timed in CPU seconds.

    python -m tests.benchmarks.phases PIPELINES_DIR SANDBOX_STATE

prints one JSON object: {"pipelines": N, "steps": N, "stages": {stage: CPU seconds},
"peaks": {step: peak RSS in MB once the step is done}}.
"""

import resource
import time

STARTED = time.process_time()  # before the imports below, after the interpreter's own start

import asyncio  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, TypeVar  # noqa: E402

from reconciler.cli import GC_THRESHOLDS, plan_cmd  # noqa: E402, F401  (what `plan` imports)
from reconciler.cli.options import open_client  # noqa: E402
from reconciler.engine import selected  # noqa: E402
from reconciler.errors import ManifestError  # noqa: E402
from reconciler.kinds.pipelines import classify, desired_input, live_input, plan_project  # noqa: E402
from reconciler.manager import run_to_result  # noqa: E402
from reconciler.manifest import loader  # noqa: E402
from reconciler.plan import PlanOptions, assemble  # noqa: E402
from reconciler.render import render_text  # noqa: E402

T = TypeVar("T")
gc.set_threshold(*GC_THRESHOLDS)  # as reconciler.cli.main() sets it


class Stages:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {"imports": time.process_time() - STARTED}
        self.peaks: dict[str, float] = {}
        self.peak("imports")

    def peak(self, step: str) -> None:
        self.peaks[step] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def add(self, stage: str, seconds: float) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds

    def timed(self, stage: str, function: Callable[..., T]) -> Callable[..., T]:
        def wrapper(*args: Any, **kwargs: Any) -> T:
            started = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                self.add(stage, time.process_time() - started)

        return wrapper


LOADING = ("reading YAML", "validating (pydantic)")


def _next_project(stages: Stages, projects: Iterator[loader.DesiredProject]
                  ) -> loader.DesiredProject | None:
    """The next project folder read; what is not parsing or validating is "loading, other"."""
    inner = sum(stages.seconds.get(stage, 0.0) for stage in LOADING)
    started = time.process_time()
    project = next(projects, None)
    spent = time.process_time() - started
    stages.add("loading, other",
               spent - (sum(stages.seconds.get(stage, 0.0) for stage in LOADING) - inner))
    return project


async def _plan(stages: Stages, pipelines_dir: Path, state: Path) -> tuple[Any, int]:
    """Manager.plan's work, project by project as it streams them (each folder read, then
    its fetching and its pure planning apart), and the number of pipelines planned."""
    loader.parse_text = stages.timed(LOADING[0], loader.parse_text)
    loader.validate = stages.timed(LOADING[1], loader.validate)
    options = PlanOptions()
    started = time.process_time()
    async with open_client(None, state, None) as client:
        stages.add("starting the sandbox", time.process_time() - started)
        stages.peak("starting the sandbox")
        reading = loader.ManifestReading(pipelines_dir)
        projects = reading.projects()
        plans, pipelines = [], 0
        while (project := _next_project(stages, projects)) is not None:
            if reading.errors:
                raise ManifestError([str(error) for error in reading.errors])
            if not selected(project, None):
                continue
            pipelines += len(project.pipelines)
            started = time.process_time()
            raw = await client.list_pipelines(project.key)
            stages.add("fetching (sandbox in process)", time.process_time() - started)

            started = time.process_time()
            desired, live = desired_input(project), live_input(raw)
            classified = classify(desired, live)
            wanted = classified.needs_progressions
            stages.add("planning", time.process_time() - started)

            started = time.process_time()
            found = await asyncio.gather(*(client.active_releases(project.key, key)
                                           for key in wanted))
            stages.add("fetching (sandbox in process)", time.process_time() - started)

            started = time.process_time()
            active = {key: flags for key, flags in zip(wanted, found, strict=True) if flags}
            plans.append(plan_project(project.key, desired, live, active, options, classified))
            stages.add("planning", time.process_time() - started)
        stages.peak("reading, fetching and planning")
    return assemble(plans, options), pipelines


def main(pipelines_dir: Path, state: Path) -> None:
    stages = Stages()
    plan, pipelines = run_to_result(_plan(stages, pipelines_dir, state))
    started = time.process_time()
    render_text(plan, color=False)
    stages.add("rendering text", time.process_time() - started)
    stages.peak("rendering text")
    print(json.dumps({
        "pipelines": pipelines,
        "steps": plan.step_count,
        "stages": stages.seconds,
        "peaks": stages.peaks,
    }))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
