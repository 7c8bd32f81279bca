"""Release policies in every rendering: steps, the reorder, the flag-level preview, counts.

The plans are written by hand (not by the planner) and the expected texts are hand-written
too: what a reviewer should read for each step.
"""

from typing import Any

from reconciler.plan import Action, Plan, PreviewRow, ProjectPlan, Step, plan_digest
from reconciler.render import render_drift_markdown, render_markdown, render_text
from reconciler.render.counts import count_by_kind


def policy(key: str, *environments: str, tags: tuple[str, ...] = (),
           **configs: Any) -> dict[str, Any]:
    return {"key": key, "name": key.title(), "releaseMethod": "progressive-release",
            "scope": {"environmentKeys": list(environments), "flagTagKeys": list(tags)},
            **configs}


def stages(*allocations: int) -> dict[str, Any]:
    return {"stages": [{"allocation": a, "durationMillis": 60000} for a in allocations]}


BEFORE = policy("slow", "production", progressiveReleaseConfig=stages(25000, 50000))
AFTER = policy("slow", "production", progressiveReleaseConfig=stages(10000, 50000))


def policies_plan(**changed: Any) -> ProjectPlan:
    plan = ProjectPlan(
        project="web", kind="policies", fingerprint="f" * 64, liveCount=3, desiredCount=2,
        defaultBefore="std", defaultAfter="std",
        steps=[
            Step(action=Action.DELETE, key="gone", before=policy("gone"),
                 reason="no file in git and prune is on"),
            Step(action=Action.UPDATE, key="slow", before=BEFORE, after=AFTER,
                 reason="live differs from git"),
            Step(action=Action.CREATE, key="fast", after=policy("fast", tags=("beta",)),
                 reason="new file in git"),
            Step(action=Action.REORDER, key="policyOrder", order=["fast", "slow"],
                 reason="the ranking differs from policyOrder"),
        ],
        unmanaged=["std"], orderBefore=["slow", "gone"], orderAfter=["fast", "slow"],
        preview=[
            PreviewRow(environment="production", flagTag="beta", before="slow", after="fast"),
            PreviewRow(environment="production", flagTag=None, before="slow", after="slow"),
            PreviewRow(environment=None, flagTag="beta", before="gone", after="fast"),
            PreviewRow(environment=None, flagTag=None, before="gone", after=None),
        ])
    return plan.model_copy(update=changed)


def pipelines_plan() -> ProjectPlan:
    pipeline = {"key": "std", "name": "Std", "description": "", "tags": [], "isLegacy": False,
                "phases": [{"name": "Test", "audiences": [
                    {"name": "QA", "environmentKey": "test", "segmentKeys": []}]}]}
    renamed = {**pipeline, "name": "Standard"}
    return ProjectPlan(project="web", fingerprint="e" * 64, liveCount=1, desiredCount=1,
                       steps=[Step(action=Action.UPDATE, key="std", before=pipeline,
                                   after=renamed, reason="live differs from git")])


def plan_of(*projects: ProjectPlan) -> Plan:
    return Plan(digest=plan_digest(projects), projects=list(projects))


def test_policy_steps_the_reorder_and_the_preview_in_text() -> None:
    plan = plan_of(policies_plan())
    assert render_text(plan, color=False) == "\n".join([
        "Project web, release policies (3 live, 2 in git, default std)",
        "  - delete gone: no file in git and prune is on",
        "      - key: gone",
        "      - name: Gone",
        "      - releaseMethod: progressive-release",
        "  ~ update slow: live differs from git",
        "      ~ /progressiveReleaseConfig/stages/0/allocation: 25000 -> 10000",
        "  + create fast: new file in git",
        "      + key: fast",
        "      + name: Fast",
        "      + releaseMethod: progressive-release",
        "      + scope:",
        "      +   flagTagKeys: [beta]",
        "  ^ reorder policyOrder: the ranking differs from policyOrder",
        "      ~ order: slow, gone -> fast, slow",
        "  preview, the policy a flag gets by environment / flag tag: 3 change, 1 stays:",
        "      ~ production / beta: slow -> fast",
        "      ~ (other environments) / beta: gone -> fast",
        "      ~ (other environments) / (other tags): gone -> (none)",
        "  note: not in git, kept: std (the project's default policy: never deleted)",
        "",
        "Plan: 1 to create, 1 to update, 0 to replace, 1 to delete, 0 default changes, "
        f"1 reorder. digest {plan.digest[:12]}",
    ])


def test_stages_of_another_length_are_one_change_of_the_whole_list() -> None:
    longer = policy("slow", "production", progressiveReleaseConfig=stages(25000, 50000, 100000))
    plan = plan_of(policies_plan(steps=[Step(action=Action.UPDATE, key="slow", before=BEFORE,
                                             after=longer, reason="live differs from git")]))
    lines = render_text(plan, color=False).split("\n")
    assert lines[1:3] == [
        "  ~ update slow: live differs from git",
        '      ~ /progressiveReleaseConfig/stages: [{"allocation": 25000, "durationMillis": '
        '60000}, {"allocation": 50000, "durationMillis": 60000}] -> [{"allocation": 25000, '
        '"durationMillis": 60000}, {"allocation": 50000, "durationMillis": 60000}, '
        '{"allocation": 100000, "durationMillis": 60000}]',
    ]


def test_a_plan_of_both_kinds_names_each_kind_and_counts_per_kind() -> None:
    plan = plan_of(pipelines_plan(), policies_plan())
    text = render_text(plan, color=False)
    assert text.startswith("Project web, release pipelines (1 live, 1 in git)\n"
                           "  ~ update std: live differs from git\n"
                           '      ~ /name: "Std" -> "Standard"\n\n'
                           "Project web, release policies (3 live, 2 in git, default std)\n")
    assert [(kind, counts.updates, counts.reorders, counts.differ)
            for kind, counts in count_by_kind(plan)] == [("pipelines", 1, 0, 1),
                                                          ("policies", 1, 1, 3)]


def test_the_pr_comment_has_a_reorder_column_and_the_preview_as_a_table() -> None:
    plan = plan_of(pipelines_plan(), policies_plan())
    markdown = render_markdown(plan)
    assert markdown.startswith("## Release pipelines and release policies plan\n\n")
    assert ("| project | create | update | replace | delete | default | blocked | reorder |\n"
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
            "| <code>web</code> (release pipelines) | 0 | 1 | 0 | 0 | 0 | 0 | 0 |\n"
            "| <code>web</code> (release policies) | 1 | 1 | 0 | 1 | 0 | 0 | 1 |\n"
            "| **total** | 1 | 2 | 0 | 1 | 0 | 0 | 1 |\n") in markdown
    assert "### <code>web</code> release policies\n\n3 live, 2 in git, default std\n\n" in markdown
    assert ("<details><summary><code>^ reorder</code> <b>policyOrder</b>: the ranking differs "
            "from policyOrder</summary>\n\n```diff\n- order: slow, gone\n+ order: fast, slow\n"
            "```\n\n</details>") in markdown
    assert ("<details><summary>Preview, the policy a flag gets by environment / flag tag: "
            "3 change, 1 stays</summary>\n\n"
            "| environment | flag tag | before | after |\n"
            "| --- | --- | --- | --- |\n"
            "| production | beta | <code>slow</code> | <code>fast</code> |\n"
            "| (other environments) | beta | <code>gone</code> | <code>fast</code> |\n"
            "| (other environments) | (other tags) | <code>gone</code> | <code>(none)</code> |\n"
            ) in markdown
    # No diagram for a policy: only the pipeline's update draws one.
    assert markdown.count("```mermaid") == 1


def test_a_pipelines_comment_has_no_reorder_column() -> None:
    markdown = render_markdown(plan_of(pipelines_plan()))
    assert markdown.startswith("## Release pipelines plan\n\n")
    assert "| project | create | update | replace | delete | default | blocked |\n" in markdown
    assert "release pipelines)" not in markdown and "reorder" not in markdown


def test_the_preview_shrinks_to_its_heading_when_the_comment_is_too_long() -> None:
    markdown = render_markdown(plan_of(policies_plan()), limit=1500)
    assert "| environment |" not in markdown
    assert "Preview, the policy a flag gets by environment / flag tag: 3 change, 1 stays.\n" \
        in markdown
    assert len(markdown) <= 1500


def test_the_drift_report_counts_policies_and_the_ranking() -> None:
    plan = plan_of(pipelines_plan(), policies_plan())
    report = render_drift_markdown(plan)
    assert report.startswith(
        "## Live release pipelines and release policies differ from git\n\n"
        f"1 pipeline, 3 policies and 1 policy ranking in 1 project differ from git "
        f"(plan digest {plan.digest[:12]}).\n\n"
        "| project | pipeline / policy | drift |\n| --- | --- | --- |\n"
        "| <code>web</code> | <code>std</code> | 1 difference |\n"
        "| <code>web</code> | <code>gone</code> | only in LaunchDarkly; prune would delete it |\n"
        "| <code>web</code> | <code>slow</code> | 1 difference |\n"
        "| <code>web</code> | <code>fast</code> | in git, missing in LaunchDarkly |\n"
        "| <code>web</code> | <code>policyOrder</code> | ranked differently: live slow, gone; "
        "git fast, slow |\n")
    assert ("- <code>web</code>: preview, the policy a flag gets by environment / flag tag: "
            "3 change, 1 stays; `reconciler plan` shows which\n") in report


def test_policies_in_sync_say_so() -> None:
    quiet = ProjectPlan(project="web", kind="policies", fingerprint="f" * 64, liveCount=1,
                        desiredCount=1)
    assert render_drift_markdown(plan_of(quiet)).startswith(
        "## No drift\n\nLive release policies match git.\n\n")
    assert render_text(plan_of(quiet), color=False) == "No changes. Live matches git."
