"""Pydantic models of a release-policy file.

They mirror LaunchDarkly's `PostReleasePolicyRequest` and what it references, field for
field, camelCase, with the spec's required lists, limits and descriptions. The spec's
limits are errors here; the limits only other sources state are warnings (checks.py).
"""

from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from reconciler.specmodel import INT64_MAX, KEY_PATTERN, SpecModel

# The spec's ReleaseMethod enum: hyphens, unlike environment release plans' underscores.
RELEASE_METHODS = ("guarded-release", "immediate-release", "progressive-release")
ReleaseMethod = Literal["guarded-release", "immediate-release", "progressive-release"]

# ReleasePolicyScope.flagTagKeys, as the spec states it (client 25.0.1).
FLAG_TAG_PATTERN = r"^[A-Za-z0-9._-]+$"
MAX_FLAG_TAG_LENGTH = 64
MAX_FLAG_TAGS = 1000
MAX_NAME_LENGTH = 256
# "At most 10 stages by default; the server enforces the per-account limit, which is never
# more than 20." (the spec): 20 is an error, 10 a warning (checks.py).
MAX_STAGES = 20
_STAGES = ("List of stages. At most 10 stages by default; the server enforces the "
           "per-account limit, which is never more than 20.")
_CONTEXT_KIND = "Context kind key to use as the randomization unit for the rollout"

FlagTagKey = Annotated[str, Field(pattern=FLAG_TAG_PATTERN, max_length=MAX_FLAG_TAG_LENGTH)]


class ReleasePolicyStage(SpecModel):
    # The unit is not in the spec; other sources say thousandths of a percent (25000 = 25%).
    allocation: int = Field(
        description="The share of contexts, in thousandths of a percent: 25000 = 25%.",
        examples=[25000],
    )
    durationMillis: int = Field(description="How long the stage lasts, in milliseconds.",
                                examples=[60000], ge=-INT64_MAX - 1, le=INT64_MAX)


class GuardedReleaseConfig(SpecModel):
    """Configuration for guarded releases"""

    rolloutContextKindKey: str | None = Field(default=None, description=_CONTEXT_KIND,
                                              examples=["user"])
    minSampleSize: int | None = Field(
        default=None, description="The minimum number of samples required to make a decision",
        examples=[100])
    rollbackOnRegression: bool | None = Field(
        default=None, description="Whether to roll back on regression", examples=[True])
    metricKeys: list[str] | None = Field(
        default=None, description="List of metric keys (compared as a set)",
        examples=[["http-errors", "latency"]])
    metricGroupKeys: list[str] | None = Field(
        default=None, description="List of metric group keys (compared as a set)",
        examples=[["frontend-metrics"]])
    stages: list[ReleasePolicyStage] | None = Field(default=None, description=_STAGES,
                                                    max_length=MAX_STAGES)


class ProgressiveReleaseConfig(SpecModel):
    """Configuration for progressive releases"""

    rolloutContextKindKey: str | None = Field(default=None, description=_CONTEXT_KIND,
                                              examples=["user"])
    stages: list[ReleasePolicyStage] | None = Field(default=None, description=_STAGES,
                                                    max_length=MAX_STAGES)


class ReleasePolicyScope(SpecModel):
    environmentKeys: list[str] | None = Field(
        default=None,
        description=("List of environment keys this policy applies to (compared as a set; "
                     "empty or absent: every environment)"),
        examples=[["production", "staging"]])
    flagTagKeys: list[FlagTagKey] | None = Field(
        default=None,
        description=("List of flag tag keys this policy applies to. At most 1000 keys. Each "
                     "key must only contain letters, numbers, '-', '_', or '.', and be at "
                     "most 64 characters. (Compared as a set; empty or absent: every flag.)"),
        examples=[["frontend", "backend"]], max_length=MAX_FLAG_TAGS)


class PostReleasePolicyRequest(SpecModel):
    """One release policy: LaunchDarkly's PostReleasePolicyRequest."""

    model_config = ConfigDict(
        title="Release policy",
        json_schema_extra={
            "description": "A LaunchDarkly release policy (PostReleasePolicyRequest, beta)."
        },
    )

    scope: ReleasePolicyScope | None = Field(
        default=None, description="Which environments and flag tags the policy applies to.")
    releaseMethod: ReleaseMethod = Field(description="The release method for this policy")
    guardedReleaseConfig: GuardedReleaseConfig | None = Field(
        default=None, description="Configuration for guarded releases")
    progressiveReleaseConfig: ProgressiveReleaseConfig | None = Field(
        default=None, description="Configuration for progressive releases")
    name: str = Field(description="The name of the release policy",
                      examples=["Production Release"], max_length=MAX_NAME_LENGTH)
    key: str = Field(description="The human-readable key of the release policy",
                     examples=["production-release"], pattern=KEY_PATTERN)
