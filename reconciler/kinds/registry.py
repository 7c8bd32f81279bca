"""The registry of resource kinds, in the order a project's plans come (pipelines first)."""

from collections.abc import Iterable, Sequence
from typing import Any

from reconciler.kinds import Kind
from reconciler.kinds.pipelines import PIPELINES
from reconciler.kinds.policies.kind import POLICIES
from reconciler.manifest import DesiredProject

KINDS: tuple[Kind[Any, Any], ...] = (PIPELINES, POLICIES)


def kind_named(name: str) -> Kind[Any, Any]:
    """The registered kind called `name` (a saved plan's ProjectPlan.kind)."""
    for kind in KINDS:
        if kind.name == name:
            return kind
    raise KeyError(name)


def managed_kinds(project: DesiredProject) -> Sequence[Kind[Any, Any]]:
    """The kinds a project is planned for, in registry order: those that manage it."""
    return [kind for kind in KINDS if kind.manages(project)]


def kinds_in(names: Iterable[str]) -> list[Kind[Any, Any]]:
    """The registered kinds among `names` (a plan's ProjectPlan.kind values), in registry
    order; the first kind when there are none, so that an empty plan reads as before."""
    wanted = set(names)
    return [kind for kind in KINDS if kind.name in wanted] or [KINDS[0]]
