"""The pipeline planner: a pure function of desired state, live state, the active
releases it needs and the options -> ProjectPlan(kind="pipelines").

No I/O here (reconciler.kinds.pipelines.reads does it). Every plan is proven before it
is returned: its steps are replayed over the live snapshot under reconciler.rules and the
end state must be the desired state."""

from collections.abc import Mapping, Sequence
from dataclasses import replace

from reconciler import rules
from reconciler.kinds.pipelines.classify import Classification, classify
from reconciler.kinds.pipelines.inputs import DesiredInput, LiveInput, fingerprint
from reconciler.kinds.pipelines.marker import live_marks
from reconciler.kinds.pipelines.order import default_at_end, order
from reconciler.plan import Action, Blocked, PlanOptions, ProjectPlan, Step
from reconciler.plan.proof import NotDesired
from reconciler.rules import Refusal, RuleViolation

KIND_NAME = "pipelines"


def _blocked_action(key: str, c: Classification, block: rules.ActiveReleases) -> Action:
    if not block.removal:
        return Action.UPDATE
    return Action.DELETE if key in c.deletes else Action.REPLACE


def plan_project(project: str, desired: DesiredInput, live: LiveInput,
                 active: Mapping[str, Sequence[str]], options: PlanOptions,
                 classified: Classification | None = None) -> ProjectPlan:
    """Plan one project. `active` maps pipeline keys to flags with active releases, for (at
    least) the keys `classify(...).needs_progressions` names; pass that classification as
    `classified` to not compute it twice."""
    # A shallow copy: the lists below are rebound, never changed in place.
    c = replace(classified) if classified is not None else classify(desired, live)
    blocks, protected_replaces = rules.release_checks(
        [*c.deletes, *c.replaces], c.replaces, c.rephased, active,
        desired.settings.protected, options.allowActiveReleases)
    blocked = [Blocked(key=b.key, action=_blocked_action(b.key, c, b), flags=list(b.flags),
                       reason=str(b)) for b in blocks]
    refusals: list[Refusal] = list(protected_replaces)
    blocked_keys = {b.key for b in blocked}
    c.deletes = [k for k in c.deletes if k not in blocked_keys]
    c.replaces = [k for k in c.replaces if k not in blocked_keys]
    c.updates = [k for k in c.updates if k not in blocked_keys]
    # A blocked delete leaves its pipeline in place, like an unmanaged one.
    kept = [b.key for b in blocked if b.action is Action.DELETE]
    c.unmanaged = sorted({*c.unmanaged, *kept})

    end_default = default_at_end(desired, live, c, live_marks(live))
    final_count = len(desired.pipelines) + len(c.unmanaged)
    refusals += [refusal for refusal in (
        rules.default_successor_refusal(live.default_key, c.deletes, end_default),
        rules.end_count_refusal(final_count, len(c.unmanaged)),
        rules.delete_threshold_refusal([*c.deletes, *c.replaces], len(live.pipelines),
                                       options.force, options.maxDeletePercent),
    ) if refusal is not None]

    reasons = [str(refusal) for refusal in refusals]
    steps: list[Step] = []
    if not refusals:
        try:
            steps = order(desired, live, c, end_default, active, options, not blocked)
        except (RuleViolation, NotDesired) as violation:
            reasons.append(f"no safe order exists: {violation}")
    return ProjectPlan(
        project=project, kind=KIND_NAME, fingerprint=fingerprint(live),
        liveCount=len(live.pipelines), desiredCount=len(desired.pipelines), steps=steps,
        unmanaged=c.unmanaged, protected=sorted(desired.settings.protected),
        blocked=blocked, refusals=reasons, defaultBefore=live.default_key,
        defaultAfter=end_default if steps else live.default_key,
        ignore=list(desired.settings.ignore), notManaged=c.not_managed,
    )
