"""LaunchDarkly's release-policy rules as the simulator replays them: a key once per
project, the default policy never deleted nor ranked, the order body exactly the scoped
keys of that moment, a new policy ranked last; and the shared delete threshold's wording."""

import pytest

from reconciler.rules import PolicyModel, Rule, RuleViolation, delete_threshold_refusal


def model() -> PolicyModel:
    return PolicyModel(policies={"a": {}, "b": {}, "default": {}}, ranked=["a", "b"],
                       default_key="default", protected=["keep"])


def violation(action: object, *args: object) -> RuleViolation:
    with pytest.raises(RuleViolation) as raised:
        action(*args)  # type: ignore[operator]
    return raised.value


def test_a_created_policy_is_ranked_last() -> None:
    m = model()
    m.create("c", {"name": "C"})
    assert m.ranked == ["a", "b", "c"]
    assert m.policies["c"] == {"name": "C"}


@pytest.mark.parametrize("key", ["a", "default"])
def test_a_key_is_unique_in_the_project_the_default_policy_included(key: str) -> None:
    m = model()
    assert violation(m.create, key, {}).rule is Rule.DUPLICATE
    assert m.ranked == ["a", "b"]


def test_update_needs_the_policy_and_keeps_its_rank() -> None:
    m = model()
    m.update("b", {"name": "B"})
    m.update("default", {"name": "D"})
    assert (m.ranked, m.policies["b"], m.policies["default"]) == (
        ["a", "b"], {"name": "B"}, {"name": "D"})
    assert violation(m.update, "zz", {}).rule is Rule.MISSING


def test_delete_removes_the_policy_from_the_ranking() -> None:
    m = model()
    m.delete("a")
    assert (m.ranked, sorted(m.policies)) == (["b"], ["b", "default"])
    assert violation(m.delete, "a").rule is Rule.MISSING


def test_the_default_policy_cannot_be_deleted() -> None:
    m = model()
    error = violation(m.delete, "default")
    assert (error.rule, str(error)) == (
        Rule.DEFAULT_DELETE, "cannot delete 'default': it is the project's default release policy")


def test_a_protected_policy_is_never_deleted() -> None:
    m = model()
    m.create("keep", {})
    assert violation(m.delete, "keep").rule is Rule.PROTECTED


def test_reorder_takes_a_permutation_of_the_scoped_keys() -> None:
    m = model()
    m.reorder(["b", "a"])
    assert m.ranked == ["b", "a"]


@pytest.mark.parametrize(("keys", "message"), [
    (["a"], "missing b"),
    (["a", "b", "c"], "unknown c"),
    (["a", "b", "b"], "repeated b"),
    (["b", "c"], "missing a; unknown c"),
])
def test_reorder_names_every_scoped_key_exactly_once(keys: list[str], message: str) -> None:
    m = model()
    error = violation(m.reorder, keys)
    assert error.rule is Rule.ORDER_KEYS
    assert str(error) == (
        f"the order must name every scoped release policy exactly once ({message})")
    assert m.ranked == ["a", "b"]


def test_the_default_policy_is_never_in_an_order_body() -> None:
    m = model()
    assert violation(m.reorder, ["a", "default", "b"]).rule is Rule.DEFAULT_ORDER


def test_the_order_body_is_the_scoped_keys_of_that_moment() -> None:
    m = model()
    m.create("c", {})
    assert violation(m.reorder, ["b", "a"]).rule is Rule.ORDER_KEYS
    m.delete("a")
    m.reorder(["c", "b"])
    assert m.ranked == ["c", "b"]


def test_the_delete_threshold_names_what_it_counts() -> None:
    assert str(delete_threshold_refusal(["a", "b"], 2, False, 30.0, noun="policies")) == (
        "the plan deletes all 2 policies of the project (a, b); pass --force to allow it")
    assert str(delete_threshold_refusal(["a", "b"], 4, False, 30.0, noun="policies")) == (
        "the plan deletes 2 of 4 policies (over 30%: a, b); pass --force to allow it")
    assert delete_threshold_refusal(["a"], 4, False, 30.0) is None
