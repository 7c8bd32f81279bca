"""The plan's value objects: what a plan says, for every kind, as saved in JSON.

Format 2: each ProjectPlan names its `kind`; a project managing several kinds has one
ProjectPlan per kind, in the order of the registry (reconciler.kinds.KINDS).
"""

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from reconciler import __version__

FORMAT_VERSION = 2


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    SET_DEFAULT = "set-default"
    REORDER = "reorder"


class ValueObject(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Change(ValueObject):
    """One field that differs: a JSON pointer into the resource, with live and git values."""

    path: str
    kind: str = Field(description="changed, added or removed")
    old: Any = None
    new: Any = None


class Step(ValueObject):
    action: Action
    key: str = Field(description="The resource's key (a release pipeline key, ...)")
    body: dict[str, Any] | None = Field(
        default=None, description="The request body sent by create, update and replace"
    )
    makeDefault: bool = Field(default=False, description="create: isProjectDefault is sent")
    phasesChanged: bool = False
    before: dict[str, Any] | None = Field(default=None, description="Live, canonical form")
    after: dict[str, Any] | None = Field(default=None, description="Desired, canonical form")
    changes: list[Change] = Field(default_factory=list)
    reason: str = Field(default="", description="Why this step is needed, for humans")
    order: list[str] | None = Field(
        default=None, description="reorder: every scoped policy key, highest priority first"
    )


class Blocked(ValueObject):
    key: str
    action: Action
    reason: str
    flags: list[str] = Field(default_factory=list, description="Flags with active releases")


class ReadFailure(ValueObject):
    """Why a project's live state could not be read; such a project is not planned."""

    folder: str = Field(description="The project's folder, as pipelines/<key>/")
    reason: str = Field(description="The route and the status or reason that failed")


class NotManaged(ValueObject):
    """Fields of a live resource that the models do not manage: never compared, kept."""

    key: str
    fields: list[str] = Field(description="JSON pointers into the live resource")
    dropped: list[str] = Field(
        default_factory=list,
        description="Of those, the ones the step drops: their phase or audience is removed "
                    "or renamed in git",
    )


class PreviewRow(ValueObject):
    """One environment and flag tag: the release policy that applies before and after the
    plan."""

    environment: str | None = Field(
        description="An environment named in a scope; null: any environment no scope names.")
    flagTag: str | None = Field(
        description="A flag tag named in a scope; null: a flag with none of those tags.")
    before: str | None = Field(description="The policy key that applies now; null: none.")
    after: str | None = Field(description="The policy key that applies after; null: none.")


class ProjectPlan(ValueObject):
    project: str
    kind: str = Field(default="pipelines", description="The resource kind planned: "
                                                       "a name in reconciler.kinds.KINDS")
    fingerprint: str = Field(description="sha256 of the live project's canonical form")
    liveCount: int
    desiredCount: int
    steps: list[Step] = Field(default_factory=list)
    unmanaged: list[str] = Field(
        default_factory=list, description="Live resources with no file, kept (prune is off)"
    )
    protected: list[str] = Field(
        default_factory=list, description="The project's protected keys (settings)"
    )
    blocked: list[Blocked] = Field(default_factory=list)
    refusals: list[str] = Field(
        default_factory=list, description="Why this project's steps must not run"
    )
    defaultBefore: str | None = None
    defaultAfter: str | None = None
    ignore: list[str] = Field(
        default_factory=list, description="Ignore pointers, applied when checking responses"
    )
    failure: ReadFailure | None = Field(
        default=None, description="Set when live could not be read: nothing else is known"
    )
    notManaged: list[NotManaged] = Field(
        default_factory=list, description="Per resource in git, the live fields git cannot name"
    )
    orderBefore: list[str] = Field(
        default_factory=list, description="policies: live scoped keys, highest priority first"
    )
    orderAfter: list[str] = Field(
        default_factory=list, description="policies: scoped keys after the plan, same order"
    )
    preview: list[PreviewRow] = Field(
        default_factory=list, description="policies: the policy each flag gets, before and after"
    )

    @property
    def applicable(self) -> bool:
        return not self.blocked and not self.refusals and self.failure is None

    def refused(self, reasons: Sequence[str]) -> "ProjectPlan":
        """This plan with more refusals: still shown whole, no longer applicable."""
        return self.model_copy(update={"refusals": [*self.refusals, *reasons]})


class PlanOptions(ValueObject):
    force: bool = False
    allowActiveReleases: bool = False
    maxDeletePercent: float = 30.0


class Plan(ValueObject):
    formatVersion: int = FORMAT_VERSION
    tool: str = f"reconciler {__version__}"
    digest: str = Field(description="sha256 over the live fingerprints and the steps")
    options: PlanOptions = Field(default_factory=PlanOptions)
    projects: list[ProjectPlan] = Field(default_factory=list)

    @property
    def step_count(self) -> int:
        return sum(len(p.steps) for p in self.projects)

    @property
    def has_changes(self) -> bool:
        return self.step_count > 0 or any(p.blocked for p in self.projects)

    @property
    def applicable(self) -> bool:
        return all(p.applicable for p in self.projects)

    @property
    def failed(self) -> list[ProjectPlan]:
        """Projects whose live state could not be read."""
        return [p for p in self.projects if p.failure is not None]
