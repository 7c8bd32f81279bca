"""The planner against an independent oracle: a breadth-first search over small projects.

The oracle shares no code with `reconciler.rules` or the planner. It encodes LaunchDarkly's
rules and the tool's own (DESIGN.md section 4) afresh, searches every sequence of the five
step kinds over an abstract project (each pipeline that needs a change is either before or
after it; the default; the count) and says whether the desired state is reachable without
breaking a rule at any step. Then:
- reachable: the planner must return an applicable plan, and replaying its steps with the
  oracle's own step semantics must keep every rule after every step and end in the desired
  state;
- unreachable: the planner must refuse (never emit a plan that applies).
"""

from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st

from reconciler.kinds.pipelines import DesiredInput, LiveInput, plan_project
from reconciler.manifest.models import ProjectSettings
from reconciler.normalize import canonical
from reconciler.plan import PlanOptions, Step

CAP = 20  # LaunchDarkly: at most 20 pipelines in a project

# What a pipeline needs, as the oracle sees it. "keep" is a live pipeline with no file that
# stays (prune off, or protected); "prune" is one with no file that prune deletes.
SAME, RENAME, REPHASE, FLIP, CREATE, KEEP, PRUNE = (
    "same", "rename", "rephase", "flip", "create", "keep", "prune")
CHANGING = (RENAME, REPHASE, FLIP, CREATE, PRUNE)


@dataclass(frozen=True)
class Case:
    kinds: dict[str, str]  # key -> what it needs
    legacy: dict[str, bool]  # live isLegacy of live pipelines
    live_default: str | None
    git_default: str | None
    active: frozenset[str] = frozenset()  # pipelines with active releases
    protected: frozenset[str] = frozenset()
    allow_active: bool = False
    prune: bool = False
    managed_legacy: dict[str, bool] = field(default_factory=dict)  # git states isLegacy

    def in_live(self, key: str) -> bool:
        return self.kinds[key] != CREATE

    def in_git(self, key: str) -> bool:
        return self.kinds[key] not in (KEEP, PRUNE)


# --- the oracle ------------------------------------------------------------------------------


def goal_default(case: Case) -> tuple[bool, str | None]:
    """(possible, key): the default the end state must have (None: any). The tool's rule: git's
    isProjectDefault if a file has it; else the live default stays where it is; a pruned live
    default with no default in git is refused."""
    if case.git_default is not None:
        return True, case.git_default
    if case.live_default is None:
        return True, None
    return case.kinds[case.live_default] != PRUNE, case.live_default


def oracle_reachable(case: Case) -> bool:
    possible, goal = goal_default(case)
    if not possible:
        return False
    changing = sorted(k for k, kind in case.kinds.items() if kind in CHANGING)
    static = sorted(k for k in case.kinds if k not in changing)
    # Pipelines that never change are interchangeable as holders of the default, except the
    # goal and the live default: one stands for the others.
    holders = {*(k for k in (goal, case.live_default) if k in static), *static[:1]}

    def present(state: tuple[int, ...]) -> set[str]:
        here = set(static)
        for key, done in zip(changing, state, strict=True):
            if (case.kinds[key] == CREATE) == bool(done) or case.kinds[key] in (
                    RENAME, REPHASE, FLIP):
                here.add(key)
        return here

    def removable(key: str, default: str | None) -> bool:
        return key != default and key not in case.active and key not in case.protected

    def moves(state: tuple[int, ...], default: str | None
              ) -> Iterator[tuple[tuple[int, ...], str | None]]:
        here = present(state)
        for i, key in enumerate(changing):
            if state[i]:
                continue
            done = (*state[:i], 1, *state[i + 1:])
            kind = case.kinds[key]
            if kind == CREATE and len(here) < CAP:
                yield done, key if not here or default is None else default
                yield done, key  # with isProjectDefault: true
            elif kind == RENAME or (kind == REPHASE and (
                    key not in case.active or case.allow_active)):
                yield done, default
            elif kind == FLIP and removable(key, default):
                alone = len(here) == 1
                yield done, key if alone or default is None else default
                yield done, key
            elif kind == PRUNE and removable(key, default):
                yield done, default
        for key in here & ({*changing} | holders):
            yield state, key

    start = ((0,) * len(changing), case.live_default)
    seen = {start}
    queue = deque([start])
    while queue:
        state, default = queue.popleft()
        if all(state) and (goal is None or default == goal):
            return True
        for nxt in moves(state, default):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return False


# --- building the planner's inputs ----------------------------------------------------------


def live_body(key: str, case: Case) -> dict[str, Any]:
    return {"key": key, "name": "A", "description": f"about {key}",
            "isLegacy": case.legacy[key], "phases": phases(1)}


def git_body(key: str, case: Case) -> dict[str, Any]:
    kind = case.kinds[key]
    body: dict[str, Any] = {"key": key, "name": "B" if kind == RENAME else "A",
                            "description": f"about {key}",
                            "phases": phases(2 if kind == REPHASE else 1)}
    if kind == FLIP:
        body["isLegacy"] = not case.legacy[key]
    elif key in case.managed_legacy:
        body["isLegacy"] = case.managed_legacy[key]
    return body


def phases(count: int) -> list[dict[str, Any]]:
    return [{"name": f"P{i}", "audiences": [{"name": "All", "environmentKey": "test"}]}
            for i in range(count)]


def plan_for(case: Case):
    live = LiveInput({k: canonical(live_body(k, case)) for k in case.kinds if case.in_live(k)},
                     case.live_default)
    desired = DesiredInput(
        {k: canonical(git_body(k, case)) for k in case.kinds if case.in_git(k)},
        case.git_default,
        ProjectSettings(prune=case.prune, protected=sorted(case.protected)))
    active = {k: ["flag-1"] for k in case.active}
    options = PlanOptions(force=True, allowActiveReleases=case.allow_active)
    return plan_project("web", desired, live, active, options)


# --- replaying a plan with the oracle's own step semantics ----------------------------------


class Broken(AssertionError):
    pass


def replay(case: Case, steps: list[Step]) -> tuple[dict[str, dict[str, Any]], str | None]:
    """Run the steps over the live project as LaunchDarkly would; raise Broken at the first
    step that breaks a rule."""
    project = {k: dict(live_body(k, case)) for k in case.kinds if case.in_live(k)}
    default = case.live_default

    def remove(key: str) -> None:
        if key not in project:
            raise Broken(f"{key} is not there")
        if key == default:
            raise Broken(f"{key} is the default")
        if key in case.active or key in case.protected:
            raise Broken(f"{key} has active releases or is protected")
        del project[key]

    def create(body: dict[str, Any]) -> None:
        nonlocal default
        key = body["key"]
        if key in project or len(project) >= CAP:
            raise Broken(f"cannot create {key}")
        if not project or default is None or body.get("isProjectDefault"):
            default = key
        project[key] = {**body, "isLegacy": bool(body.get("isLegacy", False))}

    for step in steps:
        body = step.body or {}
        if step.action == "create":
            create(body)
        elif step.action == "replace":
            remove(step.key)
            create(body)
        elif step.action == "delete":
            remove(step.key)
        elif step.action == "update":
            if step.key not in project or "isLegacy" in body:
                raise Broken(f"cannot update {step.key}")
            current = project[step.key]
            if (len(body["phases"]) != len(current["phases"]) and step.key in case.active
                    and not case.allow_active):
                raise Broken(f"{step.key} has active releases")
            project[step.key] = {**current, **body}
        else:
            if step.key not in project:
                raise Broken(f"{step.key} is not there")
            default = step.key
        if len(project) > CAP:
            raise Broken("over the cap")
    return project, default


def check_end_state(case: Case, project: dict[str, dict[str, Any]], default: str | None) -> None:
    def shown(body: dict[str, Any]) -> tuple:
        return (body["name"], body["description"], [p["name"] for p in body["phases"]])

    for key, kind in case.kinds.items():
        if case.in_git(key):
            want = git_body(key, case)
            assert shown(project[key]) == shown(want), key
            if "isLegacy" in want:
                assert project[key]["isLegacy"] == want["isLegacy"], key
        elif kind == PRUNE:
            assert key not in project, key
        else:
            assert shown(project[key]) == shown(live_body(key, case)), key
    _, goal = goal_default(case)
    if goal is not None:
        assert default == goal


# --- generated cases ------------------------------------------------------------------------

KEYS = [f"p{i:02}" for i in range(26)]
SHAPES = ["mixed", "full", "full-swap", "flip-all", "empty", "swap"]


@st.composite
def cases(draw) -> Case:
    shape = draw(st.sampled_from(SHAPES))
    event(f"shape: {shape}")
    keys = iter(KEYS)
    kinds: dict[str, str] = {}
    if shape == "empty":
        kinds = {next(keys): CREATE for _ in range(draw(st.integers(1, 5)))}
    elif shape == "flip-all":
        kinds = {next(keys): FLIP for _ in range(draw(st.integers(1, 6)))}
        kinds.update({next(keys): draw(st.sampled_from([PRUNE, KEEP, CREATE]))
                      for _ in range(draw(st.integers(0, 1)))})
    elif shape == "full-swap":  # a full project whose default moves to a new pipeline
        kinds = {next(keys): draw(st.sampled_from([SAME, KEEP])) for _ in range(16)}
        kinds.update({next(keys): draw(st.sampled_from([SAME, RENAME, REPHASE, FLIP]))
                      for _ in range(3)})
        kinds.update({"old": PRUNE, "new": CREATE})
    else:
        still = draw(st.integers(18, 20)) if shape == "full" else draw(st.integers(0, 6))
        kinds = {next(keys): draw(st.sampled_from([SAME, KEEP])) for _ in range(still)}
        changes = draw(st.lists(st.sampled_from(CHANGING), max_size=6))
        for kind in changes:
            kinds[next(keys)] = kind
    live_keys = [k for k, kind in kinds.items() if kind != CREATE]
    if len(live_keys) > CAP:  # a full project: the last extras are creates instead
        for key in live_keys[CAP:]:
            kinds[key] = CREATE
        live_keys = live_keys[:CAP]
    git_keys = [k for k, kind in kinds.items() if kind not in (KEEP, PRUNE)]
    legacy = {k: draw(st.booleans()) for k in live_keys}
    changing_live = [k for k in live_keys if kinds[k] in CHANGING]
    # Half the time the live default is one that needs a change: the hard cases.
    live_default = draw(st.sampled_from(
        changing_live if changing_live and draw(st.booleans()) else live_keys or [None]))
    if shape == "full-swap":
        live_default, git_default = "old", "new"
    elif shape == "swap" and len(git_keys) > 1:
        git_default = draw(st.sampled_from([k for k in git_keys if k != live_default]))
    else:
        git_default = draw(st.sampled_from([None, None, *git_keys]))
    prune = shape == "full-swap" or draw(st.booleans())
    rarely = st.integers(0, 3).map(lambda n: n == 0)  # a case in four
    protected = {draw(st.sampled_from(live_keys))} if live_keys and draw(rarely) else set()
    for key in live_keys:
        if not prune and kinds[key] == PRUNE:
            kinds[key] = KEEP  # prune is off: a pipeline with no file stays
        elif prune and kinds[key] == KEEP:
            protected.add(key)  # with prune, only protected pipelines with no file stay
        elif kinds[key] == PRUNE and key in protected:
            kinds[key] = KEEP
    removable = [k for k in live_keys if kinds[k] in (FLIP, PRUNE, REPHASE)]
    active = {draw(st.sampled_from(removable))} if removable and draw(rarely) else set()
    managed_legacy = {k: draw(st.booleans()) for k in git_keys
                      if kinds[k] == CREATE and draw(st.booleans())}
    managed_legacy.update({k: legacy[k] for k in git_keys
                           if kinds[k] != CREATE and kinds[k] != FLIP and draw(st.booleans())})
    return Case(kinds=kinds, legacy=legacy, live_default=live_default, git_default=git_default,
                active=frozenset(active), protected=frozenset(protected),
                allow_active=draw(st.booleans()), prune=prune, managed_legacy=managed_legacy)


def judge(case: Case) -> str:
    """Check the planner against the oracle on one case; say which branch it took."""
    plan = plan_for(case)
    if not oracle_reachable(case):
        assert not plan.applicable, plan.steps  # never a plan that breaks a rule
        return "unreachable"
    assert plan.applicable, (plan.refusals, plan.blocked)
    project, default = replay(case, plan.steps)
    check_end_state(case, project, default)
    return "reachable"


def test_the_planner_finds_an_order_whenever_the_oracle_does() -> None:
    seen: Counter[str] = Counter()

    @settings(max_examples=400, deadline=None, database=None)
    @given(cases())
    def check(case: Case) -> None:
        outcome = judge(case)
        event(outcome)
        seen[outcome] += 1

    check()
    total = sum(seen.values())
    # Both branches run, and most cases have an order to find: a bound on the early way out.
    assert seen["reachable"] >= 0.6 * total, seen
    assert seen["unreachable"] >= 0.02 * total, seen


# --- the oracle itself, on cases worked out by hand ----------------------------------------


def test_the_oracle_on_hand_worked_cases() -> None:
    flip_all = Case(kinds={"a": FLIP, "b": FLIP}, legacy={"a": False, "b": False},
                    live_default="a", git_default=None)
    assert oracle_reachable(flip_all)  # replace b, park on b, replace a, default back to a
    alone = Case(kinds={"a": FLIP}, legacy={"a": False}, live_default="a", git_default=None)
    assert not oracle_reachable(alone)  # nothing else can hold the default
    busy = Case(kinds={"a": FLIP, "b": SAME}, legacy={"a": False, "b": False},
                live_default="b", git_default=None, active=frozenset({"a"}))
    assert not oracle_reachable(busy)
    full = {f"k{i:02}": SAME for i in range(19)}
    swap_full = Case(kinds={**full, "old": PRUNE, "new": CREATE},
                     legacy={**dict.fromkeys(full, False), "old": False},
                     live_default="old", git_default="new", prune=True)
    assert oracle_reachable(swap_full)  # park on a survivor, delete old, create new
    pruned_default = Case(kinds={"a": PRUNE, "b": SAME}, legacy={"a": False, "b": False},
                          live_default="a", git_default=None, prune=True)
    assert not oracle_reachable(pruned_default)  # the tool refuses: git names no default
