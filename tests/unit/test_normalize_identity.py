"""Identity for ignore pointers: by name, k-th occurrence to k-th occurrence; pointers
outside the grammar match nothing (and never crash)."""

import pytest

from reconciler.normalize import canonical, carry_ignored, counterparts, strip_ignored


def doc(*phases: tuple[str, list[tuple[str, list[str]]]]) -> dict:
    return canonical({"key": "p", "name": "P", "phases": [
        {"name": name, "audiences": [
            {"name": a, "environmentKey": "test",
             "configuration": {"releaseStrategy": "s", "requireApproval": True,
                               "notifyMemberIds": notify}}
            for a, notify in audiences]}
        for name, audiences in phases]})


def test_counterparts_pair_the_kth_occurrence_of_a_name():
    left = doc(("B", [("X", [])]), ("A", [("X", []), ("X", []), ("Y", [])]), ("A", [("Z", [])]))
    right = doc(("A", [("Y", []), ("X", [])]), ("C", []), ("B", [("X", [])]))
    assert counterparts(left, right) == {
        (): (),
        ("phases", 0): ("phases", 2),
        ("phases", 0, "audiences", 0): ("phases", 2, "audiences", 0),
        ("phases", 1): ("phases", 0),  # the first "A"; the second has no partner
        ("phases", 1, "audiences", 0): ("phases", 0, "audiences", 1),  # first X
        ("phases", 1, "audiences", 2): ("phases", 0, "audiences", 0),  # Y
    }


@pytest.mark.parametrize("pointer", [
    "/isLegacy", "/phases", "/phases/0", "/phases/0/audiences/0/configuration/notifyMemberIds",
    "/key", "/phases/*/name", "/phases/*/audiences", "/phases/*/audiences/*/name", "/",
    "/phases/*/audiences/*", "/phases/*/audiences/*/configuration/notifyMemberIds/*",
])
def test_pointers_outside_the_grammar_match_nothing(pointer):
    live = doc(("A", [("X", ["m"])]))
    wanted = doc(("A", [("X", ["g"])]))
    assert strip_ignored(wanted, [pointer], live) == wanted
    assert carry_ignored(wanted, live, [pointer]) == wanted


def test_only_objects_with_a_counterpart_are_stripped_or_carried():
    pointer = "/phases/*/audiences/*/configuration/notifyMemberIds"
    live = doc(("A", [("X", ["m1"])]))
    wanted = doc(("N", [("X", ["g0"])]), ("A", [("X", ["g1"]), ("X", ["g2"])]))
    carried = carry_ignored(wanted, live, [pointer])
    assert [a["configuration"]["notifyMemberIds"] for p in carried["phases"]
            for a in p["audiences"]] == [["g0"], ["m1"], ["g2"]]
    stripped = strip_ignored(wanted, [pointer], live)
    assert ["notifyMemberIds" in a["configuration"] for p in stripped["phases"]
            for a in p["audiences"]] == [True, False, True]
