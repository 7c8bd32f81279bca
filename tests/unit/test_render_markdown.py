"""The Markdown renderings (plan for the PR comment, drift for the issue): structure,
escaping, and the character budget, which must hold for plans of any size while the
Markdown stays valid."""

import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.diff import diff
from reconciler.kinds.pipelines import DesiredInput, LiveInput, plan_project
from reconciler.manifest.models import ProjectSettings
from reconciler.normalize import Canonical, canonical
from reconciler.plan import (
    Action,
    Change,
    Plan,
    PlanOptions,
    ProjectPlan,
    Step,
    assemble,
    plan_digest,
)
from reconciler.render import render_drift_markdown, render_markdown

HINT = "the `plan-json` artifact"
ROW = re.compile(r"^\|.*\|$")
UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def form(key: str, audience: str = "QA", phases: int = 2, **extra: Any) -> Canonical:
    return {**canonical({"key": key, "name": key.title(), "phases": [
        {"name": f"Phase {i}", "audiences": [{"name": audience, "environmentKey": "test"},
                                             {"name": "Prod", "environmentKey": "production"}]}
        for i in range(phases)]}), "isLegacy": False, **extra}


def step(action: Action, key: str, before: Canonical | None = None,
         after: Canonical | None = None, **extra: Any) -> Step:
    changes = [] if action in (Action.DELETE, Action.SET_DEFAULT) else [
        Change(**c.to_json()) for c in diff(before or {}, after or {})]
    return Step(action=action, key=key, before=before, after=after, changes=changes,
                reason=f"{action} reason", **extra)


def project(key: str, steps: list[Step], **fields: Any) -> ProjectPlan:
    return ProjectPlan(project=key, fingerprint="f" * 64, liveCount=len(steps),
                       desiredCount=len(steps), steps=steps, **fields)


def plan_of(*projects: ProjectPlan) -> Plan:
    return Plan(digest=plan_digest(projects), projects=list(projects))


def mixed_steps(count: int, prefix: str = "p") -> list[Step]:
    kinds = [
        lambda k: step(Action.CREATE, k, after=form(k)),
        lambda k: step(Action.UPDATE, k, form(k), form(k, "Quality")),
        lambda k: step(Action.DELETE, k, before=form(k)),
        lambda k: step(Action.REPLACE, k, form(k), form(k, isLegacy=True)),
        lambda k: step(Action.SET_DEFAULT, k),
    ]
    return [kinds[i % len(kinds)](f"{prefix}{i}") for i in range(count)]


def big_plan(projects: int, steps_each: int) -> Plan:
    steps = mixed_steps(steps_each)  # shared: steps are frozen, and diffing is the slow part
    return plan_of(*(project(f"project-{i:04}", steps) for i in range(projects)))


def realistic_plan() -> Plan:
    live = LiveInput({"std": form("std"), "old": form("old"), "busy": form("busy"),
                      "extra": form("extra")}, "std")
    desired = DesiredInput(
        {"std": form("std", "Quality"), "new": form("new", phases=1),
         "busy": form("busy", phases=3)},
        "new", ProjectSettings(prune=True, protected=["extra"]))
    web = plan_project("web", desired, live, {"busy": ["new-checkout"]}, PlanOptions(force=True))
    empty = plan_project("empty", DesiredInput({"a": form("a")}, None), LiveInput({}, None), {},
                         PlanOptions())
    return assemble([web, empty], PlanOptions(force=True))


def assert_valid(markdown: str) -> None:
    """Every code fence closed (CommonMark: same character, at least as long), every
    <details> and <summary> outside a fence closed, in order."""
    fence: str | None = None
    open_details = 0
    for line in markdown.split("\n"):
        if fence is not None:
            if re.fullmatch(re.escape(fence) + "`*", line):
                fence = None
            continue
        if (opening := re.match(r"(`{3,})", line)) is not None:
            fence = opening.group(1)
            continue
        for tag in re.findall(r"</?details>", line):
            open_details += 1 if tag == "<details>" else -1
            assert open_details >= 0, line
        assert line.count("<summary>") == line.count("</summary>"), line
        if ROW.match(line):
            assert "\n" not in line
    assert fence is None, "unclosed code fence"
    assert open_details == 0, "unclosed <details>"


def table_rows(markdown: str) -> list[list[str]]:
    return [[cell.strip() for cell in UNESCAPED_PIPE.split(line)[1:-1]]
            for line in markdown.split("\n") if ROW.match(line)]


# --- the plan ----------------------------------------------------------------------------


def test_summary_table_first_then_one_collapsible_diff_per_pipeline() -> None:
    markdown = render_markdown(realistic_plan())
    assert_valid(markdown)
    assert markdown.startswith("## Release pipelines plan\n\n**Plan: 2 to create, 1 to update")
    rows = table_rows(markdown)
    assert rows[0] == ["project", "create", "update", "replace", "delete", "default", "blocked"]
    # Both creates send isProjectDefault: a default change each.
    assert rows[2:] == [["<code>empty</code>", "1", "0", "0", "0", "1", "0"],
                        ["<code>web</code>", "1", "1", "0", "1", "1", "1"],
                        ["**total**", "2", "1", "0", "1", "2", "1"]]
    assert markdown.index("| project |") < markdown.index("<details>")
    sections = re.findall(r"<details><summary>(.*?)</summary>(.*?)</details>", markdown, re.S)
    assert [summary for summary, _ in sections] == [
        "<code>+ create</code> <b>a</b>: new file in git; it becomes the project default",
        "<code>~ update</code> <b>std</b>: live differs from git",
        "<code>- delete</code> <b>old</b>: no file in git and prune is on",
        "<code>+ create</code> <b>new</b>: new file in git; it becomes the project default",
    ]
    bodies = {summary.split("<b>")[1].split("</b>")[0]: body for summary, body in sections}
    assert "```diff\n- /phases/0/audiences/0/name: \"QA\"\n+ /phases/0/audiences/0/name: " \
           "\"Quality\"\n- /phases/1/audiences/0/name" in bodies["std"]
    assert "```mermaid\n" in bodies["std"] and "class p0a0,p1a0 changed" in bodies["std"]
    assert 'title: "New (new) [project default]"' in bodies["new"]
    assert "```mermaid" not in bodies["old"]  # deleted pipelines are listed, not drawn
    assert "-       - name: Prod\n-         environmentKey: production\n" in bodies["old"]


def test_blocked_and_refused_are_prominent() -> None:
    markdown = render_markdown(realistic_plan())
    assert "> [!CAUTION]\n> Not applicable: 1 pipeline change blocked" in markdown
    assert ("- **blocked** <code>update busy</code>: changing the phases of a pipeline with "
            "active releases moves them; pass --allow-active-releases to do it; flags in "
            "flight: <code>new-checkout</code>") in markdown
    refused = plan_of(project("api", [], refusals=["the project would hold 21 pipelines"]))
    markdown = render_markdown(refused)
    assert "- **refused**: the project would hold 21 pipelines\n" in markdown
    assert table_rows(markdown)[2][0] == "<code>api</code> (refused)"


def test_set_default_is_one_line_and_unmanaged_a_note() -> None:
    markdown = render_markdown(plan_of(project("web", [step(Action.SET_DEFAULT, "std")],
                                               unmanaged=["manual"])))
    assert "- <code>\\* set-default</code> <code>std</code>: set-default reason\n" in markdown
    assert "Not in git, kept: manual (prune is off)\n" in markdown
    assert "<details>" not in markdown


def test_no_changes() -> None:
    markdown = render_markdown(plan_of(project("web", [])))
    assert markdown == "## Release pipelines plan\n\n**No changes. Live matches git.**\n\n"


def test_hostile_values_stay_inside_their_fence() -> None:
    evil = "```\n</details><script>x</script> | @everyone ~~~"
    plan = plan_of(project("web", [step(Action.UPDATE, "std", form("std"), form("std", evil))],
                           unmanaged=["<img src=x onerror=alert(1)>"]))
    markdown = render_markdown(plan)
    assert_valid(markdown)
    assert "````diff\n" in markdown  # longer than the ``` in the value
    outside = re.sub(r"(`{3,})[a-z]*\n.*?\n\1\n", "", markdown, flags=re.S)
    assert "<script>" not in outside and "<img" not in outside
    assert "&lt;img src=x onerror=alert(1)&gt;" in outside


def test_added_audience_is_one_insertion_as_yaml() -> None:
    after = form("std")
    after["phases"][0]["audiences"].append({"name": "Beta", "environmentKey": "production",
                                            "segmentKeys": ["beta"]})
    markdown = render_markdown(plan_of(project("web", [step(Action.UPDATE, "std", form("std"),
                                                            after)])))
    assert ('```diff\n+ audience "Beta" in phase "Phase 0" inserted at 2:\n'
            "+   name: Beta\n"
            "+   environmentKey: production\n"
            "+   segmentKeys: [beta]\n```\n") in markdown
    assert "class p0,p0a2 changed" in markdown or "class p0a2 changed" in markdown


# --- the budget ----------------------------------------------------------------------------


def test_diagrams_are_dropped_first() -> None:
    plan = plan_of(project("web", mixed_steps(40)))
    full = render_markdown(plan, limit=10**9)
    assert full.count("```mermaid") == 24  # create, update and replace
    markdown = render_markdown(plan, limit=len(full) - 1, artifact_hint=HINT)
    assert_valid(markdown)
    assert len(markdown) <= len(full) - 1
    assert "```mermaid" not in markdown
    assert "> Diagrams are left out" in markdown
    assert markdown.count("<details>") == 32  # every step but set-default, still in full


def test_then_steps_shrink_to_one_line_with_a_pointer_to_the_artifact() -> None:
    plan = plan_of(project("web", mixed_steps(40)))
    without_diagrams = render_markdown(plan, limit=len(render_markdown(plan, limit=10**9)) - 1)
    limit = len(without_diagrams) // 2
    markdown = render_markdown(plan, limit=limit, artifact_hint=HINT)
    assert_valid(markdown)
    assert len(markdown) <= limit
    assert "```mermaid" not in markdown
    assert f"every field change is in {HINT}." in markdown
    details = markdown.count("<details>")
    one_line = len(re.findall(r"^- <code>", markdown, re.M))
    assert 0 < details < 32 and details + one_line == 40
    assert table_rows(markdown)[2] == ["<code>web</code>", "8", "8", "8", "8", "8", "0"]


def test_thousands_of_steps_keep_the_table_and_stay_valid() -> None:
    plan = big_plan(300, 10)
    markdown = render_markdown(plan, artifact_hint=HINT)
    assert len(markdown) <= 65_000
    assert_valid(markdown)
    rows = table_rows(markdown)
    assert len(rows) == 2 + 300 + 1 and rows[-1] == ["**total**", "600", "600", "600", "600",
                                                     "600", "0"]
    assert re.search(r"the last \d+ entries are left out\. The whole plan is in "
                     + re.escape(HINT), markdown)


def test_a_table_longer_than_the_limit_is_cut_between_rows() -> None:
    plan = big_plan(3000, 1)
    markdown = render_markdown(plan, artifact_hint=HINT)
    assert len(markdown) <= 65_000
    assert_valid(markdown)
    assert all(len(row) == 7 for row in table_rows(markdown))
    assert HINT in markdown.rsplit("\n> ", 1)[1]


@settings(max_examples=25, deadline=None)
@given(projects=st.integers(1, 30), steps=st.integers(0, 30),
       limit=st.integers(2_000, 80_000))
def test_never_longer_than_the_limit(projects: int, steps: int, limit: int) -> None:
    plan = big_plan(projects, steps)
    for markdown in (render_markdown(plan, limit=limit), render_drift_markdown(plan, limit=limit)):
        assert len(markdown) <= limit
        assert_valid(markdown)


# --- drift ---------------------------------------------------------------------------------


def test_drift_lists_pipelines_then_fields_live_against_git() -> None:
    markdown = render_drift_markdown(realistic_plan())
    assert_valid(markdown)
    assert markdown.startswith("## Live release pipelines differ from git\n\n"
                               "5 pipelines in 2 projects differ from git")
    assert table_rows(markdown)[2:] == [
        ["<code>empty</code>", "<code>a</code>", "in git, missing in LaunchDarkly"],
        ["<code>web</code>", "<code>std</code>", "2 differences"],
        ["<code>web</code>", "<code>old</code>", "only in LaunchDarkly; prune would delete it"],
        ["<code>web</code>", "<code>new</code>", "in git, missing in LaunchDarkly"],
        ["<code>web</code>", "<code>busy</code>",
         "differs, but update is blocked (flags in flight: new-checkout)"],
        ["field", "live", "git"],
        ["---", "---", "---"],
        ["<code>/phases/0/audiences/0/name</code>", '<code>"QA"</code>',
         '<code>"Quality"</code>'],
        ["<code>/phases/1/audiences/0/name</code>", '<code>"QA"</code>',
         '<code>"Quality"</code>'],
    ]
    assert "- <code>web</code>: only in LaunchDarkly, kept: extra (protected)\n" in markdown


def test_drift_cells_escape_pipes_and_absent_sides() -> None:
    after = form("std", "a|b")
    del after["description"]
    markdown = render_drift_markdown(plan_of(project("web", [
        step(Action.UPDATE, "std", form("std"), after)])))
    rows = table_rows(markdown)
    assert ['<code>/phases/0/audiences/0/name</code>', '<code>"QA"</code>',
            '<code>"a\\|b"</code>'] in rows
    assert ["<code>/description</code>", '<code>""</code>', "(absent)"] in rows


def test_no_drift() -> None:
    markdown = render_drift_markdown(plan_of(project("web", [], unmanaged=["manual"])))
    assert markdown.startswith("## No drift\n\nLive release pipelines match git.\n\n")
    assert "- <code>web</code>: only in LaunchDarkly, kept: manual (prune is off)\n" in markdown


def test_drift_of_thousands_keeps_the_pipeline_table_first() -> None:
    plan = big_plan(100, 20)
    markdown = render_drift_markdown(plan)
    assert len(markdown) <= 65_000
    assert_valid(markdown)
    assert len(table_rows(markdown)) >= 2 + 100  # the summary rows come before any field
    assert "`reconciler plan`" in markdown
