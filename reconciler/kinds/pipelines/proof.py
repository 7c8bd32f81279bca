"""The proof of a pipeline plan: its steps replayed over the live snapshot through the
dispatch table, under LaunchDarkly's rules, must end in the desired state."""

from collections.abc import Mapping, Sequence

from reconciler.kinds.pipelines.classify import Classification
from reconciler.kinds.pipelines.dispatch import TABLE
from reconciler.kinds.pipelines.inputs import DesiredInput, LiveInput
from reconciler.kinds.pipelines.marker import without_marks
from reconciler.manifest.models import ProjectSettings
from reconciler.normalize import strip_ignored
from reconciler.plan import PlanOptions, Step
from reconciler.plan.dispatch import replay
from reconciler.plan.proof import NotDesired, check_reached
from reconciler.rules import ProjectModel


def live_model(live: LiveInput, active: Mapping[str, Sequence[str]],
               settings: ProjectSettings, options: PlanOptions) -> ProjectModel:
    """The live snapshot as the rules see it, ready for steps to be replayed on it."""
    return ProjectModel(
        pipelines=dict(live.pipelines), default_key=live.default_key, active=active,
        protected=settings.protected, allow_active_releases=options.allowActiveReleases,
    )


def simulate(live: LiveInput, steps: Sequence[Step], active: Mapping[str, Sequence[str]],
             settings: ProjectSettings, options: PlanOptions) -> ProjectModel:
    """Replay `steps` over the live snapshot under the rules; raises RuleViolation."""
    return replay(TABLE, live_model(live, active, settings, options), steps)


def verify(desired: DesiredInput, live: LiveInput, c: Classification, steps: Sequence[Step],
           active: Mapping[str, Sequence[str]], end_default: str | None,
           options: PlanOptions, complete: bool) -> None:
    """Raise RuleViolation or NotDesired unless `steps` keep every rule and, when
    `complete` (nothing blocked was left out), end in the desired state."""
    model = simulate(live, steps, active, desired.settings, options)
    if not complete:
        return  # blocked steps were left out: the rules still held at every step
    ignore = desired.settings.ignore
    kept = without_marks(live).pipelines  # unmanaged pipelines end as the user left them
    expected = {**{k: strip_ignored(v, ignore, v) for k, v in kept.items()
                   if k in c.unmanaged}, **c.compared_desired}
    reached = {k: strip_ignored(v, ignore, live.pipelines.get(k))
               for k, v in model.pipelines.items()}
    check_reached(reached, expected)
    if end_default is not None and model.default_key != end_default:
        raise NotDesired(f"the plan ends with default {model.default_key!r}, not {end_default!r}")
