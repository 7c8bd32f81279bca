"""Executing a plan: steps in order per project, projects side by side.

Every mutation's response is checked against what was sent, because LaunchDarkly
ignores unknown fields silently and answers 2xx all the same. The first failure stops
its project (later steps may depend on it); other projects go on. The report lists each
step as done, failed or not run, so a partial apply is never mistaken for success, and a
re-run converges because the re-plan starts from whatever did land.
"""

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from reconciler.diff import diff
from reconciler.errors import ReconcilerError
from reconciler.launchdarkly import LaunchDarklyClient
from reconciler.normalize import canonical_live, strip_ignored
from reconciler.plan import Action, Plan, ProjectPlan, Step


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


class ResponseMismatch(ReconcilerError):
    """LaunchDarkly answered 2xx but the pipeline it returned is not what was sent."""


def _managed(pipeline: Mapping[str, Any], ignore: Sequence[str], legacy: bool
             ) -> dict[str, Any]:
    """What git manages of a canonical pipeline: no ignored field (the answer to a request
    has every object the request had, so all are matched), isLegacy only if sent."""
    out = strip_ignored(dict(pipeline), ignore, pipeline)
    return out if legacy else {k: v for k, v in out.items() if k != "isLegacy"}


def _check_pipeline(step: Step, response: Mapping[str, Any], ignore: Sequence[str]) -> None:
    # Only what git manages is compared: an omitted isLegacy (not sent) takes the server's
    # default, ignored fields and fields the models lack are LaunchDarkly's to keep.
    legacy = "isLegacy" in (step.body or {})
    got = _managed(canonical_live(response), ignore, legacy)
    changes = diff(_managed(step.after or {}, ignore, legacy), got)
    if changes:
        first = changes[0]
        raise ResponseMismatch(
            f"LaunchDarkly accepted {step.action} {step.key!r} but returned a different pipeline "
            f"({len(changes)} field(s), first {first.path}: sent {first.old!r}, got {first.new!r})"
        )
    if step.makeDefault and response.get("isProjectDefault") is False:
        raise ResponseMismatch(f"{step.key!r} was created but is not the project's default")


async def _run_step(client: LaunchDarklyClient, project: ProjectPlan, step: Step) -> None:
    key, body = step.key, step.body or {}
    if step.action is Action.CREATE:
        _check_pipeline(step, await client.create_pipeline(project.project, body),
                        project.ignore)
    elif step.action is Action.UPDATE:
        _check_pipeline(step, await client.update_pipeline(project.project, key, body),
                        project.ignore)
    elif step.action is Action.REPLACE:
        await client.delete_pipeline(project.project, key)
        _check_pipeline(step, await client.create_pipeline(project.project, body),
                        project.ignore)
    elif step.action is Action.DELETE:
        await client.delete_pipeline(project.project, key)
    else:
        answer = await client.set_default_pipeline(project.project, key)
        if answer.get("defaultReleasePipelineKey", key) != key:
            raise ResponseMismatch(f"the project's default is still "
                                   f"{answer.get('defaultReleasePipelineKey')!r}, not {key!r}")


async def _apply_project(client: LaunchDarklyClient, project: ProjectPlan,
                         on_result: OnResult) -> list[StepResult]:
    results: list[StepResult] = []
    failed = False
    for step in project.steps:
        if failed:
            result = StepResult(project.project, step.action, step.key, StepStatus.NOT_RUN)
        else:
            try:
                await _run_step(client, project, step)
                result = StepResult(project.project, step.action, step.key, StepStatus.DONE)
            except ReconcilerError as error:
                failed = True
                result = StepResult(project.project, step.action, step.key, StepStatus.FAILED,
                                    str(error))
        results.append(result)
        on_result(result)
    return results


async def apply_plan(client: LaunchDarklyClient, plan: Plan,
                     on_result: OnResult = lambda _: None) -> ApplyReport:
    """Run an applicable plan (the caller checks `plan.applicable` and staleness)."""
    per_project = await asyncio.gather(
        *(_apply_project(client, p, on_result) for p in plan.projects if p.steps)
    )
    return ApplyReport([r for results in per_project for r in results])
