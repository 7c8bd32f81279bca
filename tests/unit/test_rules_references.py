"""The reference rule: what an audience names must be known to exist."""

from reconciler.rules import UnknownReference, references, unknown_references

PHASES = [
    {"name": "P1", "audiences": [{"name": "QA", "environmentKey": "test",
                                  "segmentKeys": ["qa", "beta"]}]},
    {"name": "P2", "audiences": [{"name": "All", "environmentKey": "prod"},
                                 {"name": "Typo", "environmentKey": "stagging",
                                  "segmentKeys": ["qa"]}]},
]


def test_references_name_each_environment_with_its_segments() -> None:
    # A live audience whose environment was deleted has none, and vouches for nothing.
    gone = {"name": "P3", "audiences": [{"name": "Gone", "environmentKey": None,
                                         "segmentKeys": ["old"]}]}
    assert references([*PHASES, gone]) == {"test": {"qa", "beta"}, "prod": set(),
                                           "stagging": {"qa"}}


def test_unknown_references_report_a_missing_environment_once_and_missing_segments() -> None:
    known = {"test": {"qa"}, "prod": set()}
    assert unknown_references("web", PHASES, known) == [
        UnknownReference(0, 0, "test", "beta",
                         "segment 'beta' does not exist in environment 'test' of project 'web'"),
        UnknownReference(1, 1, "stagging", None,
                         "environment 'stagging' does not exist in project 'web'"),
    ]
