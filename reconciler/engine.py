"""The I/O edge around the pure planners: read live state, plan, and nothing more.

Each project is planned once per kind it manages (reconciler.kinds): one list call per
kind, then only the further reads that kind's steps need (see each kind's package).
"""

import asyncio
import hashlib
from collections.abc import Sequence
from typing import Any

from reconciler.errors import ApiError, SettingsError, Unreachable
from reconciler.kinds import Kind
from reconciler.kinds.registry import managed_kinds
from reconciler.launchdarkly import LaunchDarklyClient
from reconciler.manifest import DesiredProject, DesiredState
from reconciler.manifest.yamlfile import shown
from reconciler.plan import Plan, PlanOptions, ProjectPlan, ReadFailure, assemble, unread_project


def parse_shard(spec: str | None) -> tuple[int, int] | None:
    """`i/n` (1-based) into (i, n)."""
    if spec is None:
        return None
    try:
        index, count = (int(part) for part in spec.split("/"))
    except ValueError:
        raise SettingsError(f"--shard takes i/n, like 1/4; got {spec!r}") from None
    if not 1 <= index <= count:
        raise SettingsError(f"--shard {spec}: i must be between 1 and n")
    return index, count


def in_shard(project: str, shard: tuple[int, int] | None) -> bool:
    """A stable hash, so a project stays in its shard from run to run and machine to machine."""
    if shard is None:
        return True
    index, count = shard
    bucket = int.from_bytes(hashlib.sha256(project.encode()).digest()[:8], "big") % count
    return bucket == index - 1


def select_projects(state: DesiredState, shard: tuple[int, int] | None) -> list[DesiredProject]:
    """The projects in the shard that manage at least one registered kind."""
    return [p for key, p in sorted(state.projects.items())
            if in_shard(key, shard) and managed_kinds(p)]


def _folder(project: DesiredProject) -> str:
    return f"{shown(project.directory)}/" if project.directory else f"pipelines/{project.key}/"


async def plan_one(client: LaunchDarklyClient, project: DesiredProject, kind: Kind[Any, Any],
                   options: PlanOptions) -> ProjectPlan:
    """The project's plan for `kind`, or an unread one when its live state cannot be read
    (404, 403, 5xx after retries, an inconsistent listing): one bad project never hides
    the others. A refused token (401) or an unreachable host is every project's problem,
    so it still ends the run."""
    try:
        desired = kind.desired(project)
        live = await kind.fetch(client, project.key)
        return await kind.plan(client, project, desired, live, options)
    except ApiError as error:
        if error.status == 401 or isinstance(error, Unreachable):
            raise
        failure = ReadFailure(folder=_folder(project), reason=str(error))
        return unread_project(project.key, kind.name, kind.desired_count(project), failure)


async def build_plan(client: LaunchDarklyClient, projects: Sequence[DesiredProject],
                     options: PlanOptions) -> Plan:
    """Every project's plan, per kind it manages, in one Plan."""
    plans = await asyncio.gather(*(plan_one(client, project, kind, options)
                                   for project in projects for kind in managed_kinds(project)))
    return assemble(plans, options)
