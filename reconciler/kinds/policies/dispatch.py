"""The release policies' dispatch table: per Action, its replay on the rules' PolicyModel
(the simulator) and its request with the check of LaunchDarkly's answer (apply).

Every answer is checked against what was sent, because LaunchDarkly ignores unknown
fields silently and answers 2xx all the same: a created or updated policy must hold what
git manages of it, and the ranking an order call returns must be the one sent."""

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.diff import diff
from reconciler.kinds.policies.canonical import canonical_live, is_default_policy
from reconciler.kinds.policies.fields import CONFIGS, strip_ignored
from reconciler.launchdarkly import LaunchDarklyClient
from reconciler.plan import Action, ProjectPlan, Step
from reconciler.plan.dispatch import DispatchTable, Operation, ResponseMismatch
from reconciler.rules import PolicyModel


def _as_sent(got: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """`got` limited to what `after` states: a field a file leaves out of a config is
    LaunchDarkly's to fill (its default on create, the live value kept on update)."""
    out = {k: v for k, v in got.items() if k in after}
    for name in CONFIGS:
        if isinstance(out.get(name), Mapping) and isinstance(after.get(name), Mapping):
            out[name] = {k: v for k, v in out[name].items() if k in after[name]}
    return out


def _check_policy(step: Step, answer: Mapping[str, Any], ignore: Sequence[str]) -> None:
    after = strip_ignored(dict(step.after or {}), ignore)
    got = _as_sent(strip_ignored(canonical_live(answer), ignore), after)
    if (changes := diff(after, got)):
        first = changes[0]
        raise ResponseMismatch(
            f"LaunchDarkly accepted {step.action} {step.key!r} but returned a different release "
            f"policy ({len(changes)} field(s), first {first.path}: sent {first.old!r}, "
            f"got {first.new!r})")


def _check_ranking(step: Step, answer: Sequence[Mapping[str, Any]]) -> None:
    """The answer lists the policies with their ranks: the scoped ones, by rank, must be
    the order sent (an answer without ranks is taken in its own order)."""
    scoped = [p for p in answer if not is_default_policy(p)] if any(
        "rank" in p for p in answer) else list(answer)
    ranked = [str(p.get("key")) for p in sorted(scoped, key=lambda p: p.get("rank") or 0)]
    if ranked != list(step.order or []):
        raise ResponseMismatch(f"LaunchDarkly accepted the order {step.order} but ranks the "
                               f"policies {ranked}")


# --- replay on the model ---------------------------------------------------------------------


def _replay_create(model: PolicyModel, step: Step) -> None:
    model.create(step.key, step.after)


def _replay_update(model: PolicyModel, step: Step) -> None:
    model.update(step.key, step.after)


def _replay_delete(model: PolicyModel, step: Step) -> None:
    model.delete(step.key)


def _replay_reorder(model: PolicyModel, step: Step) -> None:
    model.reorder(step.order or [])


# --- requests ---------------------------------------------------------------------------------


async def _run_create(client: LaunchDarklyClient, project: ProjectPlan, step: Step) -> None:
    answer = await client.create_policy(project.project, step.body or {})
    _check_policy(step, answer, project.ignore)


async def _run_update(client: LaunchDarklyClient, project: ProjectPlan, step: Step) -> None:
    answer = await client.update_policy(project.project, step.key, step.body or {})
    _check_policy(step, answer, project.ignore)


async def _run_delete(client: LaunchDarklyClient, project: ProjectPlan, step: Step) -> None:
    await client.delete_policy(project.project, step.key)


async def _run_reorder(client: LaunchDarklyClient, project: ProjectPlan, step: Step) -> None:
    _check_ranking(step, await client.order_policies(project.project, step.order or []))


TABLE: DispatchTable[PolicyModel] = {
    Action.CREATE: Operation(_replay_create, _run_create),
    Action.UPDATE: Operation(_replay_update, _run_update),
    Action.DELETE: Operation(_replay_delete, _run_delete),
    Action.REORDER: Operation(_replay_reorder, _run_reorder),
}
