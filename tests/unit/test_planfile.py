"""Saved plans: format 2 round-trips with each project's kind; format 1 is refused with
one line that says to plan again."""

import json
from pathlib import Path

import pytest

from reconciler.errors import PlanFileError
from reconciler.plan import Action, PlanOptions, ProjectPlan, Step, assemble
from reconciler.planfile import read_plan, write_plan


def saved(tmp_path: Path, kind: str = "pipelines") -> Path:
    project = ProjectPlan(project="web", kind=kind, fingerprint="f" * 64, liveCount=1,
                          desiredCount=1, steps=[Step(action=Action.DELETE, key="old")])
    path = tmp_path / "plan.json"
    write_plan(assemble([project], PlanOptions()), path)
    return path


def test_a_saved_plan_reads_back_with_its_format_and_kind(tmp_path: Path) -> None:
    path = saved(tmp_path)
    document = json.loads(path.read_text())
    assert document["formatVersion"] == 2
    assert document["projects"][0]["kind"] == "pipelines"
    assert read_plan(path).projects[0].steps[0].key == "old"


def test_a_plan_of_format_1_is_refused_in_one_line_saying_to_plan_again(tmp_path: Path) -> None:
    path = saved(tmp_path)
    document = json.loads(path.read_text())
    document["formatVersion"] = 1
    del document["projects"][0]["kind"]  # format 1 had no kinds
    path.write_text(json.dumps(document))
    with pytest.raises(PlanFileError) as refused:
        read_plan(path)
    assert str(refused.value) == f"{path}: this plan was written by plan format 1; run plan again"


def test_the_kind_is_sealed_by_the_digest(tmp_path: Path) -> None:
    path = saved(tmp_path)
    path.write_text(path.read_text().replace('"kind": "pipelines"', '"kind": "policies"'))
    with pytest.raises(PlanFileError, match="does not match its digest"):
        read_plan(path)


def test_a_plan_naming_a_kind_this_version_does_not_know_is_refused(tmp_path: Path) -> None:
    path = saved(tmp_path, kind="dashboards")
    with pytest.raises(PlanFileError) as refused:
        read_plan(path)
    assert str(refused.value) == (f"{path}: the plan names kinds this version does not know "
                                  "(dashboards); plan again")
