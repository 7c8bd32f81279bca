"""LaunchDarkly's invariants for release policies (beta).

Known from the spec's text and the Terraform provider (reference/launchdarkly-release-
policies.md 1.1); LaunchDarkly documents none of them as such, so each is UNVERIFIED.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.rules.pipelines import check_not_protected
from reconciler.rules.violation import Rule, RuleViolation


def check_policy_create(exists: bool, key: str) -> None:
    """A key is unique per project, the default policy's included (409)."""
    if exists:
        raise RuleViolation(Rule.DUPLICATE, f"a release policy with key {key!r} already exists")


def check_policy_exists(exists: bool, key: str) -> None:
    if not exists:
        raise RuleViolation(Rule.MISSING, f"release policy {key!r} does not exist")


def check_policy_delete(key: str, default_key: str | None) -> None:
    if key == default_key:
        raise RuleViolation(Rule.DEFAULT_DELETE,
                            f"cannot delete {key!r}: it is the project's default release policy")


def check_policy_order(keys: Sequence[str], scoped: Collection[str],
                       default_key: str | None) -> None:
    """The order body holds every scoped policy key once and nothing else; the default
    policy is outside the ranking, so it is never in the body (400)."""
    if default_key is not None and default_key in keys:
        raise RuleViolation(
            Rule.DEFAULT_ORDER,
            f"cannot rank {default_key!r}: the default release policy is outside the ranking",
        )
    if len(keys) != len(set(keys)) or set(keys) != set(scoped):
        missing = sorted(set(scoped) - set(keys))
        extra = sorted(set(keys) - set(scoped))
        repeated = sorted({k for k in keys if list(keys).count(k) > 1})
        found = [f"{name} {', '.join(group)}" for name, group in
                 (("missing", missing), ("unknown", extra), ("repeated", repeated)) if group]
        raise RuleViolation(
            Rule.ORDER_KEYS,
            f"the order must name every scoped release policy exactly once ({'; '.join(found)})",
        )


def rank_after_create(ranked: Sequence[str], key: str) -> list[str]:
    """LaunchDarkly ranks a new policy last (lowest priority)."""
    return [*ranked, key]


@dataclass
class PolicyModel:
    """A project's release policies as the rules see them: bodies by key (the default
    policy's included), the scoped keys in rank order (rank 1, the highest priority,
    first) and the default policy's key."""

    policies: dict[str, Any] = field(default_factory=dict)
    ranked: list[str] = field(default_factory=list)
    default_key: str | None = None
    protected: Sequence[str] = ()

    def create(self, key: str, body: Any) -> None:
        check_policy_create(key in self.policies, key)
        self.policies[key] = body
        self.ranked = rank_after_create(self.ranked, key)

    def update(self, key: str, body: Any) -> None:
        check_policy_exists(key in self.policies, key)
        self.policies[key] = body

    def delete(self, key: str) -> None:
        check_policy_exists(key in self.policies, key)
        check_not_protected(key, self.protected, "delete")
        check_policy_delete(key, self.default_key)
        del self.policies[key]
        self.ranked = [k for k in self.ranked if k != key]

    def reorder(self, keys: Sequence[str]) -> None:
        check_policy_order(keys, self.ranked, self.default_key)
        self.ranked = list(keys)
