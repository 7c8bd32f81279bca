"""The policies kind's reading of a listing: scoped policies ranked by `rank`, the default
apart however it is marked, unknown fields located for the PUT bodies."""

from typing import Any

import pytest

from reconciler.kinds.policies.inputs import live_policies
from reconciler.kinds.registry import KINDS


def listed(key: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "name": key, "releaseMethod": "immediate-release", "_id": "x",
            **extra}


@pytest.mark.parametrize("default", [
    listed("d", isDefault=True, rank=3), listed("d", rank=0), listed("d"), listed("d", rank=None),
])
def test_scoped_policies_are_ranked_by_rank_and_the_default_is_apart(
        default: dict[str, Any]) -> None:
    live = live_policies([listed("b", rank=2), default, listed("a", rank=1)])
    assert (live.ranked, live.default_key, sorted(live.policies)) == (
        ["a", "b"], "d", ["a", "b", "d"])


def test_unknown_fields_are_located_in_the_canonical_form() -> None:
    live = live_policies([listed("a", rank=1, scope={"viewKeys": ["v"]}, labels=["x"])])
    assert live.unknown == {"a": [("/labels", ["x"]), ("/scope/viewKeys", ["v"])]}
    assert live.default_key is None


def test_policies_are_registered_after_pipelines() -> None:
    assert [kind.name for kind in KINDS] == ["pipelines", "policies"]
