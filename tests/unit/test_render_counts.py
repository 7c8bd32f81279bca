"""Counts come from one place: each plan below has its counts worked out by hand, and every
rendering (text, Markdown, drift) must show those numbers."""

import re

import pytest

from reconciler.plan import (
    Action,
    Blocked,
    Plan,
    ProjectPlan,
    ReadFailure,
    Step,
    plan_digest,
)
from reconciler.render import render_drift_markdown, render_markdown, render_text
from reconciler.render.counts import Counts, count_plan
from reconciler.scope import Scope
from reconciler.words import plural


def project(key: str, steps: list[Step], **fields: object) -> ProjectPlan:
    return ProjectPlan(project=key, fingerprint="f" * 64, liveCount=3, desiredCount=3,
                       steps=steps, **fields)


def plan_of(*projects: ProjectPlan) -> Plan:
    return Plan(digest=plan_digest(projects), projects=list(projects))


def step(action: Action, key: str, **fields: object) -> Step:
    return Step(action=action, key=key, reason="r", **fields)


# A create that makes a new default (no set-default step), an update, a delete, a blocked
# update: 4 pipelines differ.
NEW_DEFAULT = plan_of(project(
    "web", [step(Action.CREATE, "new", makeDefault=True), step(Action.UPDATE, "std"),
            step(Action.DELETE, "old")],
    blocked=[Blocked(key="busy", action=Action.UPDATE, reason="r")],
    defaultBefore="std", defaultAfter="new"))
# One pipeline with two steps (create, then set-default) counts once among those that
# differ; a replace that sends isProjectDefault is a default change; a refused project.
TWO_STEPS_ONE_PIPELINE = plan_of(
    project("api", [step(Action.CREATE, "a"), step(Action.REPLACE, "b", makeDefault=True),
                    step(Action.SET_DEFAULT, "a")]),
    project("shop", [], refusals=["the project would hold 21 pipelines"]),
    project("quiet", []))
NOTHING = plan_of(project("web", []), project("api", [], unmanaged=["manual"]))
# A project that could not be read counts as not read, and as nothing else.
UNREAD = plan_of(project("web", [step(Action.UPDATE, "std")]),
                 project("gone", [], failure=ReadFailure(folder="pipelines/gone/",
                                                         reason="GET /x: 404")))

EXPECTED = [
    (NEW_DEFAULT, Counts(creates=1, updates=1, deletes=1, default_changes=1, differ=4,
                         blocked=1, projects=1)),
    (TWO_STEPS_ONE_PIPELINE, Counts(creates=1, replaces=1, default_changes=2, differ=2,
                                    refused=1, projects=2)),
    (NOTHING, Counts()),
    (UNREAD, Counts(updates=1, differ=1, unread=1, projects=2)),
]


@pytest.mark.parametrize(("plan", "expected"), EXPECTED)
def test_counts_match_a_hand_count(plan: Plan, expected: Counts) -> None:
    assert count_plan(plan) == expected


@pytest.mark.parametrize(("plan", "expected"), EXPECTED)
def test_every_rendering_shows_the_same_counts(plan: Plan, expected: Counts) -> None:
    text = render_text(plan, color=False)
    markdown = render_markdown(plan)
    drift = render_drift_markdown(plan)
    if expected == Counts():
        assert text.endswith("No changes. Live matches git.")
        assert "No changes. Live matches git." in markdown
        assert drift.startswith("## No drift\n")
        return
    line = (f"Plan: {expected.creates} to create, {expected.updates} to update, "
            f"{expected.replaces} to replace, {expected.deletes} to delete, "
            f"{expected.default_changes} default change")
    assert line in text and line in markdown
    total = re.findall(r"^\| (?:\*\*total\*\*|<code>\w+</code>) \| (.*) \|$", markdown, re.M)[-1]
    assert total.split(" | ") == [str(n) for n in (
        expected.creates, expected.updates, expected.replaces, expected.deletes,
        expected.default_changes, expected.blocked)]
    noun = "pipeline" if expected.differ == 1 else "pipelines"
    assert f"{expected.differ} {noun} in 1 project " in drift
    drift_rows = re.findall(r"^\| <code>\w+</code> \| <code>\w+</code> \|", drift, re.M)
    assert len(drift_rows) == expected.differ


def test_plural() -> None:
    assert [plural(n, "project") for n in (0, 1, 2)] == ["0 projects", "1 project",
                                                         "2 projects"]
    assert plural(1, "default change") == "1 default change"
    assert plural(3, "entry", "entries") == "3 entries"


@pytest.mark.parametrize(("scope", "said"), [
    (Scope(shard=(2, 3)), "shard 2/3 holds no projects"),
    (Scope(projects=("nope",)), "no project matches --project nope"),
    (Scope(shard=(1, 4), projects=("a", "b")), "shard 1/4 holds none of --project a --project b"),
    (Scope(), "no project was selected"),
])
def test_an_empty_selection_says_so_never_live_matches_git(scope: Scope, said: str) -> None:
    empty = plan_of()
    assert scope.empty_message() == said
    text = render_text(empty, color=False, scope=scope)
    assert text == f"Nothing to plan: {said}."
    assert f"**Nothing to plan: {said}.**" in render_markdown(empty, scope=scope)
    drift = render_drift_markdown(empty, scope=scope)
    assert drift == f"## Nothing to compare\n\n{said[0].upper()}{said[1:]}.\n\n"
    assert "Live matches git" not in text + drift
