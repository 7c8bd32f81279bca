"""Release policies as a Kind: the files the manifest read, one list call, the planner,
the dispatch table.

The registry holds POLICIES in every run, and a project without policy files only asks
it whether it manages the project: the rest (the policy models, canonical forms, planner,
dispatch table and wording) loads when a policy is first planned or shown."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reconciler.kinds import Wording
    from reconciler.kinds.policies.planner import DesiredPolicies, LivePolicies
    from reconciler.launchdarkly import LaunchDarklyClient
    from reconciler.manifest import DesiredProject
    from reconciler.plan import PlanOptions, ProjectPlan
    from reconciler.plan.dispatch import DispatchTable

KIND_NAME = "policies"


class Policies:
    name = KIND_NAME

    @functools.cached_property
    def wording(self) -> Wording:
        from reconciler.kinds.policies.wording import WORDING

        return WORDING

    @functools.cached_property
    def dispatch(self) -> DispatchTable[Any]:
        from reconciler.kinds.policies.dispatch import TABLE

        return TABLE

    def manages(self, project: DesiredProject) -> bool:
        return bool(project.policies)

    def desired_count(self, project: DesiredProject) -> int:
        return len(project.policies)

    def desired(self, project: DesiredProject) -> DesiredPolicies:
        from reconciler.kinds.policies.inputs import desired_policies

        return desired_policies(project)

    async def fetch(self, client: LaunchDarklyClient, project: str) -> LivePolicies:
        from reconciler.kinds.policies.inputs import live_policies

        return live_policies(await client.list_policies(project))

    async def plan(self, client: LaunchDarklyClient, project: DesiredProject,
                   desired: DesiredPolicies, live: LivePolicies, options: PlanOptions
                   ) -> ProjectPlan:
        from reconciler.kinds.policies.inputs import with_unlisted_default
        from reconciler.kinds.policies.planner import plan_policies

        live = await with_unlisted_default(client, project.key, desired, live)
        return plan_policies(project.key, desired, live, options)


POLICIES = Policies()
