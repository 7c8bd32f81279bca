"""Putting project plans together into one Plan, and the digest that seals it."""

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

from reconciler.plan.values import Plan, PlanOptions, ProjectPlan, ReadFailure


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


def plan_digest(projects: Iterable[ProjectPlan]) -> str:
    """sha256 over each project's kind, live fingerprint and steps. Steps are hashed in
    pydantic's JSON form: fixed field order, bodies in the planner's own order."""
    digest = hashlib.sha256()
    for project in projects:
        digest.update(canonical_json([project.project, project.kind,
                                      project.fingerprint]).encode())
        for step in project.steps:
            digest.update(step.model_dump_json().encode())
    return digest.hexdigest()


def unread_project(project: str, kind: str, desired_count: int,
                   failure: ReadFailure) -> ProjectPlan:
    """The plan of a project whose live state could not be read: no steps, not applicable."""
    return ProjectPlan(project=project, kind=kind, fingerprint="", liveCount=0,
                       desiredCount=desired_count, failure=failure)


def assemble(projects: Sequence[ProjectPlan], options: PlanOptions) -> Plan:
    """One Plan, projects sorted by key. The sort is stable: the plans of one project keep
    the order they come in (the engine passes them in the kinds' registry order)."""
    ordered = sorted(projects, key=lambda p: p.project)
    return Plan(digest=plan_digest(ordered), options=options, projects=ordered)
