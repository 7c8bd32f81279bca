"""Resource kinds: what the tool manages in a LaunchDarkly project, one plug-in each.

A kind is one package, reconciler.kinds.<name>, exposing an object that satisfies `Kind`;
it is registered in `KINDS` (reconciler.kinds.registry). The engine, apply and the plan's
JSON loop over `KINDS` and know no kind by name: a project is planned once per kind it
manages, in the registry's order, and each ProjectPlan carries its kind's `name`.

This module imports nothing of the tool at run time: the manifest imports the kinds'
models (reconciler.kinds.<name>.models), which must not pull the planners in with them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from reconciler.launchdarkly import LaunchDarklyClient
    from reconciler.manifest import DesiredProject
    from reconciler.plan import PlanOptions, ProjectPlan
    from reconciler.plan.dispatch import DispatchTable

Desired = TypeVar("Desired")
Live = TypeVar("Live")


@dataclass(frozen=True)
class Wording:
    """How the renderings name a kind's resources and show one as its file would say it."""

    noun: str
    """One resource, in counts: "pipeline" ("2 pipelines differ")."""
    nouns: str
    """Several: "pipelines"."""
    title: str
    """The kind in headings, plural and in lower case: "release pipelines"."""
    document: Callable[[Mapping[str, Any], bool], str]
    """A resource (canonical form; whether it is the project default) as the YAML of its
    file, to show a create or a delete whole."""
    parts: Mapping[str, tuple[str, Callable[[Any], str]]] = field(default_factory=dict)
    """Lists whose items have a name, matched by name in a diff: field -> (the noun of an
    item, the item as the YAML of its file)."""
    positional: frozenset[str] = frozenset()
    """Lists whose items have no name, compared position by position in a diff when their
    lengths agree (a policy's stages): one changed allocation is one line."""
    default_kept: str | None = None
    """Why the live default with no file stays, when the kind never deletes it; None:
    it is kept (or not) like any other resource."""
    diagram: Callable[[Mapping[str, Any], Collection[str], bool], str] | None = None
    """A Mermaid diagram of a resource after a step (the step's changed pointers; whether
    it is the project default), for the PR comment; None: the kind draws none."""


class Kind(Protocol[Desired, Live]):
    """One kind of resource, from its files to its requests.

    The engine plans a project for a kind in three calls: `desired(project)` (pure),
    `await fetch(client, project.key)` (exactly ONE list call, so that a project costs one
    list call per kind it manages), then `await plan(client, project, desired, live,
    options)` (any further reads the plan needs, then the pure planner and its proof).
    An ApiError raised by `fetch` or `plan` makes the project's plan for this kind an
    unread one (the engine's job, not the kind's). Apply runs each step through
    `dispatch`; the simulator inside `plan` must replay steps through the same table.
    A kind is registered by adding its object to registry.KINDS; the renderers read
    ProjectPlan fields and name a kind's resources only through its `wording`.
    """

    name: str
    """The kind's name: ProjectPlan.kind, and its key in the registry ("pipelines")."""

    wording: Wording
    """How the plan, the PR comment and the drift report name and show its resources."""

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
