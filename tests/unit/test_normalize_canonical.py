"""The canonical form and the unmanaged fields, against hand-written expectations: a live
response and a request body with everything the normalisation touches (read-only fields,
absent and null values, unordered lists with duplicates, lists of one, newer fields)."""

from types import MappingProxyType
from typing import Any

from reconciler.normalize import canonical, canonical_live, unknown_fields

GUARDIAN = {"monitoringWindowMilliseconds": 60000, "rolloutWeight": 10,
            "rollbackOnRegression": True}


def live_response() -> dict[str, Any]:
    return {
        "_version": 3, "_access": {"denied": [], "allowed": []}, "_links": {},
        "createdAt": "2026-11-30T00:00:00Z", "key": "p", "name": "P",
        "description": None, "tags": ["b", "a", "b"], "isProjectDefault": True,
        "_isLegacy": 1, "rolloutHint": {"x": [1]},
        "phases": [
            {"id": "p1", "name": "One", "audiences": [
                {"name": "A", "environment": {"_links": {}, "key": "test", "name": "Test"},
                 "segmentKeys": ["s2", "s1", "s2"], "tier": "gold",
                 "configuration": {"releaseStrategy": "monitoredRelease",
                                   "requireApproval": False, "notifyTeamKeys": ["t"],
                                   "notifyMemberIds": ["m2", "m1"], "_hidden": 1,
                                   "releaseGuardianConfiguration": {
                                       **GUARDIAN, "randomizationUnit": None,
                                       "minSample": 5}}},
                {"name": "B", "segmentKeys": [7], "configuration": None},
            ]},
            {"id": "p2", "name": "Two", "configuration": {"releaseManualApprovals": 1},
             "audiences": None, "color": "red"},
        ],
    }


def test_a_live_response_reads_as_its_canonical_form() -> None:
    assert canonical_live(live_response()) == {
        "key": "p", "name": "P", "description": "", "tags": ["a", "b"], "isLegacy": True,
        "phases": [
            {"name": "One", "configuration": {}, "audiences": [
                {"name": "A", "environmentKey": "test", "segmentKeys": ["s1", "s2"],
                 "configuration": {"releaseStrategy": "monitoredRelease",
                                   "requireApproval": False, "notifyMemberIds": ["m1", "m2"],
                                   "notifyTeamKeys": ["t"],
                                   "releaseGuardianConfiguration": GUARDIAN}},
                {"name": "B", "environmentKey": None, "segmentKeys": [7]},
            ]},
            {"name": "Two", "configuration": {"releaseManualApprovals": 1}, "audiences": []},
        ],
    }


def test_a_request_body_keeps_an_unmanaged_legacy_flag_unset() -> None:
    body = {"key": "p", "name": "P", "tags": ("z",), "phases": [{"name": "One", "audiences": [
        {"name": "A", "environmentKey": "prod", "segmentKeys": ["only"],
         "configuration": {"releaseStrategy": "immediate", "notifyMemberIds": "ab",
                           "releaseGuardianConfiguration": {"randomizationUnit": "org"}}}]}]}
    assert canonical(body) == {
        "key": "p", "name": "P", "description": "", "tags": ["z"], "isLegacy": None,
        "phases": [{"name": "One", "configuration": {}, "audiences": [
            {"name": "A", "environmentKey": "prod", "segmentKeys": ["only"],
             "configuration": {"releaseStrategy": "immediate", "requireApproval": None,
                               "notifyMemberIds": ["a", "b"], "notifyTeamKeys": [],
                               "releaseGuardianConfiguration": {
                                   "monitoringWindowMilliseconds": None, "rolloutWeight": None,
                                   "rollbackOnRegression": None,
                                   "randomizationUnit": "org"}}}]}],
    }
    assert canonical_live({"key": "p"})["isLegacy"] is False


def test_the_canonical_form_shares_no_container_with_its_source() -> None:
    raw = live_response()
    out = canonical_live(raw)
    out["phases"][1]["configuration"]["releaseManualApprovals"] = 2
    out["phases"][0]["audiences"][0]["segmentKeys"].append("s3")
    out["phases"][0]["audiences"][0]["configuration"]["notifyTeamKeys"].append("u")
    assert raw == live_response()


def test_any_iterable_of_names_is_a_sorted_set_even_of_one() -> None:
    # What a hostile or newer response may hold where a list of names belongs.
    out = canonical({"tags": {"k": 1}, "phases": [{"audiences": [
        {"segmentKeys": "ba", "configuration": {"notifyTeamKeys": ("t",)}}]}]})
    assert out["tags"] == ["k"]
    assert out["phases"][0]["audiences"][0]["segmentKeys"] == ["a", "b"]
    assert out["phases"][0]["audiences"][0]["configuration"]["notifyTeamKeys"] == ["t"]


def test_the_fields_the_models_do_not_manage_are_found_where_they_stand() -> None:
    raw = live_response()
    found = unknown_fields(raw)
    assert found == [
        ((), "rolloutHint", {"x": [1]}),
        (("phases", 0, "audiences", 0), "tier", "gold"),
        (("phases", 0, "audiences", 0, "configuration", "releaseGuardianConfiguration"),
         "minSample", 5),
        (("phases", 1), "color", "red"),
    ]
    raw["rolloutHint"]["x"].append(2)  # the values found are copies
    assert found[0][2] == {"x": [1]}
    assert unknown_fields({"key": "p", "_version": 1, "phases": [{"name": "One"}]}) == []
    # Any mapping, not only a dict, is looked into.
    assert unknown_fields({"phases": [MappingProxyType({"name": "One", "extra": 1})]}) == [
        (("phases", 0), "extra", 1)]
