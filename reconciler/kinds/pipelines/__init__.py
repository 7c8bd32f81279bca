"""Release pipelines, the first kind: files pipelines/<project>/<key>.yaml, one list call
(`limit=20`) per project, the active releases of pipelines about to be removed or
re-phased, and the reference preflight.

Modules: inputs (canonical desired and live), classify (what each pipeline needs),
marker (the parked default's marker), order (holders of the default, the build), proof
(simulate, verify), planner (plan_project: the rules' blocks and refusals, then the
first proven order), dispatch (replay and requests per Action), reads (the I/O a plan
needs beyond the listing), wording (how renderings name and show pipelines)."""

from reconciler.kinds.pipelines.classify import classify
from reconciler.kinds.pipelines.dispatch import TABLE
from reconciler.kinds.pipelines.inputs import DesiredInput, LiveInput, desired_input, live_input
from reconciler.kinds.pipelines.planner import KIND_NAME, plan_project
from reconciler.kinds.pipelines.proof import simulate
from reconciler.kinds.pipelines.reads import active_releases, preflight
from reconciler.kinds.pipelines.wording import WORDING
from reconciler.launchdarkly import LaunchDarklyClient
from reconciler.manifest import DesiredProject
from reconciler.plan import PlanOptions, ProjectPlan


class Pipelines:
    name = KIND_NAME
    wording = WORDING
    dispatch = TABLE

    def manages(self, project: DesiredProject) -> bool:
        # Also a folder with no file of any kind: prune there empties the project, as before.
        return project.manages_pipelines

    def desired_count(self, project: DesiredProject) -> int:
        return len(project.pipelines)

    def desired(self, project: DesiredProject) -> DesiredInput:
        return desired_input(project)

    async def fetch(self, client: LaunchDarklyClient, project: str) -> LiveInput:
        return live_input(await client.list_pipelines(project))

    async def plan(self, client: LaunchDarklyClient, project: DesiredProject,
                   desired: DesiredInput, live: LiveInput, options: PlanOptions
                   ) -> ProjectPlan:
        classified = classify(desired, live)
        active = await active_releases(client, project.key, classified)
        planned = plan_project(project.key, desired, live, active, options, classified)
        return await preflight(client, project, live, planned)


PIPELINES = Pipelines()

__all__ = ["PIPELINES", "DesiredInput", "LiveInput", "Pipelines", "classify", "desired_input",
           "live_input", "plan_project", "simulate"]
