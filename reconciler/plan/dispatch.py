"""One table per kind maps each Action to what a step of it does, twice over: its replay
on the kind's model (the simulator's proof) and its requests to LaunchDarkly with the
check of their answers (apply). Both read the same table, so the proof and the run
cannot disagree about what an action means.
"""

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from reconciler.errors import ReconcilerError
from reconciler.launchdarkly import LaunchDarklyClient
from reconciler.plan.values import Action, ProjectPlan, Step

Model = TypeVar("Model")


class ResponseMismatch(ReconcilerError):
    """LaunchDarkly answered 2xx but the resource it returned is not what was sent."""


@dataclass(frozen=True)
class Operation(Generic[Model]):
    """What one Action does. `replay` applies the step to the kind's model and raises
    rules.RuleViolation where LaunchDarkly would refuse it. `run` sends the step's
    requests for `project` and raises ResponseMismatch when an answer is not what was
    sent (ApiError and its kin come from the client)."""

    replay: Callable[[Model, Step], None]
    run: Callable[[LaunchDarklyClient, ProjectPlan, Step], Awaitable[None]]


DispatchTable = Mapping[Action, Operation[Model]]


def replay(table: DispatchTable[Model], model: Model, steps: Iterable[Step]) -> Model:
    """`model` after every step, in order; raises RuleViolation at the first refused one."""
    for step in steps:
        table[step.action].replay(model, step)
    return model


async def run(table: DispatchTable[Model], client: LaunchDarklyClient, project: ProjectPlan,
              step: Step) -> None:
    await table[step.action].run(client, project, step)
