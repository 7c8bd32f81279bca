"""Where the CPU of an in-process plan goes: the stages of `reconciler plan --sandbox`,
run one after the other with the same functions, each timed in CPU seconds.

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
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, TypeVar  # noqa: E402

from reconciler.cli import GC_THRESHOLDS, plan_cmd  # noqa: E402, F401  (what `plan` imports)
from reconciler.cli.options import open_client  # noqa: E402
from reconciler.engine import select_projects  # noqa: E402
from reconciler.kinds.pipelines import classify, desired_input, live_input, plan_project  # noqa: E402
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


def _load(stages: Stages, pipelines_dir: Path) -> list[loader.DesiredProject]:
    # The loader's own calls, wrapped: what is left of the loading time is the rest.
    loader.parse_text = stages.timed("reading YAML", loader.parse_text)
    loader.validate = stages.timed("validating (pydantic)", loader.validate)
    started = time.process_time()
    projects = select_projects(loader.load_desired(pipelines_dir), None)
    inner = stages.seconds["reading YAML"] + stages.seconds["validating (pydantic)"]
    stages.add("loading, other", time.process_time() - started - inner)
    stages.peak("loading the pipeline files")
    return projects


async def _plan(stages: Stages, projects: list[loader.DesiredProject], state: Path) -> Any:
    """engine.build_plan's work, with the fetching and the pure planning apart."""
    options = PlanOptions()
    started = time.process_time()
    async with open_client(None, state, None) as client:
        stages.add("starting the sandbox", time.process_time() - started)
        stages.peak("starting the sandbox")
        started = time.process_time()
        raw = await asyncio.gather(*(client.list_pipelines(p.key) for p in projects))
        stages.add("fetching (sandbox in process)", time.process_time() - started)

        started = time.process_time()
        inputs = [(desired_input(p), live_input(r)) for p, r in zip(projects, raw, strict=True)]
        classified = [classify(d, live) for d, live in inputs]
        wanted = [c.needs_progressions for c in classified]
        stages.add("planning", time.process_time() - started)

        started = time.process_time()
        found = await asyncio.gather(*(
            asyncio.gather(*(client.active_releases(p.key, k) for k in keys))
            for p, keys in zip(projects, wanted, strict=True)))
        stages.add("fetching (sandbox in process)", time.process_time() - started)

        started = time.process_time()
        plans = [
            plan_project(p.key, d, live,
                         {k: flags for k, flags in zip(keys, f, strict=True) if flags}, options, c)
            for p, (d, live), keys, f, c in zip(projects, inputs, wanted, found, classified,
                                                strict=True)
        ]
        plan = assemble(plans, options)
        stages.add("planning", time.process_time() - started)
        stages.peak("fetching and planning")
    return plan


def main(pipelines_dir: Path, state: Path) -> None:
    stages = Stages()
    projects = _load(stages, pipelines_dir)
    plan = asyncio.run(_plan(stages, projects, state))
    started = time.process_time()
    render_text(plan, color=False)
    stages.add("rendering text", time.process_time() - started)
    stages.peak("rendering text")
    print(json.dumps({
        "pipelines": sum(len(p.pipelines) for p in projects),
        "steps": plan.step_count,
        "stages": stages.seconds,
        "peaks": stages.peaks,
    }))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
