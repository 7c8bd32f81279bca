"""Every rule of LaunchDarkly and of the tool, as typed values: a broken invariant is a
RuleViolation naming its Rule (violation), LaunchDarkly's invariants per kind and the model
the simulator replays steps on (pipelines, policies), the tool's own refusals and blocks (tool).
Rules never import the manifest; the manifest may import rules."""

from reconciler.rules.pipelines import (
    MAX_PIPELINES_PER_PROJECT,
    ProjectModel,
    UnknownReference,
    check_create,
    check_delete,
    check_exists,
    check_not_protected,
    check_rephase,
    default_after_create,
    references,
    unknown_references,
)
from reconciler.rules.policies import (
    PolicyModel,
    check_policy_create,
    check_policy_delete,
    check_policy_exists,
    check_policy_order,
    rank_after_create,
)
from reconciler.rules.tool import (
    SAFE_DELETE_MIN_LIVE,
    ActiveReleases,
    DefaultWithoutSuccessor,
    DeletesAll,
    DeletesOverThreshold,
    EndCountOverCap,
    ProtectedReplace,
    Refusal,
    default_successor_refusal,
    delete_threshold_refusal,
    end_count_refusal,
    release_checks,
)
from reconciler.rules.violation import Rule, RuleViolation

__all__ = [
    "MAX_PIPELINES_PER_PROJECT",
    "SAFE_DELETE_MIN_LIVE",
    "ActiveReleases",
    "DefaultWithoutSuccessor",
    "DeletesAll",
    "DeletesOverThreshold",
    "EndCountOverCap",
    "PolicyModel",
    "ProjectModel",
    "ProtectedReplace",
    "Refusal",
    "Rule",
    "RuleViolation",
    "UnknownReference",
    "check_create",
    "check_delete",
    "check_exists",
    "check_not_protected",
    "check_policy_create",
    "check_policy_delete",
    "check_policy_exists",
    "check_policy_order",
    "check_rephase",
    "default_after_create",
    "default_successor_refusal",
    "delete_threshold_refusal",
    "end_count_refusal",
    "rank_after_create",
    "references",
    "release_checks",
    "unknown_references",
]
