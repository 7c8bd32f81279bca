"""The flag-level preview: which policy applies to each environment and flag tag named
in any scope (and to the ones not named), before and after a plan. Expectations are
worked out by hand from the matching rule in the README."""

from typing import Any

from reconciler.kinds.policies.preview import PreviewRow, applying, preview


def policy(key: str, environments: list[str], tags: list[str]) -> dict[str, Any]:
    return {"key": key, "name": key, "releaseMethod": "immediate-release",
            "scope": {"environmentKeys": environments, "flagTagKeys": tags}}


A = policy("a", ["production"], ["checkout"])
B = policy("b", [], ["payments"])
A_WIDER = policy("a", ["production", "staging"], ["checkout"])
B_WIDER = policy("b", [], ["checkout", "payments"])


def rows(table: list[tuple[str | None, str | None, str | None, str | None]]
         ) -> list[PreviewRow]:
    return [PreviewRow(environment=e, flagTag=t, before=b, after=a) for e, t, b, a in table]


def test_first_match_in_rank_order_else_the_default() -> None:
    assert preview([A, B], [B_WIDER, A_WIDER], "default") == rows([
        ("production", "checkout", "a", "b"),
        ("production", "payments", "b", "b"),
        ("production", None, "default", "default"),
        ("staging", "checkout", "default", "b"),
        ("staging", "payments", "b", "b"),
        ("staging", None, "default", "default"),
        (None, "checkout", "default", "b"),
        (None, "payments", "b", "b"),
        (None, None, "default", "default"),
    ])


def test_a_widened_scope_and_a_new_policy_without_a_default() -> None:
    everything = policy("everything", [], [])
    assert preview([A], [A_WIDER, everything], None) == rows([
        ("production", "checkout", "a", "a"),
        ("production", None, None, "everything"),
        ("staging", "checkout", None, "a"),
        ("staging", None, None, "everything"),
        (None, "checkout", None, "everything"),
        (None, None, None, "everything"),
    ])


def test_reordering_alone_changes_what_applies() -> None:
    web = policy("web", [], ["checkout"])
    prod = policy("prod", ["production"], [])
    assert applying([web, prod], "production", "checkout", None) == "web"
    assert applying([prod, web], "production", "checkout", None) == "prod"
    assert applying([prod, web], "staging", "checkout", None) == "web"
    assert applying([prod, web], "staging", None, "d") == "d"


def test_no_policies_no_named_values() -> None:
    assert preview([], [], "default") == rows([(None, None, "default", "default")])
