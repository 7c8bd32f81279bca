"""write_export: live pipelines -> files that load back to the same canonical form, with
comments kept on re-export."""

import copy
import difflib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.errors import ManifestError
from reconciler.export import MODELINE, write_export
from reconciler.manifest import load_desired
from reconciler.manifest.models import (
    CONTEXT_KIND_PATTERN,
    KEY_PATTERN,
    KNOWN_RELEASE_STRATEGIES,
    RESERVED_CONTEXT_KINDS,
)
from reconciler.normalize import canonical_desired, canonical_live

EXAMPLE = Path(__file__).parent.parent.parent / "pipelines"


def as_live(body: dict[str, Any], version: int = 1) -> dict[str, Any]:
    """A request-shaped pipeline as LaunchDarkly returns it (ReleasePipeline)."""
    live = copy.deepcopy(body)
    live.pop("isProjectDefault", None)
    live["_isLegacy"] = live.pop("isLegacy", False)
    live.update({"createdAt": "1684262711507", "_version": version,
                 "_access": {"denied": [], "allowed": []}})
    for index, phase in enumerate(live["phases"]):
        phase["id"] = f"{index:024x}"
        for audience in phase["audiences"]:
            key = audience.pop("environmentKey")
            audience["environment"] = {"key": key, "name": key.title(), "color": "F5A623",
                                       "_links": {"self": {"href": f"/environments/{key}"}}}
    return live


def example_live() -> list[dict[str, Any]]:
    state = load_desired(EXAMPLE)
    return [as_live(p.model_dump(exclude_none=True))
            for p in state.projects["web"].pipelines.values()]


def assert_round_trip(live: list[dict[str, Any]], default_key: str | None, root: Path) -> None:
    state = load_desired(root)
    loaded = state.projects["web"].pipelines
    assert {key: canonical_desired(p) for key, p in loaded.items()} == {
        p["key"]: canonical_live(p) for p in live}
    assert [key for key, p in loaded.items() if p.isProjectDefault] == (
        [default_key] if default_key in loaded else [])


def test_example_round_trips(tmp_path: Path) -> None:
    live = example_live()
    written = write_export("web", live, "standard", tmp_path)
    assert [p.name for p in written] == ["guarded-rollout.yaml", "hotfix.yaml",
                                         "legacy-manual.yaml", "standard.yaml"]
    assert_round_trip(live, "standard", tmp_path)


def test_file_layout_order_and_omitted_empties(tmp_path: Path) -> None:
    live = as_live({
        "key": "standard", "name": "Standard", "description": "", "tags": ["web", "a", "web"],
        "phases": [{"name": "Testing", "configuration": {}, "audiences": [
            {"name": "QA", "environmentKey": "test", "segmentKeys": [],
             "configuration": {"releaseStrategy": "monitoredRelease", "requireApproval": False,
                               "notifyMemberIds": [], "notifyTeamKeys": ["qa"],
                               "releaseGuardianConfiguration": {
                                   "monitoringWindowMilliseconds": 60000, "rolloutWeight": 0,
                                   "rollbackOnRegression": False}}}]}],
    })
    del live["_isLegacy"]  # absent on the wire means false
    (path,) = write_export("web", [live], "standard", tmp_path)
    assert path == tmp_path / "web" / "standard.yaml"
    assert path.read_text() == f"""{MODELINE}
key: standard
name: Standard
tags: [a, web]
isProjectDefault: true
isLegacy: false
phases:
  - name: Testing
    audiences:
      - name: QA
        environmentKey: test
        configuration:
          releaseStrategy: monitoredRelease
          requireApproval: false
          notifyTeamKeys: [qa]
          releaseGuardianConfiguration:
            monitoringWindowMilliseconds: 60000
            rolloutWeight: 0
            rollbackOnRegression: false
"""
    assert_round_trip([live], "standard", tmp_path)


def test_re_export_keeps_comments_and_updates_values(tmp_path: Path) -> None:
    live = example_live()
    write_export("web", live, "standard", tmp_path)
    path = tmp_path / "web" / "hotfix.yaml"
    text = path.read_text()
    text = text.replace("name: Hotfix\n", "name: Hotfix  # shown in the flag's release menu\n")
    text = text.replace("  - name: Production\n", "  # needs a release manager\n"
                                                  "  - name: Production\n")
    path.write_text(text)

    hotfix = next(p for p in live if p["key"] == "hotfix")
    hotfix["description"] = "Changed in the UI"
    hotfix["tags"] = ["hotfix"]
    hotfix["phases"][1]["audiences"][0]["configuration"]["requireApproval"] = False
    write_export("web", live, "hotfix", tmp_path)

    updated = path.read_text()
    assert updated.startswith(MODELINE + "\n")
    assert "# shown in the flag's release menu" in updated
    assert "  # needs a release manager\n  - name: Production\n" in updated
    assert "description: Changed in the UI\n" in updated
    assert "tags: [hotfix]\n" in updated
    assert "isProjectDefault: true\n" in updated
    assert "isProjectDefault" not in (tmp_path / "web" / "standard.yaml").read_text()
    assert_round_trip(live, "hotfix", tmp_path)


def test_re_export_of_unchanged_live_changes_nothing(tmp_path: Path) -> None:
    live = example_live()
    write_export("web", live, "standard", tmp_path)
    path = tmp_path / "web" / "guarded-rollout.yaml"
    path.write_text(path.read_text().replace("rolloutWeight: 10\n",
                                             "rolloutWeight: 10  # start small\n"))
    before = {p: p.read_bytes() for p in (tmp_path / "web").iterdir()}
    write_export("web", live, "standard", tmp_path)
    assert {p: p.read_bytes() for p in (tmp_path / "web").iterdir()} == before


def test_export_over_the_hand_written_example_keeps_it(tmp_path: Path) -> None:
    (tmp_path / "web").mkdir()
    for source in (EXAMPLE / "web").glob("*.yaml"):
        (tmp_path / "web" / source.name).write_text(source.read_text())
    write_export("web", example_live(), "standard", tmp_path)
    for source in (EXAMPLE / "web").glob("*.yaml"):
        assert (tmp_path / "web" / source.name).read_text() == source.read_text(), source.name


def test_a_file_that_does_not_parse_is_left_alone(tmp_path: Path) -> None:
    live = example_live()
    broken = tmp_path / "web" / "hotfix.yaml"
    broken.parent.mkdir()
    broken.write_text("key: hotfix\nname: [\n")
    with pytest.raises(ManifestError) as raised:
        write_export("web", live, "standard", tmp_path)
    assert str(broken) in str(raised.value) and "(not updated)" in str(raised.value)
    assert broken.read_text() == "key: hotfix\nname: [\n"


def test_keys_that_are_not_file_names_are_refused(tmp_path: Path) -> None:
    live = as_live({"key": "../escape", "name": "X", "phases": []})
    with pytest.raises(ManifestError):
        write_export("web", [live], None, tmp_path)
    with pytest.raises(ManifestError):
        write_export("../web", [], None, tmp_path)
    assert list(tmp_path.iterdir()) == []


TRICKY = ["yes", "no", "on", "null", "~", "true", "123", "0o17", "0x1F", "1e3", ".inf",
          "2024-01-01", "- item", "# not a comment", "key: value", "'", '"', " padded ",
          "multi\nline\n", "&anchor", "*alias", "!tag", "%percent", "{x}", "[y]", "@at",
          "`tick", "café ☕", "tab\there", "---", "...", "?", "?x", "? x", ":x", "-x"]


@pytest.mark.parametrize("value", TRICKY)
def test_strings_that_look_like_other_yaml_stay_strings(tmp_path: Path, value: str) -> None:
    live = as_live({"key": "tricky", "name": value, "description": value, "tags": [value],
                    "phases": [{"name": value, "audiences": [
                        {"name": value, "environmentKey": "test", "segmentKeys": [value]}]}]})
    write_export("web", [live], None, tmp_path)
    assert_round_trip([live], None, tmp_path)


# --- property: any live pipeline survives export -> load ------------------------------

keys = st.from_regex(KEY_PATTERN.replace("*$", "{0,20}$"), fullmatch=True)
text = st.text(st.characters(exclude_categories=("Cs", "Cc")) | st.sampled_from("\n\t"),
               max_size=30)
names = st.lists(text, max_size=3)
context_kinds = st.from_regex(CONTEXT_KIND_PATTERN, fullmatch=True).filter(
    lambda kind: kind not in RESERVED_CONTEXT_KINDS)
guardians = st.fixed_dictionaries(
    {"monitoringWindowMilliseconds": st.integers(1, 2**53), "rolloutWeight": st.integers(0, 100),
     "rollbackOnRegression": st.booleans()},
    optional={"randomizationUnit": context_kinds})
# A file's near miss of a known strategy is a typo (an error, see the README), which
# LaunchDarkly, whose strategies are an enum, never returns: live strategies are known ones
# or ones far from them (a newer strategy, a warning).
strategies = st.sampled_from(KNOWN_RELEASE_STRATEGIES) | text.filter(
    lambda value: not difflib.get_close_matches(value, KNOWN_RELEASE_STRATEGIES, cutoff=0.6))
configurations = st.fixed_dictionaries(
    {"releaseStrategy": strategies, "requireApproval": st.booleans()},
    optional={"notifyMemberIds": names, "notifyTeamKeys": names,
              "releaseGuardianConfiguration": guardians})
audiences = st.fixed_dictionaries(
    {"name": text, "environmentKey": keys},
    optional={"segmentKeys": names, "configuration": configurations})
phases = st.fixed_dictionaries(
    {"name": text, "audiences": st.lists(audiences, min_size=1, max_size=3)},
    optional={"configuration": st.dictionaries(keys, st.integers() | text, max_size=2)})
pipelines = st.fixed_dictionaries(
    {"key": keys, "name": text,
     # phase names are unique within a pipeline (validate enforces it)
     "phases": st.lists(phases, min_size=1, max_size=3, unique_by=lambda p: p["name"])},
    optional={"description": text, "tags": names, "isLegacy": st.booleans()})


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=pipelines, default=st.booleans())
def test_any_live_pipeline_round_trips(tmp_path_factory: pytest.TempPathFactory,
                                       body: dict[str, Any], default: bool) -> None:
    root = tmp_path_factory.mktemp("export")
    live = as_live(body)
    default_key = body["key"] if default else None
    write_export("web", [live], default_key, root)
    assert_round_trip([live], default_key, root)
    # Exporting again over the file it just wrote changes nothing.
    path = root / "web" / f"{body['key']}.yaml"
    first = path.read_text()
    write_export("web", [live], default_key, root)
    assert path.read_text() == first


def test_the_modeline_is_added_once_below_a_licence_header(tmp_path: Path) -> None:
    live = example_live()
    path = tmp_path / "web" / "hotfix.yaml"
    path.parent.mkdir()
    path.write_text("# Copyright the web team\nkey: hotfix\nname: Old\nphases: []\n")
    write_export("web", live, "standard", tmp_path)
    lines = path.read_text().splitlines()
    assert lines[:3] == [MODELINE, "# Copyright the web team", "key: hotfix"]
    write_export("web", live, "standard", tmp_path)
    assert path.read_text().splitlines()[:3] == lines[:3]
