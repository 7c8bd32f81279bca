"""The limits of a release policy that only sources other than the spec state.

Each is a warning naming its source: LaunchDarkly may accept what they flag (the spec
does), or refuse it at apply time. They run on the raw file data, so that they are
reported together with the schema's errors.
"""

from collections.abc import Iterator
from itertools import pairwise
from typing import Any

from reconciler.manifest.yamlfile import Loc

# "At most 10 stages by default" (the spec's description of `stages`).
DEFAULT_MAX_STAGES = 10
# "Guarded releases cannot exceed 50000" (client 25.0.1, environment releases'
# release_step.py; the Terraform provider's preview docs say the same of policy stages).
MAX_GUARDED_ALLOCATION = 50_000
# Allocations are thousandths of a percent (25000 = 25%): a policy whose allocations are
# all at most this looks written in percent.
PERCENT_LOOKALIKE = 100

_STAGE_LIMIT_SOURCE = "the spec: 'At most 10 stages by default'"
_GUARDED_SOURCE = ("UNVERIFIED for policies: client 25's environment releases and the "
                   "Terraform provider's docs say guarded allocations cannot exceed 50000")
_INCREASING_SOURCE = ("UNVERIFIED for policies: client 25's environment releases require "
                      "each step's allocation to be greater than the one before")
_INCOMPLETE_SOURCE = "LaunchDarkly's own agent reports it as incomplete_policy"

_CONFIGS = ("guardedReleaseConfig", "progressiveReleaseConfig")


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _stages(config: dict[str, Any]) -> list[Any]:
    stages = config.get("stages")
    return stages if isinstance(stages, list) else []


def _allocations(stages: list[Any]) -> list[tuple[int, int]]:
    """(index, allocation) of every stage whose allocation is an integer."""
    return [(i, s["allocation"]) for i, s in enumerate(stages)
            if isinstance(s, dict) and type(s.get("allocation")) is int]


def _stage_warnings(name: str, config: dict[str, Any]) -> Iterator[tuple[Loc, str]]:
    stages = _stages(config)
    if len(stages) > DEFAULT_MAX_STAGES:
        yield ((name, "stages"),
               f"{len(stages)} stages; LaunchDarkly allows {DEFAULT_MAX_STAGES} unless the "
               f"account's limit is raised ({_STAGE_LIMIT_SOURCE})")
    allocations = _allocations(stages)
    for (_, before), (index, allocation) in pairwise(allocations):
        if allocation <= before:
            yield ((name, "stages", index, "allocation"),
                   f"{allocation} is not greater than the stage before ({before}): "
                   f"allocations should increase ({_INCREASING_SOURCE})")
    if name == "guardedReleaseConfig":
        for index, allocation in allocations:
            if allocation > MAX_GUARDED_ALLOCATION:
                yield ((name, "stages", index, "allocation"),
                       f"{allocation} is over {MAX_GUARDED_ALLOCATION} (50%) "
                       f"({_GUARDED_SOURCE})")
    if allocations and all(a <= PERCENT_LOOKALIKE for _, a in allocations):
        yield ((name, "stages"),
               f"every allocation is at most {PERCENT_LOOKALIKE}: allocations are thousandths "
               "of a percent (25000 = 25%), not percents")


def _incomplete(data: dict[str, Any]) -> Iterator[tuple[Loc, str]]:
    method = data.get("releaseMethod")
    if method == "guarded-release":
        config = _mapping(data.get("guardedReleaseConfig"))
        if not config.get("metricKeys") and not config.get("metricGroupKeys"):
            yield (("releaseMethod",),
                   "a guarded release with no metricKeys or metricGroupKeys in "
                   f"guardedReleaseConfig is incomplete ({_INCOMPLETE_SOURCE})")
        if not _stages(config):
            yield (("releaseMethod",),
                   "a guarded release with no guardedReleaseConfig.stages is incomplete "
                   f"({_INCOMPLETE_SOURCE})")
    elif (method == "progressive-release"
          and not _stages(_mapping(data.get("progressiveReleaseConfig")))):
        yield (("releaseMethod",),
               "a progressive release with no progressiveReleaseConfig.stages is "
               f"incomplete ({_INCOMPLETE_SOURCE})")


def policy_warnings(data: dict[str, Any]) -> list[tuple[Loc, str]]:
    """Every warning for one policy file's raw data: where, and what (without the field)."""
    found = list(_incomplete(data))
    for name in _CONFIGS:
        found += _stage_warnings(name, _mapping(data.get(name)))
    return found
