"""Release policies as a Kind: the files the manifest read, one list call, the planner,
the dispatch table."""

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.kinds.policies.canonical import (
    canonical_desired,
    canonical_live,
    is_default_policy,
    unknown_fields,
)
from reconciler.kinds.policies.dispatch import TABLE
from reconciler.kinds.policies.planner import (
    KIND_NAME,
    DesiredPolicies,
    LivePolicies,
    plan_policies,
)
from reconciler.kinds.policies.wording import WORDING
from reconciler.launchdarkly import LaunchDarklyClient
from reconciler.manifest import DesiredProject
from reconciler.normalize import located
from reconciler.plan import PlanOptions, ProjectPlan


def desired_policies(project: DesiredProject) -> DesiredPolicies:
    return DesiredPolicies(
        policies={k: canonical_desired(p) for k, p in project.policies.items()},
        order=project.policy_order or None, settings=project.settings)


def live_policies(raw: Sequence[Mapping[str, Any]]) -> LivePolicies:
    """The listing as the planner reads it: the scoped policies ranked by `rank` (rank 1
    first; ties keep the listing's order), the default one apart however it is marked."""
    default = next((p["key"] for p in raw if is_default_policy(p)), None)
    scoped = sorted((p for p in raw if p["key"] != default), key=lambda p: p["rank"])
    return LivePolicies(
        policies={p["key"]: canonical_live(p) for p in raw},
        ranked=[p["key"] for p in scoped], default_key=default,
        unknown={p["key"]: located(found) for p in raw if (found := unknown_fields(p))})


async def with_unlisted_default(client: LaunchDarklyClient, project: str,
                                desired: DesiredPolicies, live: LivePolicies) -> LivePolicies:
    """`live` with the project's default policy when the listing left it out (whether it
    does is UNVERIFIED) and a file may name it: a file would otherwise be planned as a
    create that LaunchDarkly refuses (409). Only then are the files' unlisted keys read,
    one call each; a listing that shows the default costs nothing more."""
    if live.default_key is not None:
        return live
    unlisted = [key for key in desired.policies if key not in live.policies]
    found = await asyncio.gather(*(client.get_policy(project, key) for key in unlisted))
    default = next((raw for raw in found if raw is not None and is_default_policy(raw)), None)
    if default is None:
        return live
    return LivePolicies(
        policies={**live.policies, default["key"]: canonical_live(default)},
        ranked=live.ranked, default_key=default["key"],
        unknown={**live.unknown, **({default["key"]: located(extra)}
                                   if (extra := unknown_fields(default)) else {})})


class Policies:
    name = KIND_NAME
    wording = WORDING
    dispatch = TABLE

    def manages(self, project: DesiredProject) -> bool:
        return bool(project.policies)

    def desired_count(self, project: DesiredProject) -> int:
        return len(project.policies)

    def desired(self, project: DesiredProject) -> DesiredPolicies:
        return desired_policies(project)

    async def fetch(self, client: LaunchDarklyClient, project: str) -> LivePolicies:
        return live_policies(await client.list_policies(project))

    async def plan(self, client: LaunchDarklyClient, project: DesiredProject,
                   desired: DesiredPolicies, live: LivePolicies, options: PlanOptions
                   ) -> ProjectPlan:
        live = await with_unlisted_default(client, project.key, desired, live)
        return plan_policies(project.key, desired, live, options)


POLICIES = Policies()
