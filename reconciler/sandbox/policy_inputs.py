"""Release-policy request bodies, checked as the policies spec declares them and as the
pipeline routes check theirs: unknown fields are dropped silently, wrong types, missing
required fields and the spec's limits are a 400 naming the field.

The models are the wire's (PostReleasePolicyRequest, PutReleasePolicyRequest and what they
reference), with the spec's limits only: the UNVERIFIED ones (10 stages, guarded
allocations at most 50000) are for validation to warn about, not for a server to refuse.
"""

from typing import Annotated, Any, Literal

from pydantic import Field

from reconciler.manifest.models import INT64_MAX, KEY_PATTERN, SpecModel
from reconciler.sandbox.inputs import validated
from reconciler.sandbox.problems import invalid_request

MAX_STAGES = 20  # the spec's maxItems: "never more than 20"
MAX_FLAG_TAG_KEYS = 1000
ReleaseMethod = Literal["guarded-release", "immediate-release", "progressive-release"]
FlagTagKey = Annotated[str, Field(max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]


class ReleasePolicyStage(SpecModel):
    allocation: int
    durationMillis: int = Field(ge=-INT64_MAX - 1, le=INT64_MAX)


class ReleasePolicyScope(SpecModel):
    environmentKeys: list[str] | None = None
    flagTagKeys: list[FlagTagKey] | None = Field(default=None, max_length=MAX_FLAG_TAG_KEYS)


class GuardedReleaseConfig(SpecModel):
    rolloutContextKindKey: str | None = None
    minSampleSize: int | None = None
    rollbackOnRegression: bool | None = None
    metricKeys: list[str] | None = None
    metricGroupKeys: list[str] | None = None
    stages: list[ReleasePolicyStage] | None = Field(default=None, max_length=MAX_STAGES)


class ProgressiveReleaseConfig(SpecModel):
    rolloutContextKindKey: str | None = None
    stages: list[ReleasePolicyStage] | None = Field(default=None, max_length=MAX_STAGES)


class PutReleasePolicyRequest(SpecModel):
    scope: ReleasePolicyScope | None = None
    releaseMethod: ReleaseMethod
    guardedReleaseConfig: GuardedReleaseConfig | None = None
    progressiveReleaseConfig: ProgressiveReleaseConfig | None = None
    name: str = Field(max_length=256)


class PostReleasePolicyRequest(PutReleasePolicyRequest):
    # The spec gives the key no pattern; it is a path segment, so LaunchDarkly's key rule.
    key: str = Field(pattern=KEY_PATTERN)


# Which config object each release method reads (immediate-release reads none).
CONFIG_OF_METHOD = {
    "guarded-release": "guardedReleaseConfig",
    "progressive-release": "progressiveReleaseConfig",
}


def _validated(document: Any, model: type[SpecModel], config_required: bool
               ) -> dict[str, Any]:
    body = validated(document, model, {})
    config = CONFIG_OF_METHOD.get(body["releaseMethod"])
    if config_required and config is not None and config not in body:
        raise invalid_request(f"{config}: required when releaseMethod is {body['releaseMethod']}")
    return body


def create_body(document: Any, config_required: bool = False) -> dict[str, Any]:
    """A PostReleasePolicyRequest as a plain dict without unset optional fields.
    `config_required`: a guarded or progressive policy must carry its config object."""
    return _validated(document, PostReleasePolicyRequest, config_required)


def update_body(document: Any, config_required: bool = False) -> dict[str, Any]:
    return _validated(document, PutReleasePolicyRequest, config_required)


def order_body(document: Any) -> list[str]:
    """The reorder body: a JSON array of policy keys."""
    if not isinstance(document, list) or not all(isinstance(key, str) for key in document):
        raise invalid_request("request body must be a JSON array of release policy keys")
    return list(document)
