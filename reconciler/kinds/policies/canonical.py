"""Live and desired release policies in one form, so that equal means in sync.

The canonical form is the request shape (PostReleasePolicyRequest) with: `scope` always
present, its `environmentKeys` and `flagTagKeys` sorted and de-duplicated (absent means
empty: every environment, every flag); `metricKeys` and `metricGroupKeys` sorted and
de-duplicated; stages in their order; any other absent or null field left out (not
managed: the live value stands). What LaunchDarkly adds (`rank`, `_id`, `_access`,
`_links`, any `_` field) is not part of it, and fields the models do not know are set
aside by `unknown_fields`, to be carried into PUT bodies, never compared.
"""

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from reconciler.kinds.policies.models import (
    GuardedReleaseConfig,
    PostReleasePolicyRequest,
    ProgressiveReleaseConfig,
    ReleasePolicyScope,
    ReleasePolicyStage,
)
from reconciler.normalize import UnknownField, unknown_in

Canonical = dict[str, Any]

_CONFIGS: dict[str, type[BaseModel]] = {
    "guardedReleaseConfig": GuardedReleaseConfig,
    "progressiveReleaseConfig": ProgressiveReleaseConfig,
}
_SETS = ("metricKeys", "metricGroupKeys")
_SCOPE_LISTS = tuple(ReleasePolicyScope.model_fields)
_STAGE_FIELDS = tuple(ReleasePolicyStage.model_fields)
# What LaunchDarkly returns beside the request's fields (every `_` field is its own too).
_RESPONSE_FIELDS = frozenset({"rank"})
# The ways a list might mark the project's default policy: how it does is UNVERIFIED.
_DEFAULT_FLAGS = ("isDefault", "default", "isProjectDefault")


def _key_set(values: Any) -> list[str]:
    return sorted(set(values or ()))


def _stage(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {name: raw[name] for name in _STAGE_FIELDS if raw.get(name) is not None}


def _config(raw: Mapping[str, Any], model: type[BaseModel]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in model.model_fields:
        value = raw.get(name)
        if value is None:
            continue
        if name in _SETS:
            out[name] = _key_set(value)
        elif name == "stages":
            out[name] = [_stage(stage) for stage in value]
        else:
            out[name] = value
    return out


def canonical(raw: Mapping[str, Any]) -> Canonical:
    """A policy (a file's data or a ReleasePolicy response) in canonical form."""
    scope = raw.get("scope") or {}
    out: Canonical = {
        "key": raw["key"],
        "name": raw["name"],
        "releaseMethod": raw["releaseMethod"],
        "scope": {name: _key_set(scope.get(name)) for name in _SCOPE_LISTS},
    }
    for name, model in _CONFIGS.items():
        if isinstance(raw.get(name), Mapping):
            out[name] = _config(raw[name], model)
    return out


def canonical_desired(policy: PostReleasePolicyRequest) -> Canonical:
    return canonical(policy.model_dump(exclude_none=True))


def canonical_live(raw: Mapping[str, Any]) -> Canonical:
    return canonical(raw)


def is_default_policy(raw: Mapping[str, Any]) -> bool:
    """Whether a listed policy is the project's default, however LaunchDarkly marks it:
    a true default flag, or no rank (0, null or missing) outside the scoped ranking."""
    if any(raw.get(flag) is True for flag in _DEFAULT_FLAGS):
        return True
    rank = raw.get("rank")
    return rank is None or rank == 0


def unknown_fields(raw: Mapping[str, Any]) -> list[UnknownField]:
    """The fields of a live policy that the models do not manage (in the policy, its
    scope, its configs and their stages), each located in the canonical form."""
    top = frozenset({*PostReleasePolicyRequest.model_fields, *_RESPONSE_FIELDS,
                     *_DEFAULT_FLAGS})
    found = unknown_in(raw, top, ())
    found += unknown_in(raw.get("scope"), frozenset(_SCOPE_LISTS), ("scope",))
    for name, model in _CONFIGS.items():
        config = raw.get(name)
        found += unknown_in(config, frozenset(model.model_fields), (name,))
        stages = config.get("stages") if isinstance(config, Mapping) else None
        for index, stage in enumerate(stages if isinstance(stages, list) else []):
            found += unknown_in(stage, frozenset(_STAGE_FIELDS), (name, "stages", index))
    return found
