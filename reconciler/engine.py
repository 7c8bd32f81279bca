"""The I/O edge around the pure planner: read live state, plan, and nothing more.

Calls per project, in the normal case: one `limit=20` list call, plus one progressions
call per pipeline that is about to be deleted, replaced or re-phased. That is the lower
bound: the default comes from `isProjectDefault` on the listed pipelines.
"""

import asyncio
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.errors import SettingsError
from reconciler.launchdarkly import LaunchDarklyClient
from reconciler.manifest import DesiredProject, DesiredState
from reconciler.normalize import canonical_desired, canonical_live
from reconciler.plan import (
    DesiredInput,
    LiveInput,
    Plan,
    PlanOptions,
    ProjectPlan,
    assemble,
    classify,
    plan_project,
)


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
    return [p for key, p in sorted(state.projects.items()) if in_shard(key, shard)]


def desired_input(project: DesiredProject) -> DesiredInput:
    default = next((k for k, p in project.pipelines.items() if p.isProjectDefault), None)
    return DesiredInput(
        pipelines={k: canonical_desired(p) for k, p in project.pipelines.items()},
        default_key=default,
        settings=project.settings,
    )


def live_input(raw_pipelines: Sequence[Mapping[str, Any]]) -> LiveInput:
    default = next((p["key"] for p in raw_pipelines if p.get("isProjectDefault")), None)
    return LiveInput({p["key"]: canonical_live(p) for p in raw_pipelines}, default)


async def plan_one(client: LaunchDarklyClient, project: DesiredProject,
                   options: PlanOptions) -> ProjectPlan:
    desired = desired_input(project)
    live = live_input(await client.list_pipelines(project.key))
    classified = classify(desired, live)
    keys = classified.needs_progressions
    found = await asyncio.gather(*(client.active_releases(project.key, k) for k in keys))
    active = {k: flags for k, flags in zip(keys, found, strict=True) if flags}
    return plan_project(project.key, desired, live, active, options, classified)


async def build_plan(client: LaunchDarklyClient, projects: Sequence[DesiredProject],
                     options: PlanOptions) -> Plan:
    plans = await asyncio.gather(*(plan_one(client, p, options) for p in projects))
    return assemble(plans, options)
