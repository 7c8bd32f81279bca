"""Resource kinds: what the tool manages in a LaunchDarkly project, one plug-in each.

A kind is one package, reconciler.kinds.<name>, exposing an object that satisfies `Kind`;
it is registered in `KINDS` (reconciler.kinds.registry). The engine, apply and the plan's
JSON loop over `KINDS` and know no kind by name: a project is planned once per kind it
manages, in the registry's order, and each ProjectPlan carries its kind's `name`.

This module imports nothing of the tool at run time: the manifest imports the kinds'
models (reconciler.kinds.<name>.models), which must not pull the planners in with them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from reconciler.launchdarkly import LaunchDarklyClient
    from reconciler.manifest import DesiredProject
    from reconciler.plan import PlanOptions, ProjectPlan
    from reconciler.plan.dispatch import DispatchTable

Desired = TypeVar("Desired")
Live = TypeVar("Live")


class Kind(Protocol[Desired, Live]):
    """One kind of resource, from its files to its requests.

    The engine plans a project for a kind in three calls: `desired(project)` (pure),
    `await fetch(client, project.key)` (exactly ONE list call, so that a project costs one
    list call per kind it manages), then `await plan(client, project, desired, live,
    options)` (any further reads the plan needs, then the pure planner and its proof).
    An ApiError raised by `fetch` or `plan` makes the project's plan for this kind an
    unread one (the engine's job, not the kind's). Apply runs each step through
    `dispatch`; the simulator inside `plan` must replay steps through the same table.
    A kind is registered by adding its object to registry.KINDS; the renderers read ProjectPlan
    fields, so a kind's own wording is added there when it has one.
    """

    name: str
    """The kind's name: ProjectPlan.kind, and its key in the registry ("pipelines")."""

    dispatch: DispatchTable[Any]
    """Per Action this kind plans: its replay on the kind's model (the proof) and its
    requests with the check of LaunchDarkly's answers (apply)."""

    def manages(self, project: DesiredProject) -> bool:
        """Whether the project's folder holds at least one file of this kind (how the files
        are found is the manifest loader's: it fills DesiredProject). A project no kind
        manages is not planned: its live resources are left alone."""

    def desired_count(self, project: DesiredProject) -> int:
        """How many resources of this kind the project's files declare."""

    def desired(self, project: DesiredProject) -> Desired:
        """The project's desired resources of this kind, in canonical form (equal canonical
        forms mean in sync), with the project's settings the planner needs."""

    async def fetch(self, client: LaunchDarklyClient, project: str) -> Live:
        """The project's live resources of this kind, in canonical form, from ONE list
        call; fields LaunchDarkly returns that the models lack are kept aside."""

    async def plan(self, client: LaunchDarklyClient, project: DesiredProject,
                   desired: Desired, live: Live, options: PlanOptions) -> ProjectPlan:
        """The project's plan for this kind: extra reads only where a step needs them,
        then classification, ordering and the proof (pure), as a ProjectPlan whose `kind`
        is `name`, refused (ProjectPlan.refusals) rather than raising when a rule
        forbids it."""
