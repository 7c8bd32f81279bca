"""Release policies as the planner reads them: a project's files and a listing, canonical,
and the one further read a listing may need."""

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.kinds.policies.canonical import (
    canonical_desired,
    canonical_live,
    is_default_policy,
    unknown_fields,
)
from reconciler.kinds.policies.planner import DesiredPolicies, LivePolicies
from reconciler.launchdarkly import LaunchDarklyClient
from reconciler.manifest import DesiredProject
from reconciler.normalize import located


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
