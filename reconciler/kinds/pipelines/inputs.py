"""A project's pipelines as the planner takes them: desired (from the files) and live
(from LaunchDarkly's listing), both in canonical form, and the live fingerprint."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.manifest import DesiredProject
from reconciler.manifest.models import ProjectSettings
from reconciler.normalize import (
    Canonical,
    UnknownField,
    canonical_desired,
    canonical_live,
    located,
    unknown_fields,
)
from reconciler.plan import sha256


@dataclass(frozen=True)
class DesiredInput:
    """One project's desired state, already canonical."""

    pipelines: Mapping[str, Canonical]  # by key, in file order
    default_key: str | None  # the pipeline with isProjectDefault: true, if any
    settings: ProjectSettings = field(default_factory=ProjectSettings)


@dataclass(frozen=True)
class LiveInput:
    """One project's live state, canonical (see normalize.canonical_live)."""

    pipelines: Mapping[str, Canonical]
    default_key: str | None
    # Per pipeline, the fields LaunchDarkly returned that the models do not manage
    # (normalize.unknown_fields); pipelines without any are left out.
    unknown: Mapping[str, Sequence[UnknownField]] = field(default_factory=dict)


def fingerprint(live: LiveInput) -> str:
    state: dict[str, Any] = {"pipelines": dict(live.pipelines), "default": live.default_key}
    if live.unknown:  # only then, so fingerprints of pipelines without any stay as they were
        state["unknown"] = {key: located(fields) for key, fields in live.unknown.items()}
    return sha256(state)



def desired_input(project: DesiredProject) -> DesiredInput:
    default = next((k for k, p in project.pipelines.items() if p.isProjectDefault), None)
    return DesiredInput(
        pipelines={k: canonical_desired(p) for k, p in project.pipelines.items()},
        default_key=default,
        settings=project.settings,
    )


def live_input(raw_pipelines: Sequence[Mapping[str, Any]]) -> LiveInput:
    default = next((p["key"] for p in raw_pipelines if p.get("isProjectDefault")), None)
    unknown = {p["key"]: found for p in raw_pipelines if (found := unknown_fields(p))}
    return LiveInput({p["key"]: canonical_live(p) for p in raw_pipelines}, default, unknown)
