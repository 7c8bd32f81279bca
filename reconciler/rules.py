"""LaunchDarkly's invariants for release pipelines and release policies, and the tool's
own safety rules.

Both the planner's simulator and the sandbox enforce LaunchDarkly's, so a plan that passes
the simulator is a plan the (emulated) API accepts step by step. Each check raises
RuleViolation naming the rule; callers decide how to report it (the planner refuses the
plan, the sandbox answers with LaunchDarkly's error). The tool's rules (end-state cap,
delete threshold, protected, active releases) return the reason a plan is refused or a
step blocked, or None.
"""

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

MAX_PIPELINES_PER_PROJECT = 20  # LaunchDarkly's limit per project
SAFE_DELETE_MIN_LIVE = 4  # below this many live pipelines, only "all of them" needs --force


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


def check_create(count: int, exists: bool, key: str) -> None:
    if exists:
        raise RuleViolation(Rule.DUPLICATE, f"a release pipeline with key {key!r} already exists")
    if count >= MAX_PIPELINES_PER_PROJECT:
        raise RuleViolation(
            Rule.CAP,
            f"cannot create {key!r}: a project holds at most {MAX_PIPELINES_PER_PROJECT} "
            "release pipelines",
        )


def default_after_create(current_default: str | None, count_before: int, key: str,
                         requested_default: bool) -> str | None:
    """The first pipeline of a project becomes its default; `isProjectDefault` moves it."""
    if count_before == 0 or requested_default or current_default is None:
        return key
    return current_default


def check_exists(exists: bool, key: str) -> None:
    if not exists:
        raise RuleViolation(Rule.MISSING, f"release pipeline {key!r} does not exist")


def check_delete(key: str, default_key: str | None, active_flags: Sequence[str]) -> None:
    if key == default_key:
        raise RuleViolation(
            Rule.DEFAULT_DELETE,
            f"cannot delete {key!r}: it is the project's default release pipeline",
        )
    if active_flags:
        raise RuleViolation(
            Rule.ACTIVE_RELEASES,
            f"cannot delete {key!r}: it has active releases ({', '.join(active_flags)})",
        )


def check_rephase(key: str, active_flags: Sequence[str], allowed: bool) -> None:
    """In-flight releases point at phase ids, which a phase change regenerates."""
    if active_flags and not allowed:
        raise RuleViolation(
            Rule.ACTIVE_PHASES,
            f"changing the phases of {key!r} affects its active releases "
            f"({', '.join(active_flags)}); pass --allow-active-releases to do it",
        )


def check_not_protected(key: str, protected: Sequence[str], action: str) -> None:
    if key in protected:
        raise RuleViolation(Rule.PROTECTED, f"cannot {action} {key!r}: it is protected")


def references(phases: Iterable[Mapping[str, Any]]) -> dict[str, set[str]]:
    """The environment keys that the audiences of `phases` name, each with the segment keys
    named in it. An audience without an environment (LaunchDarkly omits a deleted one)
    names none."""
    named: dict[str, set[str]] = {}
    for phase in phases:
        for audience in phase.get("audiences") or ():
            environment = audience.get("environmentKey")
            if isinstance(environment, str):
                named.setdefault(environment, set()).update(audience.get("segmentKeys") or ())
    return named


@dataclass(frozen=True)
class UnknownReference:
    """An audience naming an environment, or a segment of it, not known to exist."""

    phase: int
    audience: int
    environment: str
    segment: str | None  # None: the environment itself is unknown
    message: str


def unknown_references(project: str, phases: Sequence[Mapping[str, Any]],
                       known: Mapping[str, Collection[str]]) -> list[UnknownReference]:
    """What `phases` name that is not known to exist; `known` maps each environment known
    to exist to the segment keys known to exist in it. A body naming any of these is
    refused before anything runs: LaunchDarkly would refuse the request, and for a replace
    only after its DELETE had removed the live pipeline."""
    unknown: list[UnknownReference] = []
    for p, phase in enumerate(phases):
        for a, audience in enumerate(phase.get("audiences") or ()):
            environment = audience.get("environmentKey")
            segments = known.get(environment)
            if segments is None:
                unknown.append(UnknownReference(
                    p, a, environment, None,
                    f"environment {environment!r} does not exist in project {project!r}"))
                continue
            unknown += [UnknownReference(
                p, a, environment, segment,
                f"segment {segment!r} does not exist in environment {environment!r} of "
                f"project {project!r}")
                for segment in audience.get("segmentKeys") or () if segment not in segments]
    return unknown


@dataclass
class ProjectModel:
    """A project as the rules see it: pipelines by key, the default, active releases.

    The planner's simulator replays steps on it; `pipelines` holds whatever body the
    caller tracks (canonical forms for the simulator)."""

    pipelines: dict[str, Any] = field(default_factory=dict)
    default_key: str | None = None
    active: Mapping[str, Sequence[str]] = field(default_factory=dict)
    protected: Sequence[str] = ()
    allow_active_releases: bool = False
    max_seen: int = 0

    def __post_init__(self) -> None:
        self.max_seen = len(self.pipelines)

    def create(self, key: str, body: Any, make_default: bool) -> None:
        check_create(len(self.pipelines), key in self.pipelines, key)
        self.default_key = default_after_create(
            self.default_key, len(self.pipelines), key, make_default
        )
        self.pipelines[key] = body
        self.max_seen = max(self.max_seen, len(self.pipelines))

    def update(self, key: str, body: Any, phases_changed: bool) -> None:
        check_exists(key in self.pipelines, key)
        if phases_changed:
            check_rephase(key, self.active.get(key, ()), self.allow_active_releases)
        self.pipelines[key] = body

    def delete(self, key: str) -> None:
        check_exists(key in self.pipelines, key)
        check_not_protected(key, self.protected, "delete")
        check_delete(key, self.default_key, self.active.get(key, ()))
        del self.pipelines[key]

    def set_default(self, key: str) -> None:
        check_exists(key in self.pipelines, key)
        self.default_key = key


# --- release policies (beta) ---------------------------------------------------------------
# Known from the spec's text and the Terraform provider (reference/launchdarkly-release-
# policies.md 1.1); LaunchDarkly documents none of them as such, so each is UNVERIFIED.


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


# --- the tool's own rules ------------------------------------------------------------------


def end_count_refusal(final_count: int, unmanaged_count: int) -> str | None:
    """The end state must fit LaunchDarkly's cap, counting unmanaged pipelines kept."""
    if final_count <= MAX_PIPELINES_PER_PROJECT:
        return None
    return (f"the project would hold {final_count} pipelines ({unmanaged_count} unmanaged "
            f"kept); LaunchDarkly allows {MAX_PIPELINES_PER_PROJECT}: remove files or set prune")


def delete_threshold_refusal(removed: Iterable[str], live_count: int, force: bool,
                             max_percent: float, noun: str = "pipelines") -> str | None:
    """octoDNS-style safety: every step that deletes a live pipeline (or policy: `noun`)
    counts (a delete, and a replace, which deletes before it creates). Over `max_percent`
    of 4 or more, or all of them, needs --force."""
    keys = sorted(removed)
    if force or not keys:
        return None
    named = ", ".join(keys)
    if len(keys) == live_count:
        return (f"the plan deletes all {live_count} {noun} of the project ({named}); "
                "pass --force to allow it")
    if live_count >= SAFE_DELETE_MIN_LIVE and len(keys) * 100 > max_percent * live_count:
        return (f"the plan deletes {len(keys)} of {live_count} {noun} (over {max_percent:g}%: "
                f"{named}); pass --force to allow it")
    return None


def protected_replace_refusal(key: str, protected: Sequence[str]) -> str | None:
    if key in protected:
        return f"{key!r} is protected but its isLegacy change needs a replacement"
    return None


def removal_block(flags: Sequence[str]) -> str | None:
    """Why a delete or replace of a pipeline with active releases cannot run."""
    if not flags:
        return None
    return (f"LaunchDarkly refuses to delete a pipeline with active releases; finish or "
            f"remove the releases of {', '.join(flags)} first")


def rephase_block(flags: Sequence[str], allowed: bool) -> str | None:
    """Why a phase change of a pipeline with active releases needs consent."""
    if not flags or allowed:
        return None
    return ("changing the phases of a pipeline with active releases moves them; pass "
            "--allow-active-releases to do it")
