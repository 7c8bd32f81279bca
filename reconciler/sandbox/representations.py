"""Response bodies, shaped as LaunchDarkly's spec describes them (ReleasePipeline with
`audiences[].environment` summaries, `_access`, `_isLegacy`, `createdAt`; `_links` where
the spec has them)."""

from collections.abc import Sequence
from typing import Any

from reconciler.sandbox.projects import (
    Pipeline,
    Project,
    Release,
    active_releases,
    newer_fields,
)

Body = dict[str, Any]


def link(href: str) -> Body:
    return {"href": href, "type": "application/json"}


def _access() -> Body:
    # The sandbox has no roles: nothing is denied, and no allow reasons are listed.
    return {"denied": [], "allowed": []}


def environment_summary(project_key: str, record: Body) -> Body:
    href = f"/api/v2/projects/{project_key}/environments/{record['key']}"
    return {
        "_links": {"self": link(href)},
        "key": record["key"],
        "name": record["name"],
        "color": record["color"],
    }


def environment(project_key: str, record: Body) -> Body:
    return {
        **environment_summary(project_key, record),
        "_id": record["_id"],
        # Placeholders shaped like LaunchDarkly's; the sandbox has no SDK keys.
        "apiKey": f"sdk-sandbox-{record['_id']}",
        "mobileKey": f"mob-sandbox-{record['_id']}",
        "defaultTtl": 0,
        "secureMode": False,
        "defaultTrackEvents": False,
        "requireComments": False,
        "confirmChanges": False,
        "tags": [],
        "critical": False,
    }


class _Shaper:
    """What every pipeline of one response shares, worked out once: the project's newer
    fields and its environment summaries."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.newer = newer_fields(project)
        self.summaries: dict[str, Body | None] = {}

    def _newer(self, level: str, record: Body) -> Body:
        """The fields of `record` that this project's LaunchDarkly knows beyond the spec."""
        return {name: record[name] for name in self.newer.get(level, ()) if name in record}

    def _summary(self, environment_key: str) -> Body | None:
        if environment_key not in self.summaries:
            record = self.project["environments"].get(environment_key)
            self.summaries[environment_key] = (
                None if record is None else environment_summary(self.project["key"], record))
        return self.summaries[environment_key]

    def _audience(self, audience: Body) -> Body:
        out: Body = {"name": audience["name"]}
        summary = self._summary(audience["environmentKey"])
        if summary is not None:  # LaunchDarkly omits the summary of a deleted environment
            out["environment"] = summary
        # The configuration is returned as stored, newer fields included.
        for field in ("segmentKeys", "configuration"):
            if field in audience:
                out[field] = audience[field]
        return {**out, **self._newer("audience", audience)} if self.newer else out

    def pipeline(self, record: Pipeline) -> Body:
        project = self.project
        out: Body = {
            "createdAt": record["createdAt"],
            "key": record["key"],
            "name": record["name"],
            "phases": [
                {
                    "id": phase["id"],
                    "name": phase["name"],
                    "audiences": [self._audience(a) for a in phase["audiences"]],
                    "configuration": phase.get("configuration", {}),
                    **(self._newer("phase", phase) if self.newer else {}),
                }
                for phase in record["phases"]
            ],
            "tags": record["tags"],
            "_version": record["_version"],
            "_access": _access(),
            "isProjectDefault": record["key"] == project["defaultReleasePipelineKey"],
            "_isLegacy": record["_isLegacy"],
        }
        if "description" in record:
            out["description"] = record["description"]
        return {**out, **self._newer("pipeline", record)} if self.newer else out


def pipeline(project: Project, record: Pipeline) -> Body:
    return _Shaper(project).pipeline(record)


def pipeline_collection(project: Project, records: Sequence[Pipeline], total: int) -> Body:
    # The spec's ReleasePipelineCollection has no _links.
    shaper = _Shaper(project)
    return {"items": [shaper.pipeline(r) for r in records], "totalCount": total}


def progression_collection(project: Project, record: Pipeline, page: Sequence[Release],
                           total: int, self_href: str) -> Body:
    releases = project["releases"].get(record["key"], [])
    active = active_releases(project, record["key"])
    return {
        "activeCount": len(active),
        "completedCount": len(releases) - len(active),
        "items": [
            {**release, "_links": {"self": link(_release_href(project["key"], release))}}
            for release in page
        ],
        "phases": [
            {
                "_id": phase["id"],
                "name": phase["name"],
                "releaseCount": sum(1 for r in active if r["activePhaseId"] == phase["id"]),
            }
            for phase in record["phases"]
        ],
        "totalCount": total,
        "_links": {"self": link(self_href)},
    }


def _release_href(project_key: str, release: Release) -> str:
    # Releases live in LaunchDarkly's Releases API, by flag.
    return f"/api/v2/flags/{project_key}/{release['flagKey']}/release"


def collection(items: list[Body], total: int, self_href: str) -> Body:
    return {"items": items, "totalCount": total, "_links": {"self": link(self_href)}}


def _project_fields(project: Project) -> Body:
    out: Body = {
        "_links": {
            "self": link(f"/api/v2/projects/{project['key']}"),
            "environments": link(f"/api/v2/projects/{project['key']}/environments"),
        },
        "_id": project["_id"],
        "key": project["key"],
        "includeInSnippetByDefault": False,
        "name": project["name"],
        "tags": project["tags"],
    }
    if project["defaultReleasePipelineKey"] is not None:
        out["defaultReleasePipelineKey"] = project["defaultReleasePipelineKey"]
    return out


def _environments(project: Project) -> list[Body]:
    return [environment(project["key"], e) for e in project["environments"].values()]


def project_summary(project: Project, expand_environments: bool) -> Body:
    """GET project (`Project`): environments only with `expand=environments`."""
    out = _project_fields(project)
    if expand_environments:
        items = _environments(project)
        out["environments"] = collection(
            items, len(items), f"/api/v2/projects/{project['key']}/environments"
        )
    return out


def project_rep(project: Project) -> Body:
    """PATCH project (`ProjectRep`): environments as a plain list."""
    return {**_project_fields(project), "environments": _environments(project)}


def segment(project_key: str, environment_key: str, record: Body) -> Body:
    href = f"/api/v2/segments/{project_key}/{environment_key}/{record['key']}"
    return {
        "key": record["key"],
        "name": record["name"],
        "tags": [],
        "creationDate": record["creationDate"],
        "lastModifiedDate": record["creationDate"],
        "_links": {"self": link(href)},
        "rules": [],
        "included": [],
        "excluded": [],
        "version": 1,
        "deleted": False,
        "generation": 1,
    }
