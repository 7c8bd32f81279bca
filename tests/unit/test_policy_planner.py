"""The release-policy planner on hand-computed cases: which steps, in which order, with
which bodies, and the ranking before and after."""

from typing import Any

import pytest

from reconciler.kinds.policies.planner import (
    DesiredPolicies,
    LivePolicies,
    plan_policies,
    simulate,
)
from reconciler.manifest.models import ProjectSettings
from reconciler.plan import Action, PlanOptions, ProjectPlan, Step
from reconciler.rules import Rule, RuleViolation


def policy(key: str, envs: tuple[str, ...] = (), tags: tuple[str, ...] = (),
           method: str = "immediate-release", **extra: Any) -> dict[str, Any]:
    """A policy in the canonical form (scope lists sorted)."""
    return {"key": key, "name": key.title(), "releaseMethod": method,
            "scope": {"environmentKeys": sorted(envs), "flagTagKeys": sorted(tags)}, **extra}


DEFAULT = policy("default")


def live(*scoped: dict[str, Any], default: dict[str, Any] | None = DEFAULT,
         unknown: dict[str, list[tuple[str, Any]]] | None = None) -> LivePolicies:
    """Live with `scoped` ranked in the order given, and the default policy."""
    policies = {p["key"]: p for p in scoped}
    if default is not None:
        policies[default["key"]] = default
    return LivePolicies(policies=policies, ranked=[p["key"] for p in scoped],
                        default_key=None if default is None else default["key"],
                        unknown=unknown or {})


def desired(*files: dict[str, Any], order: list[str] | None = None,
            **settings: Any) -> DesiredPolicies:
    # Not validated: the planner takes settings as given (validation is the loader's).
    return DesiredPolicies(policies={p["key"]: p for p in files}, order=order,
                           settings=ProjectSettings.model_construct(**settings))


def plan(d: DesiredPolicies, lv: LivePolicies, **options: Any) -> ProjectPlan:
    return plan_policies("web", d, lv, PlanOptions(**options))


def summary(p: ProjectPlan) -> list[tuple[str, str]]:
    return [(str(s.action), s.key) for s in p.steps]


A, B, C = policy("a", ("production",)), policy("b", ("staging",)), policy("c", tags=("x",))


def test_creates_follow_policy_order_so_no_reorder_is_needed() -> None:
    p = plan(desired(A, B, order=["b", "a"]), live())
    assert summary(p) == [("create", "b"), ("create", "a")]
    assert (p.kind, p.orderBefore, p.orderAfter) == ("policies", [], ["b", "a"])
    assert p.steps[0].body == B  # PostReleasePolicyRequest: the file as is, key included


def test_a_new_policy_ranked_last_is_moved_up_by_one_reorder() -> None:
    p = plan(desired(A, C, order=["c", "a"]), live(A))
    assert summary(p) == [("create", "c"), ("reorder", "policyOrder")]
    assert p.steps[1].order == ["c", "a"]
    assert (p.orderBefore, p.orderAfter) == (["a"], ["c", "a"])


def test_a_changed_order_alone_is_one_reorder_of_every_scoped_key() -> None:
    p = plan(desired(A, B, order=["b", "a"]), live(A, B))
    assert summary(p) == [("reorder", "policyOrder")]
    assert p.steps[0].order == ["b", "a"]
    assert p.steps[0].body is None


def test_unmanaged_policies_keep_their_slots_and_stay_in_the_order_body() -> None:
    u = policy("u", ("test",))
    p = plan(desired(A, B, order=["b", "a"]), live(A, u, B))
    assert summary(p) == [("reorder", "policyOrder")]
    assert p.steps[0].order == ["b", "u", "a"]
    assert p.unmanaged == ["u", "default"]


def test_in_sync_is_no_step() -> None:
    p = plan(desired(A, B, order=["a", "b"]), live(A, B))
    assert (p.steps, p.refusals, p.orderAfter) == ([], [], ["a", "b"])


def test_without_policy_order_the_ranking_is_not_managed() -> None:
    p = plan(desired(C), live(A, B))
    assert summary(p) == [("create", "c")]
    assert p.orderAfter == ["a", "b", "c"]


def test_steps_run_deletes_then_updates_then_creates_then_the_reorder() -> None:
    changed = {**A, "name": "Production"}
    p = plan(desired(changed, C, order=["c", "a"], prune=True), live(B, A))
    assert summary(p) == [("delete", "b"), ("update", "a"), ("create", "c"),
                          ("reorder", "policyOrder")]
    assert p.steps[-1].order == ["c", "a"]  # b is gone by then: the keys of that moment


def test_update_sends_the_whole_policy_but_its_key() -> None:
    p = plan(desired({**A, "name": "Production"}), live(A))
    (step,) = p.steps
    assert step.body == {k: v for k, v in A.items() if k != "key"} | {"name": "Production"}
    assert [(c.path, c.old, c.new) for c in step.changes] == [("/name", "A", "Production")]


def test_a_field_omitted_inside_a_config_keeps_its_live_value() -> None:
    config = {"rolloutContextKindKey": "user", "minSampleSize": 100,
              "stages": [{"allocation": 10000, "durationMillis": 60000}]}
    current = policy("g", method="guarded-release", guardedReleaseConfig=config)
    file = policy("g", method="guarded-release", guardedReleaseConfig={
        "stages": [{"allocation": 20000, "durationMillis": 60000}]})
    (step,) = plan(desired(file), live(current)).steps
    assert step.body is not None
    assert step.body["guardedReleaseConfig"] == {
        "rolloutContextKindKey": "user", "minSampleSize": 100,
        "stages": [{"allocation": 20000, "durationMillis": 60000}]}
    assert [c.path for c in step.changes] == ["/guardedReleaseConfig/stages/0/allocation"]


def test_a_file_leaving_out_only_what_live_has_is_in_sync() -> None:
    current = policy("g", method="guarded-release", guardedReleaseConfig={"minSampleSize": 5})
    file = policy("g", method="guarded-release", guardedReleaseConfig={})
    assert plan(desired(file), live(current)).steps == []


def test_unknown_live_fields_are_carried_into_the_put_body_and_reported() -> None:
    lv = live(A, unknown={"a": [("/scope/viewKeys", ["team-a"]), ("/labels", ["x"])]})
    p = plan(desired({**A, "name": "Production"}), lv)
    (step,) = p.steps
    assert step.body is not None
    assert step.body["scope"] == {"environmentKeys": ["production"], "flagTagKeys": [],
                                  "viewKeys": ["team-a"]}
    assert step.body["labels"] == ["x"]
    assert [(n.key, n.fields, n.dropped) for n in p.notManaged] == [
        ("a", ["/scope/viewKeys", "/labels"], [])]


def test_an_unknown_field_whose_object_git_removed_is_reported_dropped() -> None:
    current = policy("g", method="guarded-release", guardedReleaseConfig={})
    lv = live(current, unknown={"g": [("/guardedReleaseConfig/metricRegressionThreshold",
                                       0.05)]})
    p = plan(desired(policy("g")), lv)
    assert p.steps[0].body is not None and "guardedReleaseConfig" not in p.steps[0].body
    assert p.notManaged[0].dropped == ["/guardedReleaseConfig/metricRegressionThreshold"]


def test_an_ignored_field_is_not_compared_and_keeps_its_live_value() -> None:
    lv = live({**A, "name": "Edited in the UI"})
    assert plan(desired(A, ignore=["/name"]), lv).steps == []
    (step,) = plan(desired({**A, "releaseMethod": "guarded-release"}, ignore=["/name"]),
                   lv).steps
    assert step.body is not None and step.body["name"] == "Edited in the UI"


def test_the_default_policy_is_kept_even_with_prune_and_never_ranked() -> None:
    p = plan(desired(A, prune=True), live(A))
    assert (p.steps, p.unmanaged) == ([], ["default"])


def test_a_file_with_the_default_policys_key_updates_it_and_leaves_it_unranked() -> None:
    file = {**DEFAULT, "name": "Everything else"}
    p = plan(desired(A, B, file, order=["b", "default", "a"]), live(A, B))
    assert summary(p) == [("update", "default"), ("reorder", "policyOrder")]
    assert p.steps[1].order == ["b", "a"]


def test_prune_deletes_a_policy_without_a_file_but_never_a_protected_one() -> None:
    p = plan(desired(A, prune=True, protected=["b"]), live(A, B, C))
    assert summary(p) == [("delete", "c")]
    assert p.unmanaged == ["b", "default"]
    assert p.steps[0].before == C


def test_deleting_every_scoped_policy_needs_force() -> None:
    d = desired(policy("new"), prune=True)
    p = plan(d, live(A, B))
    assert p.steps == []
    assert p.refusals == ["the plan deletes all 2 policies of the project (a, b); "
                          "pass --force to allow it"]
    assert summary(plan(d, live(A, B), force=True)) == [
        ("delete", "a"), ("delete", "b"), ("create", "new")]


def test_a_project_without_a_default_policy_is_planned_the_same() -> None:
    p = plan(desired(A, B, order=["b", "a"]), live(A, default=None))
    assert summary(p) == [("create", "b"), ("reorder", "policyOrder")]
    assert (p.unmanaged, p.orderAfter) == ([], ["b", "a"])


def test_the_simulator_refuses_an_order_body_missing_a_key_of_that_moment() -> None:
    steps = [Step(action=Action.CREATE, key="c", body=C, after=C),
             Step(action=Action.REORDER, key="policyOrder", order=["b", "a"])]
    with pytest.raises(RuleViolation) as raised:
        simulate(live(A, B), steps, ProjectSettings())
    assert raised.value.rule is Rule.ORDER_KEYS


def test_the_simulator_refuses_deleting_the_default_policy() -> None:
    with pytest.raises(RuleViolation) as raised:
        simulate(live(A), [Step(action=Action.DELETE, key="default")], ProjectSettings())
    assert raised.value.rule is Rule.DEFAULT_DELETE


def test_fingerprints_differ_when_only_the_ranking_differs() -> None:
    d = desired(A, B)
    assert plan(d, live(A, B)).fingerprint != plan(d, live(B, A)).fingerprint


def test_an_ignored_stage_field_follows_its_stage_by_position() -> None:
    def guarded(*stages: tuple[int, int]) -> dict[str, Any]:
        return policy("g", method="guarded-release", guardedReleaseConfig={"stages": [
            {"allocation": a, "durationMillis": d} for a, d in stages]})

    ignore = ["/guardedReleaseConfig/stages/*/durationMillis"]
    lv = live(guarded((10000, 111)))
    assert plan(desired(guarded((10000, 60000)), ignore=ignore), lv).steps == []
    (step,) = plan(desired(guarded((20000, 60000), (50000, 60000)), ignore=ignore), lv).steps
    assert step.body is not None
    assert step.body["guardedReleaseConfig"]["stages"] == [
        {"allocation": 20000, "durationMillis": 111},  # live's, at the same position
        {"allocation": 50000, "durationMillis": 60000},  # a new stage: git's value is sent
    ]


def test_an_unknown_field_of_a_stage_is_carried_at_its_position() -> None:
    current = policy("g", method="guarded-release", guardedReleaseConfig={
        "stages": [{"allocation": 1, "durationMillis": 2}]})
    file = policy("g", method="guarded-release", guardedReleaseConfig={
        "stages": [{"allocation": 3, "durationMillis": 2}]})
    lv = live(current, unknown={"g": [("/guardedReleaseConfig/stages/0/note", "x")]})
    (step,) = plan(desired(file), lv).steps
    assert step.body is not None
    assert step.body["guardedReleaseConfig"]["stages"] == [
        {"allocation": 3, "durationMillis": 2, "note": "x"}]


def test_the_preview_shows_which_policy_each_flag_gets_before_and_after() -> None:
    everywhere = policy("everywhere")  # no scope: every environment, every flag
    p = plan(desired(A, everywhere, order=["a", "everywhere"], prune=True),
             live(everywhere, B))
    rows = {(r.environment, r.flagTag): (r.before, r.after) for r in p.preview}
    assert rows == {
        ("production", None): ("everywhere", "a"),
        ("staging", None): ("everywhere", "everywhere"),
        (None, None): ("everywhere", "everywhere"),
    }


def test_a_refused_plan_previews_no_change() -> None:
    p = plan(desired(policy("new"), prune=True), live(A, B))
    assert p.refusals and all(r.before == r.after for r in p.preview)
    assert p.orderAfter == ["a", "b"]
