"""Property: for random live and desired states within LaunchDarkly's limits, applying
the plan to the sandbox makes live equal desired, the sandbox refuses no step, and a
re-plan is empty. In process (the ASGI transport), so hundreds of steps stay fast."""

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from reconciler.apply import apply_plan
from reconciler.engine import build_plan
from reconciler.launchdarkly import LaunchDarklyClient
from reconciler.manifest import DesiredProject
from reconciler.manifest.models import CreateReleasePipelineInput, ProjectSettings
from reconciler.normalize import canonical_desired, canonical_live
from reconciler.plan import PlanOptions
from reconciler.sandbox import create_app, seed_state, transport
from reconciler.settings import sandbox_settings

KEYS = [f"p{i:02}" for i in range(24)]


def body(key: str, name: str, env: str, phases: int, legacy: bool | None) -> dict[str, Any]:
    raw: dict[str, Any] = {"key": key, "name": name, "phases": [
        {"name": f"Phase {i}", "audiences": [{"name": "All", "environmentKey": env}]}
        for i in range(phases)]}
    if legacy is not None:
        raw["isLegacy"] = legacy
    return raw


@st.composite
def pipelines(draw, legacy: st.SearchStrategy) -> list[dict[str, Any]]:
    keys = draw(st.lists(st.sampled_from(KEYS), unique=True, max_size=20))
    return [body(k, draw(st.sampled_from(["A", "B"])),
                 draw(st.sampled_from(["test", "production"])), draw(st.integers(1, 3)),
                 draw(legacy)) for k in keys]


@st.composite
def scenarios(draw) -> tuple[list, str | None, list, str | None, bool]:
    live = draw(pipelines(st.booleans()))
    desired = draw(pipelines(st.sampled_from([None, True, False])).filter(bool))
    live_default = draw(st.sampled_from([None, *(p["key"] for p in live)]))
    desired_default = draw(st.sampled_from([None, *(p["key"] for p in desired)]))
    return live, live_default, desired, desired_default, draw(st.booleans())


async def reconcile(state: Path, project: DesiredProject) -> tuple[Any, Any, Any]:
    app = create_app(state)
    options = PlanOptions(force=True)
    async with LaunchDarklyClient(sandbox_settings(4), transport=transport(app)) as client:
        plan = await build_plan(client, [project], options)
        report = await apply_plan(client, plan) if plan.applicable else None
        replan = await build_plan(client, [project], options)
        live = await client.list_pipelines("web")
    refused = [r for r in app.state.request_log if r.status is not None and r.status >= 400]
    return plan, report, (replan, live, refused)


def reaches_desired_on_the_sandbox(state: Path, scenario) -> bool:
    """False when the planner refuses (and the sandbox saw no change); otherwise check
    that applying the plan reached git and say True."""
    live, live_default, desired, desired_default, prune = scenario
    fixture: dict[str, Any] = {"environments": ["test", "production"], "pipelines": live}
    if live_default:
        fixture["default"] = live_default
    seed_state(state, {"projects": {"web": fixture}})
    models = {}
    for raw in desired:
        if raw["key"] == desired_default:
            raw = {**raw, "isProjectDefault": True}
        models[raw["key"]] = CreateReleasePipelineInput.model_validate(raw)
    project = DesiredProject("web", ProjectSettings(prune=prune), models,
                             {k: Path(f"{k}.yaml") for k in models})

    plan, report, (replan, live_after, refused) = asyncio.run(reconcile(state, project))
    if not plan.applicable:
        assert plan.projects[0].refusals and not refused
        return False
    assert report is not None and report.ok, report
    assert refused == [], refused  # the sandbox, keeping LaunchDarkly's rules, refused nothing
    assert replan.step_count == 0
    by_key = {p["key"]: p for p in live_after}
    for key, model in models.items():
        want = canonical_desired(model)
        got = canonical_live(by_key[key])
        assert got["name"] == want["name"] and got["phases"] == want["phases"]
        if want["isLegacy"] is not None:
            assert got["isLegacy"] == want["isLegacy"]
    defaults = [k for k, p in by_key.items() if p.get("isProjectDefault")]
    if desired_default:
        assert defaults == [desired_default]
    elif live_default and (live_default in models or not prune):
        assert defaults == [live_default]  # a default git does not manage stays put
    assert not any("[reconciler:" in (p.get("description") or "") for p in live_after)
    if not prune:
        assert {p["key"] for p in live} - set(models) <= set(by_key)
    assert len(live_after) <= 20
    return True


def test_apply_reaches_desired_on_the_sandbox(tmp_path: Path) -> None:
    outcomes: Counter[bool] = Counter()

    @settings(max_examples=100, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(scenarios())
    def check(scenario) -> None:
        state = tmp_path / f"state-{sum(outcomes.values())}.json"
        applicable = reaches_desired_on_the_sandbox(state, scenario)
        event("applied" if applicable else "refused")
        outcomes[applicable] += 1

    check()
    # Refusals skip the checks above: bound their share so the property keeps its teeth.
    assert outcomes[True] >= 0.75 * sum(outcomes.values()), outcomes
