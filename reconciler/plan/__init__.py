"""The plan, for every kind of resource: value objects (values), the digest and assembly
(assembly), the dispatch table type shared by the simulator and apply (dispatch), and the
end-state check of the proof (proof). What is particular to a kind (its classification,
ordering and rules) lives in reconciler.kinds.<kind>."""

from reconciler.plan.assembly import (
    assemble,
    canonical_json,
    plan_digest,
    sha256,
    unread_project,
)
from reconciler.plan.values import (
    FORMAT_VERSION,
    Action,
    Blocked,
    Change,
    NotManaged,
    Plan,
    PlanOptions,
    PreviewRow,
    ProjectPlan,
    ReadFailure,
    Step,
)

__all__ = [
    "FORMAT_VERSION", "Action", "Blocked", "Change", "NotManaged", "Plan", "PlanOptions",
    "PreviewRow", "ProjectPlan", "ReadFailure", "Step", "assemble", "canonical_json", "plan_digest",
    "sha256", "unread_project",
]
