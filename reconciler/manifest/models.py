"""Pydantic models of the desired state.

The pipeline models mirror LaunchDarkly's request schemas field for field
(`CreateReleasePipelineInput` and what it references), camelCase, with the spec's
required lists and descriptions, so a file can be copied from LaunchDarkly's docs.
"""

from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, Field

from reconciler.manifest.pointers import check_pointer_in, ignorable_models

# Shared with the other kinds; still importable from here.
from reconciler.specmodel import INT64_MAX as INT64_MAX
from reconciler.specmodel import KEY_PATTERN as KEY_PATTERN
from reconciler.specmodel import KEY_RE as KEY_RE
from reconciler.specmodel import SpecModel as SpecModel

# LaunchDarkly's own limits, used by validation (the pipeline cap lives in reconciler.rules).
MAX_PHASES_PER_PIPELINE = 10  # a UI limit: the API accepts more, so this is a warning

# Value limits, each with its source (the README's "Value limits" table lists them, and the
# limits no source states).
# releaseStrategy is a free string in the spec (`ReleaseStrategy: {type: string}`) and no
# source lists every value, so an unknown one is a warning, not an error. Known values:
# `monitoredRelease` is the spec's example; `manual` is what LaunchDarkly's own Terraform
# provider sends and reads back (docs/resources/release_pipeline.md and its acceptance test
# data_source_launchdarkly_release_pipeline_test.go, at commit de0dd2e4).
KNOWN_RELEASE_STRATEGIES = ("monitoredRelease", "manual")
# randomizationUnit is a context kind ("Choose a context kind to use as the randomization
# unit", docs: home/releases/audience-based-release-create). LaunchDarkly's SDKs state the
# rules for a context kind (e.g. the Java SDK's ContextKind): letters, digits, '.', '_' and
# '-' only, never "kind", and never "multi" for a single kind.
CONTEXT_KIND_PATTERN = r"^[A-Za-z0-9._-]+$"
RESERVED_CONTEXT_KINDS = ("kind", "multi")


def _ignore_pointer(pointer: str) -> str:
    # The models are looked up when files are read: they are defined below and elsewhere.
    problem = check_pointer_in(pointer, ignorable_models()).error
    if problem is not None:
        raise ValueError(problem)
    return pointer


def _context_kind(kind: str) -> str:
    if kind in RESERVED_CONTEXT_KINDS:
        raise ValueError(f"{kind!r} is reserved by LaunchDarkly and cannot be a context kind")
    return kind


PipelineKey = Annotated[str, Field(pattern=KEY_PATTERN)]
ContextKind = Annotated[
    str,
    Field(pattern=CONTEXT_KIND_PATTERN,
          json_schema_extra={"not": {"enum": list(RESERVED_CONTEXT_KINDS)}}),
    AfterValidator(_context_kind),
]
# The schema can say little of the grammar (pointers.py): a pointer, with no list index.
IgnorePointer = Annotated[
    str,
    AfterValidator(_ignore_pointer),
    Field(json_schema_extra={"pattern": "^(/(?![0-9]+(/|$))[^/]+)+$"}),
]


class ReleaseGuardianConfiguration(SpecModel):
    """The configuration for the release guardian."""

    # A window must be positive; int64 is the spec's format.
    monitoringWindowMilliseconds: int = Field(
        description="The monitoring window in milliseconds", examples=[60000],
        gt=0, le=INT64_MAX,
    )
    # The spec calls it "The rollout weight percentage" (example 50): 0 to 100.
    rolloutWeight: int = Field(
        description="The rollout weight percentage", examples=[50], ge=0, le=100
    )
    rollbackOnRegression: bool = Field(
        description="Whether or not to roll back on regression", examples=[True]
    )
    randomizationUnit: ContextKind | None = Field(
        default=None,
        description="The randomization unit for the measured rollout",
        examples=["user"],
    )


class AudienceConfiguration(SpecModel):
    """The configuration for the audience's rollout."""

    # Free text in the spec; the loader warns about values outside KNOWN_RELEASE_STRATEGIES.
    releaseStrategy: str = Field(
        description="The release strategy", examples=list(KNOWN_RELEASE_STRATEGIES)
    )
    requireApproval: bool = Field(
        description="Whether or not the audience requires approval", examples=[True]
    )
    notifyMemberIds: list[str] | None = Field(
        default=None,
        description=(
            "An array of member IDs. These members are notified to review the approval request."
        ),
        examples=[["1234a56b7c89d012345e678f"]],
    )
    notifyTeamKeys: list[str] | None = Field(
        default=None,
        description=(
            "An array of team keys. The members of these teams are notified to review the "
            "approval request."
        ),
        examples=[["example-reviewer-team"]],
    )
    releaseGuardianConfiguration: ReleaseGuardianConfiguration | None = Field(
        default=None, description="The configuration for the release guardian."
    )


class AudiencePost(SpecModel):
    environmentKey: str = Field(description="A project-unique key for the environment.")
    name: str = Field(description="The audience name")
    segmentKeys: list[str] | None = Field(
        default=None, description="Segments targeted by this audience."
    )
    configuration: AudienceConfiguration | None = Field(
        default=None, description="The configuration for the audience's rollout."
    )


class CreatePhaseInput(SpecModel):
    # At least one: LaunchDarkly's Terraform provider, docs/resources/release_pipeline.md
    # ("Must contain at least one audience"); the spec states no bound.
    audiences: list[AudiencePost] = Field(
        description=(
            "An ordered list of the audiences for this release phase. "
            "Each audience corresponds to a LaunchDarkly environment."
        ),
        min_length=1,
    )
    name: str = Field(description="The release phase name", examples=["Phase 1 - Testing"])
    # The spec's PhaseConfiguration is an open object with no declared properties.
    configuration: dict[str, Any] | None = Field(
        default=None, description="The configuration for the phase's rollout."
    )


class CreateReleasePipelineInput(SpecModel):
    """One release pipeline: LaunchDarkly's CreateReleasePipelineInput."""

    model_config = ConfigDict(
        title="Release pipeline",
        json_schema_extra={
            "description": "A LaunchDarkly release pipeline (CreateReleasePipelineInput)."
        },
    )

    key: str = Field(
        description="The unique identifier of this release pipeline",
        examples=["standard-pipeline"],
        pattern=KEY_PATTERN,
    )
    name: str = Field(
        description="The name of the release pipeline", examples=["Standard Pipeline"]
    )
    description: str | None = Field(
        default=None,
        description="The release pipeline description",
        examples=["Standard pipeline to roll out to production"],
    )
    tags: list[str] | None = Field(
        default=None,
        description="A list of tags for this release pipeline",
        examples=[["example-tag"]],
    )
    isProjectDefault: bool | None = Field(
        default=None,
        description=(
            "Whether or not the newly created pipeline should be set as the default pipeline "
            "for this project"
        ),
    )
    isLegacy: bool | None = Field(
        default=None,
        description=(
            "Whether or not the pipeline is enabled for Release Automation. Create-only: "
            "a change replaces the pipeline (delete, then create)."
        ),
    )
    # At least one: the same Terraform provider docs ("Must contain at least one phase");
    # more than MAX_PHASES_PER_PIPELINE is only a warning (the loader), as the UI docs say.
    phases: list[CreatePhaseInput] = Field(
        description=(
            "A logical grouping of one or more environments that share attributes for "
            "rolling out changes"
        ),
        min_length=1,
    )


class ProjectSettings(SpecModel):
    """`_project.yaml`: how this tool manages one project. Every field is optional."""

    model_config = ConfigDict(title="Project settings")

    prune: bool = Field(
        default=False,
        description=(
            "true: live pipelines with no file are deleted; false (default): they are "
            "reported as unmanaged and kept."
        ),
    )
    protected: list[PipelineKey] = Field(
        default_factory=list,
        description=("Pipeline and release-policy keys this tool never deletes or replaces, "
                     "even with prune."),
    )
    ignore: list[IgnorePointer] = Field(
        default_factory=list,
        description=(
            "JSON pointers of pipeline or release-policy fields this tool does not manage, "
            "with * for the items of phases, audiences and stages (ignored values follow "
            "their phase and audience by name, a stage by position); they are removed from "
            "both sides before diffing."
        ),
        examples=[["/phases/*/audiences/*/configuration/notifyMemberIds"]],
    )
    policyOrder: list[PipelineKey] = Field(
        default_factory=list,
        description=(
            "The keys of the project's release policies, highest priority first (rank 1). "
            "Required with two or more policy files, naming each once; with one, leaving "
            "it out leaves the live order alone."
        ),
        examples=[["prod-guarded", "everything-else"]],
    )
