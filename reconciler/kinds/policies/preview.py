"""What a plan means for flags: which release policy applies before and after it.

The matching rule is inferred (LaunchDarkly does not document it): for an environment E
and a flag tag T, the scoped policies are walked in rank order (highest priority first);
a policy matches when its environmentKeys is empty or holds E, and its flagTagKeys is
empty or holds T; the first match applies; when none does, the project's default policy
applies (or none, without one).
"""

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.plan import PreviewRow


def _matches(values: Sequence[str], value: str | None) -> bool:
    # None stands for a value no scope names: only an unrestricted list matches it.
    return not values or value in values


def applying(policies: Sequence[Mapping[str, Any]], environment: str | None,
             flag_tag: str | None, default_key: str | None) -> str | None:
    """The key of the policy that applies to a flag with `flag_tag` in `environment`;
    `policies` are canonical scoped policies, highest priority first."""
    for policy in policies:
        scope = policy["scope"]
        if (_matches(scope["environmentKeys"], environment)
                and _matches(scope["flagTagKeys"], flag_tag)):
            return str(policy["key"])
    return default_key


def _named(policies: Sequence[Mapping[str, Any]], field: str) -> list[str | None]:
    """Every value of a scope list, sorted, then None (everything not named)."""
    named = sorted({value for policy in policies for value in policy["scope"][field]})
    return [*named, None]


def preview(before: Sequence[Mapping[str, Any]], after: Sequence[Mapping[str, Any]],
            default_key: str | None) -> list[PreviewRow]:
    """A row for every environment and flag tag named in any scope, before or after (plus
    None for the ones not named), with the policy that applies on each side."""
    both = [*before, *after]
    return [
        PreviewRow(environment=environment, flagTag=tag,
                   before=applying(before, environment, tag, default_key),
                   after=applying(after, environment, tag, default_key))
        for environment in _named(both, "environmentKeys")
        for tag in _named(both, "flagTagKeys")
    ]
