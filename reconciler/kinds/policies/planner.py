"""The release-policy planner: a pure function of desired policies, `policyOrder` and the
project's settings, and of the live listing -> ProjectPlan(kind="policies").

Steps run in one fixed order: deletes, updates, creates, then at most one reorder. A
created policy is ranked last by LaunchDarkly, so creates go in `policyOrder`'s order
and a reorder follows only when the ranking they leave is not the desired one. The
default policy is outside the ranking: never deleted, never in an order body, updated
only when a file names its key. Every plan is proven before it is returned: `simulate`
replays its steps over the live snapshot under `reconciler.rules.PolicyModel`, and the
end state must be the desired one, ranking included.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from reconciler import rules
from reconciler.diff import diff
from reconciler.kinds.policies.dispatch import TABLE
from reconciler.kinds.policies.fields import (
    Canonical,
    UnknownField,
    carry_ignored,
    carry_unknown,
    strip_ignored,
    with_live_omitted,
)
from reconciler.kinds.policies.kind import KIND_NAME
from reconciler.kinds.policies.preview import preview
from reconciler.manifest.models import ProjectSettings
from reconciler.plan import (
    Action,
    Change,
    NotManaged,
    PlanOptions,
    PreviewRow,
    ProjectPlan,
    Step,
    sha256,
)
from reconciler.plan.dispatch import replay
from reconciler.plan.proof import NotDesired, check_reached
from reconciler.rules import PolicyModel, RuleViolation

ORDER_KEY = "policyOrder"  # what a reorder step names: the setting it carries out


@dataclass(frozen=True)
class DesiredPolicies:
    """One project's policy files, canonical, and how it manages them."""

    policies: Mapping[str, Canonical]  # by key, in file order
    order: Sequence[str] | None  # policyOrder, highest priority first; None: not managed
    settings: ProjectSettings = field(default_factory=ProjectSettings)


@dataclass(frozen=True)
class LivePolicies:
    """One project's listed policies, canonical."""

    policies: Mapping[str, Canonical]  # by key, the default policy's included
    ranked: Sequence[str]  # the scoped keys, rank 1 (highest priority) first
    default_key: str | None = None
    # Per policy, the fields LaunchDarkly returned that the models lack; others left out.
    unknown: Mapping[str, Sequence[UnknownField]] = field(default_factory=dict)


def fingerprint(live: LivePolicies) -> str:
    return sha256({"policies": dict(live.policies), "ranked": list(live.ranked),
                   "default": live.default_key,
                   "unknown": {key: [list(f) for f in fields]
                               for key, fields in sorted(live.unknown.items())}})


# --- classification ---------------------------------------------------------------------


@dataclass
class Classification:
    creates: list[str] = field(default_factory=list)
    updates: list[str] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    unmanaged: list[str] = field(default_factory=list)
    # What git manages of each desired policy (omitted config fields from live, ignored
    # fields stripped where live has the policy), and of its live counterpart.
    compared_desired: dict[str, Canonical] = field(default_factory=dict)
    compared_live: dict[str, Canonical] = field(default_factory=dict)
    # The body each desired policy is sent with: what git does not manage carried from live.
    sent: dict[str, Canonical] = field(default_factory=dict)
    not_managed: list[NotManaged] = field(default_factory=list)


def classify(desired: DesiredPolicies, live: LivePolicies) -> Classification:
    ignore = desired.settings.ignore
    out = Classification()
    for key, wanted in desired.policies.items():
        current = live.policies.get(key)
        full = with_live_omitted(wanted, current)
        if current is None:
            # Nothing live to keep: the file's values are the ones sent, ignored or not.
            out.compared_desired[key] = out.sent[key] = full
            out.creates.append(key)
            continue
        full = carry_ignored(full, current, ignore)
        out.compared_desired[key] = want = strip_ignored(full, ignore)
        out.compared_live[key] = have = strip_ignored(current, ignore)
        unknown = live.unknown.get(key, ())
        out.sent[key], dropped = carry_unknown(full, unknown)
        if unknown:
            out.not_managed.append(NotManaged(key=key, fields=[where for where, _ in unknown],
                                              dropped=dropped))
        if want != have:
            out.updates.append(key)
    gone = [k for k in live.policies if k not in desired.policies]
    for key in [*[k for k in live.ranked if k in gone], *[k for k in gone if k not in live.ranked]]:
        if (desired.settings.prune and key != live.default_key
                and key not in desired.settings.protected):
            out.deletes.append(key)
        else:
            out.unmanaged.append(key)
    return out


# --- the ranking ------------------------------------------------------------------------


def _creates_in_order(desired: DesiredPolicies, c: Classification) -> list[str]:
    """Creates in policyOrder's order, so that ranking each last needs no reorder when
    they are the lowest priorities; files policyOrder does not name follow, in file order."""
    if desired.order is None:
        return list(c.creates)
    named = [k for k in desired.order if k in c.creates]
    return named + [k for k in c.creates if k not in named]


def ranking_before_reorder(live: LivePolicies, c: Classification,
                           creates: Sequence[str]) -> list[str]:
    """The scoped keys once deletes and creates have run: LaunchDarkly ranks each new
    policy last."""
    ranked = [k for k in live.ranked if k not in c.deletes]
    for key in creates:
        ranked = rules.rank_after_create(ranked, key)
    return ranked


def desired_ranking(desired: DesiredPolicies, current: Sequence[str]) -> list[str]:
    """`current` with the managed policies put in policyOrder's order: an unmanaged policy
    keeps its slot, the managed ones fill the others. The default policy has no rank, so
    policyOrder naming it (validation wants every file named) leaves it out."""
    if desired.order is None:
        return list(current)
    managed = [k for k in desired.order if k in current]
    managed += [k for k in current if k in desired.policies and k not in managed]
    fill = iter(managed)
    return [next(fill) if key in desired.policies else key for key in current]


# --- steps and the proof ----------------------------------------------------------------


def _changes(before: Canonical | None, after: Canonical | None) -> list[Change]:
    return [Change(**c.to_json()) for c in diff(before or {}, after or {})]


def _build(live: LivePolicies, c: Classification, creates: Sequence[str],
           current: Sequence[str], target: Sequence[str]) -> list[Step]:
    steps = [Step(action=Action.DELETE, key=key, before=live.policies[key],
                  reason="no file in git and prune is on") for key in c.deletes]
    for key in c.updates:
        before, after = c.compared_live[key], c.compared_desired[key]
        # PutReleasePolicyRequest: the whole policy but its key, which is in the path.
        body = {k: v for k, v in c.sent[key].items() if k != "key"}
        steps.append(Step(action=Action.UPDATE, key=key, body=body, before=before,
                          after=after, changes=_changes(before, after),
                          reason="live differs from git"))
    for key in creates:
        after = c.compared_desired[key]
        steps.append(Step(action=Action.CREATE, key=key, body=c.sent[key], after=after,
                          changes=_changes(None, after), reason="new file in git"))
    if list(target) != list(current):
        steps.append(Step(
            action=Action.REORDER, key=ORDER_KEY, order=list(target),
            changes=[Change(path="/order", kind="changed", old=list(current), new=list(target))],
            reason="the ranking differs from policyOrder",
        ))
    return steps


def simulate(live: LivePolicies, steps: Sequence[Step], settings: ProjectSettings
             ) -> PolicyModel:
    """Replay `steps` over the live snapshot (ignored fields stripped) through the
    dispatch table, under the rules; raises RuleViolation at the first step LaunchDarkly
    would refuse."""
    model = PolicyModel(
        policies={k: strip_ignored(v, settings.ignore) for k, v in live.policies.items()},
        ranked=list(live.ranked), default_key=live.default_key, protected=settings.protected,
    )
    return replay(TABLE, model, steps)


def _verify(desired: DesiredPolicies, live: LivePolicies, c: Classification,
            steps: Sequence[Step], target: Sequence[str]) -> None:
    """Raise RuleViolation or NotDesired unless `steps` keep every rule and reach the
    desired policies and ranking."""
    model = simulate(live, steps, desired.settings)
    ignore = desired.settings.ignore
    check_reached(model.policies, {
        **{k: strip_ignored(live.policies[k], ignore) for k in c.unmanaged},
        **c.compared_desired})
    if model.ranked != list(target):
        raise NotDesired(f"the plan ends ranked {model.ranked}, not {list(target)}")


def _preview(live: LivePolicies, sent: Mapping[str, Canonical], end: Sequence[str]
             ) -> list[PreviewRow]:
    """Which policy each flag gets before and after: the scopes as sent (ignored fields
    included), in the ranking the plan ends with."""
    after = {**live.policies, **sent}
    return preview([live.policies[k] for k in live.ranked], [after[k] for k in end],
                   live.default_key)


# --- the planner ------------------------------------------------------------------------


def plan_policies(project: str, desired: DesiredPolicies, live: LivePolicies,
                  options: PlanOptions) -> ProjectPlan:
    c = classify(desired, live)
    creates = _creates_in_order(desired, c)
    current = ranking_before_reorder(live, c, creates)
    target = desired_ranking(desired, current)
    refusals = []
    if (refusal := rules.delete_threshold_refusal(
            c.deletes, len(live.ranked), options.force, options.maxDeletePercent,
            noun="policies")):
        refusals.append(str(refusal))
    steps: list[Step] = []
    if not refusals:
        steps = _build(live, c, creates, current, target)
        try:
            _verify(desired, live, c, steps, target)
        except (RuleViolation, NotDesired) as violation:
            refusals.append(f"no safe order exists: {violation}")
            steps = []
    end = target if steps else list(live.ranked)
    return ProjectPlan(
        project=project, kind=KIND_NAME, fingerprint=fingerprint(live),
        liveCount=len(live.policies), desiredCount=len(desired.policies), steps=steps,
        unmanaged=c.unmanaged, protected=sorted(desired.settings.protected),
        refusals=refusals, defaultBefore=live.default_key, defaultAfter=live.default_key,
        ignore=list(desired.settings.ignore), notManaged=c.not_managed,
        orderBefore=list(live.ranked), orderAfter=end,
        preview=_preview(live, c.sent if steps else {}, end),
    )

