"""The pipelines' dispatch table: per Action, its replay on the rules' ProjectModel (the
simulator) and its requests with the check of LaunchDarkly's answers (apply).

Every mutation's response is checked against what was sent, because LaunchDarkly
ignores unknown fields silently and answers 2xx all the same."""

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.diff import diff
from reconciler.launchdarkly import LaunchDarklyClient
from reconciler.normalize import canonical_live, strip_ignored
from reconciler.plan import Action, ProjectPlan, Step
from reconciler.plan.dispatch import DispatchTable, Operation, ResponseMismatch
from reconciler.rules import ProjectModel


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


# --- replay on the model ---------------------------------------------------------------------


def _replay_create(model: ProjectModel, step: Step) -> None:
    model.create(step.key, step.after, step.makeDefault)


def _replay_update(model: ProjectModel, step: Step) -> None:
    model.update(step.key, step.after, step.phasesChanged)


def _replay_replace(model: ProjectModel, step: Step) -> None:
    model.delete(step.key)
    model.create(step.key, step.after, step.makeDefault)


def _replay_delete(model: ProjectModel, step: Step) -> None:
    model.delete(step.key)


def _replay_set_default(model: ProjectModel, step: Step) -> None:
    model.set_default(step.key)


# --- requests ---------------------------------------------------------------------------------


async def _run_create(client: LaunchDarklyClient, project: ProjectPlan, step: Step) -> None:
    _check_pipeline(step, await client.create_pipeline(project.project, step.body or {}),
                    project.ignore)


async def _run_update(client: LaunchDarklyClient, project: ProjectPlan, step: Step) -> None:
    answer = await client.update_pipeline(project.project, step.key, step.body or {})
    _check_pipeline(step, answer, project.ignore)


async def _run_replace(client: LaunchDarklyClient, project: ProjectPlan, step: Step) -> None:
    await client.delete_pipeline(project.project, step.key)
    await _run_create(client, project, step)


async def _run_delete(client: LaunchDarklyClient, project: ProjectPlan, step: Step) -> None:
    await client.delete_pipeline(project.project, step.key)


async def _run_set_default(client: LaunchDarklyClient, project: ProjectPlan, step: Step) -> None:
    answer = await client.set_default_pipeline(project.project, step.key)
    if answer.get("defaultReleasePipelineKey", step.key) != step.key:
        raise ResponseMismatch(f"the project's default is still "
                               f"{answer.get('defaultReleasePipelineKey')!r}, not {step.key!r}")


TABLE: DispatchTable[ProjectModel] = {
    Action.CREATE: Operation(_replay_create, _run_create),
    Action.UPDATE: Operation(_replay_update, _run_update),
    Action.REPLACE: Operation(_replay_replace, _run_replace),
    Action.DELETE: Operation(_replay_delete, _run_delete),
    Action.SET_DEFAULT: Operation(_replay_set_default, _run_set_default),
}
