"""The I/O edge around the pure planner: read live state, plan, and nothing more.

Calls per project, in the normal case: one `limit=20` list call, plus one progressions
call per pipeline that is about to be deleted, replaced or re-phased. That is the lower
bound: the default comes from `isProjectDefault` on the listed pipelines.

Reference preflight: every environment and segment key that a step would send must be
known to exist. Keys that the live pipelines already name are taken as existing, so a
plan whose steps send only those costs nothing more; otherwise one environments call per
project and one segments call per environment with an unseen segment key.
"""

import asyncio
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from reconciler import rules
from reconciler.errors import ApiError, SettingsError, Unreachable
from reconciler.launchdarkly import LaunchDarklyClient
from reconciler.manifest import DesiredProject, DesiredState
from reconciler.manifest.online import reference_problems
from reconciler.manifest.yamlfile import shown
from reconciler.normalize import canonical_desired, canonical_live, unknown_fields
from reconciler.plan import (
    DesiredInput,
    LiveInput,
    Plan,
    PlanOptions,
    ProjectPlan,
    ReadFailure,
    Step,
    assemble,
    classify,
    plan_project,
    unread_project,
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
    # A folder of policies only manages no pipelines: planning it here would prune them all.
    return [p for key, p in sorted(state.projects.items())
            if in_shard(key, shard) and p.manages_pipelines]


def desired_input(project: DesiredProject) -> DesiredInput:
    default = next((k for k, p in project.pipelines.items() if p.isProjectDefault), None)
    return DesiredInput(
        pipelines={k: canonical_desired(p) for k, p in project.pipelines.items()},
        default_key=default,
        settings=project.settings,
    )


def live_input(raw_pipelines: Sequence[Mapping[str, Any]]) -> LiveInput:
    default = next((p["key"] for p in raw_pipelines if p.get("isProjectDefault")), None)
    unknown = {p["key"]: found for p in raw_pipelines if (found := unknown_fields(p))}
    return LiveInput({p["key"]: canonical_live(p) for p in raw_pipelines}, default, unknown)


def _folder(project: DesiredProject) -> str:
    return f"{shown(project.directory)}/" if project.directory else f"pipelines/{project.key}/"


async def plan_one(client: LaunchDarklyClient, project: DesiredProject,
                   options: PlanOptions) -> ProjectPlan:
    """The project's plan, or an unread one when its live state cannot be read (404, 403,
    5xx after retries, an inconsistent listing): one bad project never hides the others.
    A refused token (401) or an unreachable host is every project's problem, so it still
    ends the run."""
    try:
        return await _plan_readable(client, project, options)
    except ApiError as error:
        if error.status == 401 or isinstance(error, Unreachable):
            raise
        failure = ReadFailure(folder=_folder(project), reason=str(error))
        return unread_project(project.key, len(project.pipelines), failure)


async def _plan_readable(client: LaunchDarklyClient, project: DesiredProject,
                         options: PlanOptions) -> ProjectPlan:
    desired = desired_input(project)
    live = live_input(await client.list_pipelines(project.key))
    classified = classify(desired, live)
    keys = classified.needs_progressions
    found = await asyncio.gather(*(client.active_releases(project.key, k) for k in keys))
    active = {k: flags for k, flags in zip(keys, found, strict=True) if flags}
    planned = plan_project(project.key, desired, live, active, options, classified)
    sending = [step for step in planned.steps if step.body is not None]
    if not sending:
        return planned
    known = await _known_references(client, project.key, live, sending)
    reasons = [
        f"{step.action} {step.key}: {problem}"
        for step in sending
        for problem in reference_problems(project, step.key, rules.unknown_references(
            project.key, step.body["phases"], known))
    ]
    return planned.refused(reasons) if reasons else planned


def _union(named: Iterable[Mapping[str, set[str]]]) -> dict[str, set[str]]:
    merged: dict[str, set[str]] = {}
    for references in named:
        for environment, segments in references.items():
            merged.setdefault(environment, set()).update(segments)
    return merged


async def _known_references(client: LaunchDarklyClient, project: str, live: LiveInput,
                            sending: Sequence[Step]) -> dict[str, set[str]]:
    """Environment -> segment keys known to exist, covering every key that `sending`
    names: what live pipelines name, and a listing for anything they do not."""
    sent = _union(rules.references(step.body["phases"]) for step in sending if step.body)
    known = _union(rules.references(p["phases"]) for p in live.pipelines.values())
    if set(sent) - set(known):
        for environment in await client.list_environments(project):
            known.setdefault(environment, set())
    unseen = sorted(e for e, segments in sent.items() if e in known and segments - known[e])
    listed = await asyncio.gather(*(client.list_segments(project, e) for e in unseen))
    for environment, segments in zip(unseen, listed, strict=True):
        known[environment] = set(segments)
    return known


async def build_plan(client: LaunchDarklyClient, projects: Sequence[DesiredProject],
                     options: PlanOptions) -> Plan:
    plans = await asyncio.gather(*(plan_one(client, p, options) for p in projects))
    return assemble(plans, options)
