"""The emulated LaunchDarkly projects: plain JSON records and the operations on them.

Every operation checks everything first and changes the record only once nothing can fail,
so a refused request leaves the state as it was. LaunchDarkly's rules come from
`reconciler.rules`, which raises RuleViolation; request problems raise ApiProblem.

A project record:
    key, name, _id, tags, defaultReleasePipelineKey (or None),
    environments: {envKey: {key, name, color, _id}},
    segments: {envKey: {segmentKey: {key, name, creationDate}}},
    pipelines: {pipelineKey: pipeline record, in creation order},
    releases: {pipelineKey: [{flagKey, activePhaseId, _createdAt[, _completedAt]}]},
    newerFields: {level: [field name]} (optional): fields this project's LaunchDarkly knows
      and the spec does not (see inputs.NEWER_LEVELS), kept on the objects as sent
A pipeline record is the create body as stored: key, name, description?, tags, _isLegacy,
_version, createdAt, phases [{id, name, configuration?, audiences [AudiencePost]}], plus
newer fields where the body had them.
"""

import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from reconciler import rules
from reconciler.sandbox.inputs import PatchOperation
from reconciler.sandbox.problems import invalid_request, patch_failed

Project = dict[str, Any]
Pipeline = dict[str, Any]
Release = dict[str, Any]

# LaunchDarkly's default environment colours, cycled.
_COLORS = ("F5A623", "417505", "7B42BC", "0B6E99", "D0021B", "4A4A4A")
DEFAULT_KEY_PATH = "/defaultReleasePipelineKey"


def new_id() -> str:
    """An opaque id shaped like LaunchDarkly's (24 hex digits)."""
    return secrets.token_hex(12)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_project(key: str, environments: Sequence[str],
                segments: Mapping[str, Sequence[str]]) -> Project:
    created = now_ms()
    return {
        "key": key,
        "name": key,
        "_id": new_id(),
        "tags": [],
        "defaultReleasePipelineKey": None,
        "environments": {
            env: {"key": env, "name": env, "color": _COLORS[i % len(_COLORS)], "_id": new_id()}
            for i, env in enumerate(environments)
        },
        "segments": {
            env: {seg: {"key": seg, "name": seg, "creationDate": created} for seg in keys}
            for env, keys in segments.items()
        },
        "pipelines": {},
        "releases": {},
        "newerFields": {},
    }


def newer_fields(project: Project) -> dict[str, list[str]]:
    newer: dict[str, list[str]] = project.get("newerFields", {})
    return newer


def _newer_pipeline_fields(project: Project, body: Mapping[str, Any]) -> dict[str, Any]:
    return {name: body[name] for name in newer_fields(project).get("pipeline", ())
            if name in body}


def active_flags(project: Project, pipeline_key: str) -> list[str]:
    return [r["flagKey"] for r in active_releases(project, pipeline_key)]


def active_releases(project: Project, pipeline_key: str) -> list[Release]:
    return [r for r in project["releases"].get(pipeline_key, []) if "_completedAt" not in r]


def _check_environments(project: Project, phases: Iterable[Mapping[str, Any]]) -> None:
    # An audience's environment must exist: responses describe it by its summary.
    for p, phase in enumerate(phases):
        for a, audience in enumerate(phase["audiences"]):
            if audience["environmentKey"] not in project["environments"]:
                raise invalid_request(
                    f"phases[{p}].audiences[{a}].environmentKey: environment "
                    f"{audience['environmentKey']!r} does not exist in project {project['key']!r}"
                )


def _with_ids(phases: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": new_id(), **phase} for phase in phases]


def create_pipeline(project: Project, body: Mapping[str, Any], legacy_default: bool = False
                    ) -> Pipeline:
    """POST: `body` is a validated CreateReleasePipelineInput. `legacy_default` is what an
    omitted isLegacy means (LaunchDarkly does not document its default)."""
    pipelines = project["pipelines"]
    key = body["key"]
    _check_environments(project, body["phases"])
    rules.check_create(len(pipelines), key in pipelines, key)
    project["defaultReleasePipelineKey"] = rules.default_after_create(
        project["defaultReleasePipelineKey"], len(pipelines), key,
        bool(body.get("isProjectDefault")),
    )
    record: Pipeline = {
        "key": key,
        "name": body["name"],
        "tags": list(body.get("tags", [])),
        "phases": _with_ids(body["phases"]),
        "_isLegacy": bool(body.get("isLegacy", legacy_default)),
        "_version": 1,
        "createdAt": _now_iso(),
        **_newer_pipeline_fields(project, body),
    }
    if "description" in body:
        record["description"] = body["description"]
    pipelines[key] = record
    return record


def replace_pipeline(project: Project, key: str, body: Mapping[str, Any]) -> Pipeline:
    """PUT: a full replacement of name, description, tags and phases (an omitted
    description or tags list is cleared). Phase ids are regenerated; active releases move
    to the phase at the same index, or the last one, so they keep blocking a delete."""
    pipelines = project["pipelines"]
    rules.check_exists(key in pipelines, key)
    _check_environments(project, body["phases"])
    record = pipelines[key]
    old_ids = [phase["id"] for phase in record["phases"]]
    phases = _with_ids(body["phases"])
    for release in active_releases(project, key):
        phase_id = release["activePhaseId"]
        index = old_ids.index(phase_id) if phase_id in old_ids else 0
        release["activePhaseId"] = phases[min(index, len(phases) - 1)]["id"]
    record.pop("description", None)
    for name in newer_fields(project).get("pipeline", ()):
        record.pop(name, None)  # a PUT replaces the whole pipeline, newer fields included
    record.update(_newer_pipeline_fields(project, body))
    record.update(
        name=body["name"], tags=list(body.get("tags", [])), phases=phases,
        _version=record["_version"] + 1,
    )
    if "description" in body:
        record["description"] = body["description"]
    return record


def delete_pipeline(project: Project, key: str) -> None:
    rules.check_exists(key in project["pipelines"], key)
    rules.check_delete(key, project["defaultReleasePipelineKey"], active_flags(project, key))
    del project["pipelines"][key]
    project["releases"].pop(key, None)


def set_default(project: Project, key: str) -> None:
    rules.check_exists(key in project["pipelines"], key)
    project["defaultReleasePipelineKey"] = key


def apply_patch(project: Project, operations: Sequence[PatchOperation]) -> None:
    """A project JSON Patch. Only `add`/`replace` of `/defaultReleasePipelineKey` (what a
    reconciler sends) is emulated; anything else fails as a patch LaunchDarkly cannot apply."""
    default = project["defaultReleasePipelineKey"]
    for index, operation in enumerate(operations):
        if operation.path != DEFAULT_KEY_PATH or operation.op not in ("add", "replace"):
            raise patch_failed(
                f"cannot apply patch operation {index}: the sandbox supports only add or "
                f"replace of {DEFAULT_KEY_PATH} (got {operation.op} {operation.path})"
            )
        if not isinstance(operation.value, str):
            raise patch_failed(
                f"cannot apply patch operation {index}: {DEFAULT_KEY_PATH} must be a string"
            )
        rules.check_exists(operation.value in project["pipelines"], operation.value)
        default = operation.value
    project["defaultReleasePipelineKey"] = default


def start_release(project: Project, pipeline_key: str, flag_key: str) -> None:
    """An active release of `flag_key`, in the pipeline's first phase."""
    rules.check_exists(pipeline_key in project["pipelines"], pipeline_key)
    project["releases"].setdefault(pipeline_key, []).append({
        "flagKey": flag_key,
        "activePhaseId": project["pipelines"][pipeline_key]["phases"][0]["id"],
        "_createdAt": now_ms(),
    })
