"""Executing a plan: steps in order per project, projects side by side.

Each step runs through its kind's dispatch table (reconciler.kinds), which checks every
mutation's response against what was sent. The first failure stops its
project, all kinds (later steps may depend on it); other projects go on. The report lists each
step as done, failed or not run, so a partial apply is never mistaken for success, and a
re-run converges because the re-plan starts from whatever did land.
"""

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from reconciler.errors import ReconcilerError
from reconciler.kinds.registry import kind_named
from reconciler.launchdarkly import LaunchDarklyClient
from reconciler.plan import Action, Plan, ProjectPlan
from reconciler.plan.dispatch import run


class StepStatus(StrEnum):
    DONE = "done"
    FAILED = "failed"
    NOT_RUN = "not run"


@dataclass(frozen=True)
class StepResult:
    project: str
    action: Action
    key: str
    status: StepStatus
    error: str | None = None


@dataclass
class ApplyReport:
    results: list[StepResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.status is StepStatus.DONE for r in self.results)

    def count(self, status: StepStatus) -> int:
        return sum(r.status is status for r in self.results)


OnResult = Callable[[StepResult], None]


async def _apply_project(client: LaunchDarklyClient, plans: Sequence[ProjectPlan],
                         on_result: OnResult) -> list[StepResult]:
    """One project's plans (one per kind, in the plan's order), one step at a time."""
    results: list[StepResult] = []
    failed = False
    for project in plans:
        for step in project.steps:
            if failed:
                result = StepResult(project.project, step.action, step.key, StepStatus.NOT_RUN)
            else:
                try:
                    await run(kind_named(project.kind).dispatch, client, project, step)
                    result = StepResult(project.project, step.action, step.key,
                                        StepStatus.DONE)
                except ReconcilerError as error:
                    failed = True
                    result = StepResult(project.project, step.action, step.key,
                                        StepStatus.FAILED, str(error))
            results.append(result)
            on_result(result)
    return results


async def apply_plan(client: LaunchDarklyClient, plan: Plan,
                     on_result: OnResult = lambda _: None) -> ApplyReport:
    """Run an applicable plan (the caller checks `plan.applicable` and staleness): projects
    side by side, the kinds of one project one after the other."""
    by_project: dict[str, list[ProjectPlan]] = {}
    for project in plan.projects:
        if project.steps:
            by_project.setdefault(project.project, []).append(project)
    per_project = await asyncio.gather(
        *(_apply_project(client, plans, on_result) for plans in by_project.values())
    )
    return ApplyReport([r for results in per_project for r in results])
