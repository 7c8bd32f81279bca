"""A replace of a default git does not manage, interrupted at every point, converges.

For each scenario the plan is cut after every step, and inside every replace between its
DELETE and its POST; the cut prefix is applied to the sandbox, then a fresh plan is made
and applied (and that re-run is itself cut at every point, once more). The end state must
equal the uninterrupted run's, the default must be back on the pipeline that held it before
(worked out by hand), no marker may be left, and a re-plan must be empty. In process (the
ASGI transport), so the many cuts stay fast.
"""

import asyncio
from pathlib import Path
from typing import Any

import pytest

from reconciler.apply import apply_plan
from reconciler.engine import build_plan
from reconciler.launchdarkly import LaunchDarklyClient
from reconciler.manifest import DesiredProject
from reconciler.manifest.models import CreateReleasePipelineInput, ProjectSettings
from reconciler.normalize import canonical_live
from reconciler.plan import Action, Plan, PlanOptions
from reconciler.sandbox import create_app, seed_state, transport
from reconciler.settings import sandbox_settings
from tests.builders import pipeline, project

OPTIONS = PlanOptions(force=True)


def flip(key: str, legacy: bool, **extra: Any) -> dict[str, Any]:
    return pipeline(key, isLegacy=legacy, **extra)


# name: (live pipelines, live default, git pipelines, prune, the default at the end)
SCENARIOS: dict[str, tuple[list, str, list, bool, str]] = {
    "a managed pipeline holds": (
        [flip("a", False), flip("b", False, description="second"), flip("c", False)], "a",
        [flip("a", True), flip("b", False, description="second"), flip("c", False)],
        False, "a"),
    "every pipeline flips": (
        [flip("a", False), flip("b", False), flip("c", False)], "b",
        [flip("a", True), flip("b", True), flip("c", True)], False, "b"),
    "a hand-made pipeline holds": (
        [flip("a", False), flip("u", False, description="made by hand")], "a",
        [flip("a", True)], False, "a"),
    "a pruned pipeline holds": (
        [flip("a", False), flip("x", False)], "a", [flip("a", True)], True, "a"),
    "a new pipeline holds": (
        [flip("a", False)], "a", [flip("a", True), flip("n", False)], False, "a"),
}


def desired(git: list[dict[str, Any]], prune: bool) -> DesiredProject:
    models = {raw["key"]: CreateReleasePipelineInput.model_validate(raw) for raw in git}
    return DesiredProject("web", ProjectSettings(prune=prune), models,
                          {k: Path(f"{k}.yaml") for k in models})


async def snapshot(client: LaunchDarklyClient) -> tuple[dict[str, Any], list[str]]:
    live = await client.list_pipelines("web")
    return ({p["key"]: canonical_live(p) for p in live},
            [p["key"] for p in live if p.get("isProjectDefault")])


def prefix(plan: Plan, steps: int) -> Plan:
    (only,) = plan.projects
    return plan.model_copy(update={
        "projects": [only.model_copy(update={"steps": only.steps[:steps]})]})


Cut = tuple[int, bool]  # steps applied, and whether the next step's DELETE ran too


async def run(state: Path, target: DesiredProject, cuts: list[Cut]
              ) -> tuple[list[Action], tuple[dict[str, Any], list[str]], Plan]:
    """Plan and apply once per cut, each interrupted there, then plan and apply in full.
    Returns the full run's actions, the end snapshot and the re-plan after it."""
    async with LaunchDarklyClient(sandbox_settings(2), transport=transport(create_app(state))
                                  ) as client:
        for steps, mid_replace in cuts:
            plan = await build_plan(client, [target], OPTIONS)
            assert plan.applicable, plan.projects[0].refusals
            if steps:
                assert (await apply_plan(client, prefix(plan, steps))).ok
            if mid_replace:
                step = plan.projects[0].steps[steps]
                assert step.action is Action.REPLACE
                await client.delete_pipeline("web", step.key)
        plan = await build_plan(client, [target], OPTIONS)
        assert plan.applicable, plan.projects[0].refusals
        assert (await apply_plan(client, plan)).ok
        return ([s.action for s in plan.projects[0].steps], await snapshot(client),
                await build_plan(client, [target], OPTIONS))


def cut_points(actions: list[Action]) -> list[Cut]:
    """After every step, and inside every replace."""
    return [(steps, False) for steps in range(len(actions) + 1)] + [
        (steps, True) for steps, action in enumerate(actions) if action is Action.REPLACE]


@pytest.mark.parametrize("name", SCENARIOS)
def test_an_interrupted_replace_of_the_default_converges(tmp_path: Path, name: str) -> None:
    """Interrupted once at every point, and the re-run interrupted again at every point."""
    live, live_default, git, prune, end_default = SCENARIOS[name]
    target = desired(git, prune)
    runs = iter(range(1000))

    def converges(cuts: list[Cut]) -> list[Action]:
        state = tmp_path / f"run-{next(runs)}.json"
        seed_state(state, {"projects": {"web": project(live, default=live_default)}})
        actions, (pipelines, defaults), after = asyncio.run(run(state, target, cuts))
        assert defaults == [end_default], cuts
        assert not any("[reconciler:" in p["description"] for p in pipelines.values()), cuts
        assert pipelines == reference, cuts
        assert after.step_count == 0, cuts
        return actions

    reference: dict[str, Any] = {}
    state = tmp_path / "uninterrupted.json"
    seed_state(state, {"projects": {"web": project(live, default=live_default)}})
    actions, (reference, defaults), _ = asyncio.run(run(state, target, []))
    assert Action.REPLACE in actions and defaults == [end_default]
    for first in cut_points(actions):
        for second in cut_points(converges([first])):
            converges([first, second])
