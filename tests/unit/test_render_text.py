"""The terminal rendering of a plan, and its JSON form."""

import json
from typing import Any

import click
import pytest

from reconciler.diff import diff
from reconciler.kinds.pipelines import DesiredInput, LiveInput, plan_project
from reconciler.manifest.models import ProjectSettings
from reconciler.normalize import Canonical, canonical
from reconciler.plan import (
    Action,
    Blocked,
    Change,
    Plan,
    PlanOptions,
    ProjectPlan,
    Step,
    assemble,
    plan_digest,
)
from reconciler.render import render_json, render_text
from reconciler.render.ansi import style


def form(key: str, audience: str = "QA", **extra: Any) -> Canonical:
    return {**canonical({"key": key, "name": key.title(), "phases": [
        {"name": "Testing", "audiences": [{"name": audience, "environmentKey": "test"}]}]}),
        "isLegacy": False, **extra}


def step(action: Action, key: str, before: Canonical | None = None,
         after: Canonical | None = None, **extra: Any) -> Step:
    changes = [Change(**c.to_json()) for c in diff(before or {}, after or {})]
    if action in (Action.DELETE, Action.SET_DEFAULT):
        changes = []
    return Step(action=action, key=key, before=before, after=after, changes=changes, **extra)


def project(key: str = "web", **fields: Any) -> ProjectPlan:
    return ProjectPlan(**{"project": key, "fingerprint": "f" * 64, "liveCount": 2,
                          "desiredCount": 2, **fields})


def plan_of(*projects: ProjectPlan) -> Plan:
    return Plan(digest=plan_digest(projects), projects=list(projects))


def test_terraform_like_diff() -> None:
    plan = plan_of(project(
        defaultBefore="old", defaultAfter="std",
        steps=[
            step(Action.UPDATE, "std", form("std"), form("std", "Quality"),
                 reason="live differs from git"),
            step(Action.SET_DEFAULT, "std", reason="isProjectDefault: true in git"),
            step(Action.DELETE, "old", before=form("old"), reason="no file in git and prune is on"),
        ],
        unmanaged=["manual"],
    ))
    assert render_text(plan, color=False) == "\n".join([
        "Project web (2 live, 2 in git, default old -> std)",
        "  ~ update std: live differs from git",
        '      ~ /phases/0/audiences/0/name: "QA" -> "Quality"',
        "  * set-default std: isProjectDefault: true in git",
        "  - delete old: no file in git and prune is on",
        "      - key: old",
        "      - name: Old",
        "      - isLegacy: false",
        "      - phases:",
        "      -   - name: Testing",
        "      -     audiences:",
        "      -       - name: QA",
        "      -         environmentKey: test",
        "  note: not in git, kept: manual (prune is off)",
        "",
        f"Plan: 0 to create, 1 to update, 0 to replace, 1 to delete, 1 default change. "
        f"digest {plan.digest[:12]}",
    ])


def test_a_create_shows_the_pipeline_as_its_file_and_counts_its_default_change() -> None:
    plan = plan_of(project(defaultBefore="old", defaultAfter="new", steps=[
        step(Action.CREATE, "new", after=form("new", tags=["a", "b"]), makeDefault=True,
             reason="new file in git")]))
    text = render_text(plan, color=False)
    assert text == "\n".join([
        "Project web (2 live, 2 in git, default old -> new)",
        "  + create new: new file in git; it becomes the project default",
        "      + key: new",
        "      + name: New",
        "      + tags: [a, b]",
        "      + isProjectDefault: true",
        "      + isLegacy: false",
        "      + phases:",
        "      +   - name: Testing",
        "      +     audiences:",
        "      +       - name: QA",
        "      +         environmentKey: test",
        "",
        f"Plan: 1 to create, 0 to update, 0 to replace, 0 to delete, 1 default change. "
        f"digest {plan.digest[:12]}",
    ])
    assert "configuration" not in text and "{}" not in text  # no empty-value noise


def test_an_inserted_phase_is_one_insertion_matched_by_name() -> None:
    def phase(name: str, env: str = "test") -> dict[str, Any]:
        return {"name": name, "audiences": [{"name": "All", "environmentKey": env}]}

    before = form("std")
    before["phases"] = canonical({"key": "std", "name": "Std", "phases": [
        phase("Testing"), phase("Production", "production")]})["phases"]
    after = form("std")
    after["phases"] = canonical({"key": "std", "name": "Std", "phases": [
        phase("Testing"), phase("Canary", "production"), phase("Production", "prod")]}
                                )["phases"]
    plan = plan_of(project(steps=[step(Action.UPDATE, "std", before, after,
                                       reason="live differs from git")]))
    lines = render_text(plan, color=False).split("\n")
    assert lines[1:9] == [
        "  ~ update std: live differs from git",
        '      + phase "Canary" inserted at 1:',
        "      +   name: Canary",
        "      +   audiences:",
        "      +     - name: All",
        "      +       environmentKey: production",
        '      ~ /phases/2/audiences/0/environmentKey: "production" -> "prod"',
        "",
    ]


def test_a_removed_audience_and_a_move_are_named() -> None:
    def audiences(*names: str) -> list[dict[str, Any]]:
        return [{"name": n, "environmentKey": "test"} for n in names]

    before = form("std")
    before["phases"] = canonical({"key": "s", "name": "S", "phases": [
        {"name": "One", "audiences": audiences("A", "B", "C")},
        {"name": "Two", "audiences": audiences("D")}]})["phases"]
    after = form("std")
    after["phases"] = canonical({"key": "s", "name": "S", "phases": [
        {"name": "Two", "audiences": audiences("D")},
        {"name": "One", "audiences": audiences("A", "C")}]})["phases"]
    text = render_text(plan_of(project(steps=[step(Action.UPDATE, "std", before, after,
                                                   reason="r")])), color=False)
    assert text.split("\n")[2:7] == [
        '      ~ phase "Two" moved from 1 to 0',
        '      - audience "B" in phase "One" removed (was at 1):',
        "      -   name: B",
        "      -   environmentKey: test",
        "",
    ]


def test_replace_symbol_and_a_list_of_values_shown_whole() -> None:
    before = form("leg", tags=["a", "b"])
    after = form("leg", tags=["b"], isLegacy=True)
    text = render_text(plan_of(project(steps=[step(Action.REPLACE, "leg", before, after,
                                                   reason="isLegacy is create-only")])),
                       color=False)
    assert "  -/+ replace leg: isLegacy is create-only\n" in text
    assert "      ~ /isLegacy: false -> true\n" in text
    assert '      ~ /tags: ["a", "b"] -> ["b"]\n' in text


def test_kept_pipelines_say_why() -> None:
    plan = plan_of(project(unmanaged=["busy", "manual", "prod"], protected=["prod"],
                           blocked=[Blocked(key="busy", action=Action.DELETE, reason="r",
                                            flags=["f"])]))
    assert ("  note: not in git, kept: busy (blocked: active releases), manual (prune is "
            "off), prod (protected)\n") in render_text(plan, color=False)


def test_blocked_and_refused_are_shown_and_the_plan_is_not_applicable() -> None:
    plan = plan_of(
        project("api", refusals=["the project would hold 21 pipelines"]),
        project("web", blocked=[Blocked(key="busy", action=Action.DELETE,
                                        reason="finish the releases first",
                                        flags=["new-checkout", "dark-mode"])]),
    )
    text = render_text(plan, color=False)
    assert "  ! refused: the project would hold 21 pipelines\n" in text
    assert "  ! blocked: delete busy: finish the releases first\n" in text
    assert "      flags in flight: new-checkout, dark-mode\n" in text
    assert text.endswith("Not applicable: 1 pipeline change blocked and 1 project refused; "
                         "nothing will be applied until this is resolved.")
    assert "No changes" not in text


def test_no_changes() -> None:
    plan = plan_of(project(), project("api"))
    assert render_text(plan, color=False) == "No changes. Live matches git."


def test_colour_only_when_asked() -> None:
    plan = plan_of(project(steps=[step(Action.UPDATE, "std", form("std"), form("std", "Q"))]))
    assert "\x1b[" not in render_text(plan, color=False)
    coloured = render_text(plan, color=True)
    assert "\x1b[33m" in coloured  # yellow for an update
    assert click.unstyle(coloured) == render_text(plan, color=False)


@pytest.mark.parametrize("fg", [None, "red", "green", "yellow", "magenta", "cyan"])
@pytest.mark.parametrize("bold", [False, True])
@pytest.mark.parametrize("dim", [False, True])
def test_colour_is_the_bytes_click_wrote(fg, bold: bool, dim: bool) -> None:
    # The renderer no longer imports click; its colour must not change a byte. (It only
    # ever asks for bold or dim, never for "not bold", which click writes as a code.)
    assert style("text", fg=fg, bold=bold, dim=dim) == click.style(
        "text", fg=fg, bold=bold or None, dim=dim or None)


def test_hostile_values_cannot_drive_the_terminal() -> None:
    evil = "\x1b[2J\x1b]0;pwned\x07 \u202etxt.exe"
    plan = plan_of(project(steps=[step(Action.UPDATE, "std", form("std"), form("std", evil),
                                       reason="live differs from git")]))
    text = render_text(plan, color=False)
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert '"\\u001b[2J\\u001b]0;pwned\\u0007 \\u202etxt.exe"' in text


def test_json_is_the_plan_and_reads_back() -> None:
    live = {"std": form("std")}
    planned = plan_project("web", DesiredInput({"std": form("std", "Q"), "new": form("new")},
                                               "std", ProjectSettings()),
                           LiveInput(live, "std"), {}, PlanOptions())
    plan = assemble([planned], PlanOptions())
    text = render_json(plan)
    document = json.loads(text)
    assert document["digest"] == plan.digest and document["formatVersion"] == 2
    assert document["projects"][0]["fingerprint"] == planned.fingerprint
    update = next(s for s in document["projects"][0]["steps"] if s["action"] == "update")
    assert update["before"] == live["std"]
    assert update["changes"] == [{"path": "/phases/0/audiences/0/name", "kind": "changed",
                                  "old": "QA", "new": "Q"}]
    assert Plan.model_validate_json(text) == plan
    assert render_json(Plan.model_validate_json(text)) == text  # stable through a round trip
