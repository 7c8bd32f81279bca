"""The canonical form of a release policy: sets sorted, stages in order, absent fields
left out, LaunchDarkly's own fields dropped, unknown live fields set aside; and the
default policy recognised however the list marks it."""

import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.kinds.policies.canonical import (
    canonical_desired,
    canonical_live,
    is_default_policy,
    unknown_fields,
)
from reconciler.kinds.policies.models import PostReleasePolicyRequest


def test_sets_are_sorted_and_unique_stages_keep_their_order() -> None:
    policy = PostReleasePolicyRequest.model_validate({
        "key": "prod", "name": "Prod", "releaseMethod": "guarded-release",
        "scope": {"environmentKeys": ["production", "canary", "production"],
                  "flagTagKeys": ["web", "api"]},
        "guardedReleaseConfig": {
            "metricKeys": ["latency", "errors", "latency"], "rollbackOnRegression": False,
            "stages": [{"allocation": 50000, "durationMillis": 2},
                       {"allocation": 10000, "durationMillis": 1}]},
    })
    assert canonical_desired(policy) == {
        "key": "prod", "name": "Prod", "releaseMethod": "guarded-release",
        "scope": {"environmentKeys": ["canary", "production"], "flagTagKeys": ["api", "web"]},
        "guardedReleaseConfig": {
            "rollbackOnRegression": False, "metricKeys": ["errors", "latency"],
            "stages": [{"allocation": 50000, "durationMillis": 2},
                       {"allocation": 10000, "durationMillis": 1}]},
    }


def test_an_absent_scope_is_empty_and_absent_configs_stay_absent() -> None:
    policy = PostReleasePolicyRequest.model_validate(
        {"key": "now", "name": "Now", "releaseMethod": "immediate-release"})
    assert canonical_desired(policy) == {
        "key": "now", "name": "Now", "releaseMethod": "immediate-release",
        "scope": {"environmentKeys": [], "flagTagKeys": []}}


LIVE = {
    "_id": "550e8400-e29b-41d4-a716-446655440000", "rank": 2,
    "_access": {"allowed": [], "denied": []}, "_links": {"self": {"href": "/x"}},
    "key": "prod", "name": "Prod", "releaseMethod": "progressive-release",
    "scope": {"environmentKeys": ["production"], "flagTagKeys": None, "viewKeys": ["team-a"]},
    "guardedReleaseConfig": None,
    "progressiveReleaseConfig": {
        "rolloutContextKindKey": "user", "pace": "fast",
        "stages": [{"allocation": 25000, "durationMillis": 60000, "id": "s1"}]},
    "createdAt": 1700000000,
}


def test_live_drops_what_launchdarkly_adds_and_sets_aside_what_it_does_not_know() -> None:
    assert canonical_live(LIVE) == {
        "key": "prod", "name": "Prod", "releaseMethod": "progressive-release",
        "scope": {"environmentKeys": ["production"], "flagTagKeys": []},
        "progressiveReleaseConfig": {
            "rolloutContextKindKey": "user",
            "stages": [{"allocation": 25000, "durationMillis": 60000}]},
    }
    assert sorted(unknown_fields(LIVE), key=repr) == sorted([
        ((), "createdAt", 1700000000),
        (("scope",), "viewKeys", ["team-a"]),
        (("progressiveReleaseConfig",), "pace", "fast"),
        (("progressiveReleaseConfig", "stages", 0), "id", "s1"),
    ], key=repr)


@pytest.mark.parametrize("marks, default", [
    ({"rank": 1}, False),
    ({"rank": 7}, False),
    ({"rank": 0}, True),
    ({"rank": None}, True),
    ({}, True),
    ({"rank": 3, "isDefault": True}, True),
    ({"rank": 3, "default": True}, True),
    ({"rank": 3, "isProjectDefault": True}, True),
    ({"rank": 3, "isDefault": False, "default": False}, False),
])
def test_the_default_policy_however_it_is_marked(marks: dict[str, Any], default: bool) -> None:
    raw = {"key": "k", "name": "K", "releaseMethod": "immediate-release", **marks}
    assert is_default_policy(raw) is default


# --- property: any valid file, and the same policy as LaunchDarkly lists it ------------

keys = st.from_regex(r"[a-z0-9][a-z0-9._-]{0,8}", fullmatch=True)
key_lists = st.lists(keys, max_size=5)
stages = st.lists(st.fixed_dictionaries({"allocation": st.integers(0, 100_000),
                                         "durationMillis": st.integers(1, 10**9)}),
                  max_size=6)


def _maybe(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A mapping holding any subset of `fields`."""
    return st.fixed_dictionaries({}, optional=fields)


documents = st.fixed_dictionaries(
    {"key": keys, "name": st.text(max_size=20),
     "releaseMethod": st.sampled_from(
         ["guarded-release", "immediate-release", "progressive-release"])},
    optional={
        "scope": _maybe(environmentKeys=key_lists, flagTagKeys=key_lists),
        "guardedReleaseConfig": _maybe(
            rolloutContextKindKey=keys, minSampleSize=st.integers(0, 10**6),
            rollbackOnRegression=st.booleans(), metricKeys=key_lists,
            metricGroupKeys=key_lists, stages=stages),
        "progressiveReleaseConfig": _maybe(rolloutContextKindKey=keys, stages=stages),
    },
)


def expected_canonical(document: dict[str, Any]) -> dict[str, Any]:
    """The canonical form by the written rules, field by field."""
    scope = document.get("scope", {})
    expected: dict[str, Any] = {
        "key": document["key"], "name": document["name"],
        "releaseMethod": document["releaseMethod"],
        "scope": {"environmentKeys": sorted(set(scope.get("environmentKeys", []))),
                  "flagTagKeys": sorted(set(scope.get("flagTagKeys", [])))},
    }
    for config in ("guardedReleaseConfig", "progressiveReleaseConfig"):
        if config in document:
            expected[config] = {
                field: sorted(set(value)) if field in ("metricKeys", "metricGroupKeys")
                else value
                for field, value in document[config].items()}
    return expected


def _shuffled_sets(document: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """The same policy with every set-like list reordered and one item repeated."""
    out = {**document}
    for parent, field in (("scope", "environmentKeys"), ("scope", "flagTagKeys"),
                          ("guardedReleaseConfig", "metricKeys"),
                          ("guardedReleaseConfig", "metricGroupKeys")):
        values = list(out.get(parent, {}).get(field, []))
        if values:
            rng.shuffle(values)
            out[parent] = {**out[parent], field: [*values, values[0]]}
    return out


@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(document=documents, seed=st.integers(0, 2**32))
def test_any_valid_policy_round_trips_to_its_canonical_form(document: dict[str, Any],
                                                           seed: int) -> None:
    policy = PostReleasePolicyRequest.model_validate(document)
    expected = expected_canonical(document)
    assert canonical_desired(policy) == expected
    as_listed = {**_shuffled_sets(document, random.Random(seed)), "rank": 3, "_id": "x",
                 "_access": {"allowed": [], "denied": []}}
    assert canonical_live(as_listed) == expected
    assert unknown_fields(as_listed) == []
