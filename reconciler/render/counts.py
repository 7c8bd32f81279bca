"""Every count a rendering shows, computed in one place from a plan's steps.

Text, Markdown, drift and the CLI's messages all read these, so a header, a table and a
summary line can never disagree about how many creates or default changes a plan holds.
"""

from collections.abc import Iterable
from dataclasses import dataclass, fields

from reconciler.plan import Action, Plan, ProjectPlan, Step

# Creates and replaces move the default when they send isProjectDefault.
_MAY_MOVE_DEFAULT = (Action.CREATE, Action.REPLACE)


def moves_default(step: Step) -> bool:
    """Whether a step makes its pipeline the project default."""
    return step.action is Action.SET_DEFAULT or (step.action in _MAY_MOVE_DEFAULT
                                                 and step.makeDefault)


@dataclass(frozen=True)
class Counts:
    creates: int = 0
    updates: int = 0
    replaces: int = 0
    deletes: int = 0
    default_changes: int = 0  # steps that make a pipeline the project default
    reorders: int = 0  # steps that rank a project's resources anew
    differ: int = 0  # distinct resources with a step (a reorder aside) or a blocked change
    blocked: int = 0  # blocked changes
    refused: int = 0  # projects refused
    unread: int = 0  # projects whose live state could not be read
    projects: int = 0  # projects with a step, a blocked change, a refusal or a read failure

    def __add__(self, other: "Counts") -> "Counts":
        return Counts(**{f.name: getattr(self, f.name) + getattr(other, f.name)
                         for f in fields(self)})


def count_project(project: ProjectPlan) -> Counts:
    actions = [step.action for step in project.steps]
    differing = ({step.key for step in project.steps if step.action is not Action.REORDER}
                 | {b.key for b in project.blocked})
    return Counts(
        creates=actions.count(Action.CREATE), updates=actions.count(Action.UPDATE),
        replaces=actions.count(Action.REPLACE), deletes=actions.count(Action.DELETE),
        default_changes=sum(1 for step in project.steps if moves_default(step)),
        reorders=actions.count(Action.REORDER),
        differ=len(differing), blocked=len(project.blocked), refused=int(bool(project.refusals)),
        unread=int(project.failure is not None),
        projects=int(bool(project.steps or project.blocked or project.refusals
                          or project.failure)),
    )


def count_projects(projects: Iterable[ProjectPlan]) -> Counts:
    return sum((count_project(project) for project in projects), Counts())


def count_plan(plan: Plan) -> Counts:
    return count_projects(plan.projects)


def count_by_kind(plan: Plan) -> list[tuple[str, Counts]]:
    """The plan's counts per kind (ProjectPlan.kind), in the order kinds first appear."""
    by_kind: dict[str, Counts] = {}
    for project in plan.projects:
        by_kind[project.kind] = by_kind.get(project.kind, Counts()) + count_project(project)
    return list(by_kind.items())
