"""LaunchDarkly's invariants for release pipelines.

Both the planner's simulator and the sandbox enforce them, so a plan that passes the
simulator is a plan the (emulated) API accepts step by step. Each check raises
RuleViolation naming the rule; callers decide how to report it.
"""

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.rules.violation import Rule, RuleViolation

MAX_PIPELINES_PER_PROJECT = 20  # LaunchDarkly's limit per project


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
