"""How a broken LaunchDarkly invariant is reported: a RuleViolation naming its Rule. The
planner's simulator refuses the plan with it; the sandbox answers with LaunchDarkly's error."""

from enum import StrEnum


class Rule(StrEnum):
    CAP = "pipeline-cap"  # at most 20 pipelines in a project
    DUPLICATE = "duplicate-key"  # a key is unique within a project
    MISSING = "missing-pipeline"  # update, delete or set-default of a key that is not there
    DEFAULT_DELETE = "default-delete"  # the default pipeline cannot be deleted
    ACTIVE_RELEASES = "active-releases"  # a pipeline with active releases cannot be deleted
    ACTIVE_PHASES = "active-phases"  # re-phasing a pipeline with active releases needs consent
    PROTECTED = "protected"  # tool rule: protected pipelines are never deleted or replaced
    ORDER_KEYS = "order-keys"  # a policy order body names exactly the scoped policies
    DEFAULT_ORDER = "default-order"  # the default policy is outside the ranking


class RuleViolation(Exception):
    def __init__(self, rule: Rule, message: str) -> None:
        self.rule = rule
        super().__init__(message)
