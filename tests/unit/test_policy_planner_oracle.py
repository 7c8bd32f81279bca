"""The release-policy planner against an independent oracle, over seeded random projects.

The oracle shares no code with `reconciler.rules` or the planner: it encodes LaunchDarkly's
policy rules afresh (a key once, the default policy never deleted nor ranked, an order
body of exactly the scoped keys of that moment, a new policy ranked last) as a small
emulator, and the tool's rules (prune, protected, the delete threshold, policyOrder with
unmanaged policies in their slots) as expectations. For every case:
- a plan the oracle says the tool must refuse is refused, with no steps;
- any other plan applies step by step on the emulator and ends in the desired state;
- it has no step too many: one per policy that differs, and a reorder only when no order
  of the creates reaches the ranking without one (a brute-force search);
- re-planning from the end state finds nothing to do.
Cases the tool refuses are counted; most cases must be applicable, so that the checks run.
"""

import copy
import itertools
import random
from dataclasses import dataclass, field
from typing import Any

from reconciler.kinds.policies.planner import DesiredPolicies, LivePolicies, plan_policies
from reconciler.manifest.models import ProjectSettings
from reconciler.plan import PlanOptions, ProjectPlan, Step

CASES = 600
POOL = ["k0", "k1", "k2", "k3", "k4", "k5"]
DEFAULT_KEY = "dflt"
CONFIG = "guardedReleaseConfig"


class Refused(Exception):
    """The emulated LaunchDarkly refuses a request."""


@dataclass
class Emulator:
    """LaunchDarkly's release policies of one project, as the oracle understands them."""

    bodies: dict[str, dict[str, Any]]
    ranked: list[str]
    default: str | None
    protected: frozenset[str]

    def run(self, step: Step) -> None:
        key = step.key
        if step.action == "create":
            if key in self.bodies:
                raise Refused(f"409: {key} exists")
            assert step.body is not None and step.body["key"] == key
            self.bodies[key] = copy.deepcopy(step.body)
            self.ranked.append(key)
        elif step.action == "update":
            if key not in self.bodies:
                raise Refused(f"404: {key}")
            assert step.body is not None and "key" not in step.body
            self.bodies[key] = {**copy.deepcopy(step.body), "key": key}
        elif step.action == "delete":
            if key not in self.bodies or key == self.default or key in self.protected:
                raise Refused(f"cannot delete {key}")
            del self.bodies[key]
            self.ranked.remove(key)
        elif step.action == "reorder":
            order = step.order or []
            if self.default in order or sorted(order) != sorted(self.ranked):
                raise Refused(f"400: order {order} for {self.ranked}")
            self.ranked = list(order)
        else:
            raise Refused(f"unknown step {step.action}")


@dataclass
class Case:
    live: dict[str, dict[str, Any]]  # by key, the default's included
    ranked: list[str]
    default: str | None
    files: dict[str, dict[str, Any]]
    order: list[str] | None
    prune: bool
    protected: frozenset[str]
    force: bool
    notes: list[str] = field(default_factory=list)


def random_policy(rng: random.Random, key: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "key": key, "name": rng.choice(["N1", "N2"]),
        "releaseMethod": rng.choice(["guarded-release", "immediate-release"]),
        "scope": {"environmentKeys": sorted(rng.sample(["production", "staging"],
                                                       rng.randint(0, 2))),
                  "flagTagKeys": []},
    }
    if rng.random() < 0.6:
        fields = {"minSampleSize": rng.choice([100, 200]),
                  "rollbackOnRegression": rng.choice([True, False])}
        out[CONFIG] = {k: v for k, v in fields.items() if rng.random() < 0.7}
    return out


def random_case(rng: random.Random) -> Case:
    scoped = rng.sample(POOL, rng.randint(0, 5))  # in rank order
    default = DEFAULT_KEY if rng.random() < 0.8 else None
    live = {k: random_policy(rng, k) for k in [*scoped, *([default] if default else [])]}
    keys = rng.sample([*POOL, *([default] if default and rng.random() < 0.3 else [])],
                      rng.randint(1, 4))
    files = {}
    for key in keys:  # most files equal their live policy, or differ in a little
        if key in live and rng.random() < 0.5:
            files[key] = copy.deepcopy(live[key])
        else:
            files[key] = random_policy(rng, key)
    if len(files) > 1 or rng.random() < 0.5:
        order: list[str] | None = rng.sample(list(files), len(files))
    else:
        order = None
    return Case(live=live, ranked=scoped, default=default, files=files, order=order,
                prune=rng.random() < 0.5,
                protected=frozenset(k for k in scoped if rng.random() < 0.2),
                force=rng.random() < 0.3)


# --- what the oracle expects -------------------------------------------------------------


def expected_policy(file: dict[str, Any], live: dict[str, Any] | None) -> dict[str, Any]:
    """An omitted field inside a config keeps its live value; nothing else does."""
    out = copy.deepcopy(file)
    if live is not None and isinstance(live.get(CONFIG), dict) and CONFIG in out:
        out[CONFIG] = {**live[CONFIG], **out[CONFIG]}
    return out


def expected_deletes(case: Case) -> set[str]:
    if not case.prune:
        return set()
    return {k for k in case.ranked if k not in case.files and k not in case.protected}


def must_refuse(case: Case) -> bool:
    """The tool's delete threshold: all of the scoped policies, or over 30% of 4 or more."""
    deleted, count = len(expected_deletes(case)), len(case.ranked)
    if case.force or deleted == 0:
        return False
    return deleted == count or (count >= 4 and deleted * 100 > 30 * count)


def expected_ranking(case: Case, created: list[str]) -> list[str]:
    """Unmanaged scoped policies keep their slots; managed ones fill the others in
    policyOrder's order. Without policyOrder: whatever creating leaves."""
    staying = [k for k in case.ranked if k not in expected_deletes(case)]
    if case.order is None:
        return staying + created
    slots = staying + created
    managed = iter(k for k in case.order if k in slots)
    return [next(managed) if k in case.files else k for k in slots]


def reorder_avoidable(case: Case, creates: list[str]) -> bool:
    """Brute force: some order of the creates leaves the desired ranking as it is."""
    return any(expected_ranking(case, list(p)) == [
        k for k in case.ranked if k not in expected_deletes(case)] + list(p)
        for p in itertools.permutations(creates))


# --- the check ---------------------------------------------------------------------------


def plan_case(case: Case, live: dict[str, dict[str, Any]], ranked: list[str]) -> ProjectPlan:
    desired = DesiredPolicies(
        policies=copy.deepcopy(case.files), order=case.order,
        settings=ProjectSettings(prune=case.prune, protected=sorted(case.protected)))
    return plan_policies("web", desired,
                         LivePolicies(policies=copy.deepcopy(live), ranked=list(ranked),
                                      default_key=case.default),
                         PlanOptions(force=case.force))


def check(case: Case) -> bool:
    """True when the plan is applicable (and checked), False when rightly refused."""
    plan = plan_case(case, case.live, case.ranked)
    if must_refuse(case):
        assert plan.refusals and not plan.steps, plan
        return False
    assert not plan.refusals, plan.refusals
    emulator = Emulator(copy.deepcopy(case.live), list(case.ranked), case.default,
                        case.protected)
    for step in plan.steps:
        emulator.run(step)  # raises Refused: the plan breaks a rule at this step

    want = {k: expected_policy(f, case.live.get(k)) for k, f in case.files.items()}
    kept = {k: v for k, v in case.live.items()
            if k not in case.files and k not in expected_deletes(case)}
    assert emulator.bodies == {**kept, **want}
    creates = [s.key for s in plan.steps if s.action == "create"]
    assert sorted(creates) == sorted(k for k in case.files if k not in case.live)
    assert emulator.ranked == expected_ranking(case, creates)
    assert plan.orderAfter == emulator.ranked

    updates = {s.key for s in plan.steps if s.action == "update"}
    assert updates == {k for k in case.files if k in case.live and want[k] != case.live[k]}
    reorders = [s for s in plan.steps if s.action == "reorder"]
    assert len(reorders) <= 1
    assert bool(reorders) == (case.order is not None and not reorder_avoidable(
        case, sorted(k for k in case.files if k not in case.live)))

    again = plan_case(case, emulator.bodies, emulator.ranked)
    assert (again.steps, again.refusals) == ([], []), again
    return True


def test_every_plan_applies_step_by_step_and_reaches_the_desired_state() -> None:
    applicable = refused = 0
    for seed in range(CASES):
        case = random_case(random.Random(seed))
        try:
            ok = check(case)
        except (AssertionError, Refused) as failure:
            raise AssertionError(f"seed {seed}: {case}") from failure
        applicable += ok
        refused += not ok
    assert applicable + refused == CASES
    assert applicable >= CASES * 3 // 4, (applicable, refused)
    assert refused >= CASES // 50, "the threshold is never exercised"
