"""Release-policy files: discovery beside pipelines, policyOrder, what the project manages,
the schema, and the models against the official client's."""

from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from reconciler.cli import cli, validate_cmd  # noqa: F401  (registers the command)
from reconciler.engine import select_projects
from reconciler.errors import ManifestError
from reconciler.kinds.policies import models
from reconciler.kinds.policies.checks import policy_warnings
from reconciler.kinds.registry import managed_kinds
from reconciler.manifest import load_desired, read_desired
from reconciler.schemas import policy_schema, project_schema
from tests.unit.test_manifest_loader import pipeline_yaml, write

# DESIGN.md's example policy file, as a user would write it.
EXAMPLE = """\
# yaml-language-server: $schema=../../../schemas/release-policy.schema.json
key: prod-guarded
name: Production, guarded
releaseMethod: guarded-release
scope:
  environmentKeys: [production]
  flagTagKeys: [checkout, payments]
guardedReleaseConfig:
  rolloutContextKindKey: user
  minSampleSize: 100
  rollbackOnRegression: true
  metricKeys: [http-errors, latency]
  stages:
    - {allocation: 10000, durationMillis: 3600000}
    - {allocation: 50000, durationMillis: 86400000}
"""


def policy_yaml(key: str, method: str = "immediate-release") -> str:
    return f"key: {key}\nname: {key.title()}\nreleaseMethod: {method}\n"


def test_a_project_of_policies_only_loads_and_manages_no_pipelines(tmp_path: Path) -> None:
    write(tmp_path, {
        "web/standard.yaml": pipeline_yaml("standard"),
        "payments/release-policies/prod-guarded.yaml": EXAMPLE,
        "payments/release-policies/canary.yaml": policy_yaml("canary"),
        "payments/_project.yaml": "policyOrder: [prod-guarded, canary]\n",
    })
    state = load_desired(tmp_path)
    payments = state.projects["payments"]
    assert payments.pipelines == {}
    assert list(payments.policies) == ["canary", "prod-guarded"]  # file-name order
    assert payments.policy_order == ["prod-guarded", "canary"]
    assert payments.policy_paths["canary"] == tmp_path / "payments/release-policies/canary.yaml"
    guarded = payments.policies["prod-guarded"].guardedReleaseConfig
    assert guarded is not None and guarded.stages is not None
    assert [s.allocation for s in guarded.stages] == [10000, 50000]
    assert payments.policy_positions_of("prod-guarded").value_at(("scope",)).line == 6
    assert state.warnings == []
    assert not payments.manages_pipelines
    assert state.projects["web"].manages_pipelines
    # Planning pipelines there would prune them all: it is planned for its policies only.
    assert [p.key for p in select_projects(state, None)] == ["payments", "web"]
    assert [kind.name for kind in managed_kinds(payments)] == ["policies"]


def test_one_policy_needs_no_order_and_an_empty_folder_keeps_its_meaning(tmp_path: Path
                                                                         ) -> None:
    write(tmp_path, {
        "web/release-policies/only.yaml": policy_yaml("only"),
        "web/standard.yaml": pipeline_yaml("standard"),
        "empty/_project.yaml": "prune: true\n",
    })
    state = load_desired(tmp_path)
    assert state.projects["web"].policy_order == []
    assert state.projects["web"].manages_pipelines
    assert state.projects["empty"].manages_pipelines


def test_a_folder_of_policies_alone_is_not_an_empty_tree(tmp_path: Path) -> None:
    write(tmp_path, {"web/release-policies/only.yaml": policy_yaml("only")})
    assert list(load_desired(tmp_path).projects["web"].policies) == ["only"]


def test_policy_warnings_come_with_positions_and_do_not_block(tmp_path: Path) -> None:
    write(tmp_path, {"web/release-policies/g.yaml": policy_yaml("g", "guarded-release")})
    report = read_desired(tmp_path)
    assert report.errors == []
    assert sorted(str(w) for w in report.warnings) == sorted([
        f"{tmp_path}/web/release-policies/g.yaml:3:16: warning: releaseMethod: a guarded "
        "release with no metricKeys or metricGroupKeys in guardedReleaseConfig is incomplete "
        "(LaunchDarkly's own agent reports it as incomplete_policy)",
        f"{tmp_path}/web/release-policies/g.yaml:3:16: warning: releaseMethod: a guarded "
        "release with no guardedReleaseConfig.stages is incomplete (LaunchDarkly's own "
        "agent reports it as incomplete_policy)",
    ])
    assert list(report.state.projects["web"].policies) == ["g"]


def test_an_invalid_policy_is_an_error_of_the_whole_load(tmp_path: Path) -> None:
    write(tmp_path, {"web/release-policies/p.yaml": "key: p\nname: P\nreleaseMethod: slow\n"})
    with pytest.raises(ManifestError) as raised:
        load_desired(tmp_path)
    assert raised.value.problems == [
        f"{tmp_path}/web/release-policies/p.yaml:3:16: releaseMethod: expected "
        "'guarded-release', 'immediate-release' or 'progressive-release', got a string "
        "('slow')"]


def test_validate_counts_the_policies_it_read(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "pipelines", {
        "web/standard.yaml": pipeline_yaml("standard"),
        "web/release-policies/only.yaml": policy_yaml("only"),
        "payments/release-policies/a.yaml": policy_yaml("a"),
        "payments/release-policies/b.yaml": policy_yaml("b"),
        "payments/_project.yaml": "policyOrder: [b, a]\n",
    })
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["validate", "--pipelines-dir", "pipelines"])
    assert (result.exit_code, result.stdout) == (
        0, "ok: 1 pipeline and 3 release policies in 2 projects\n")


def test_ignore_pointers_may_name_policy_fields(tmp_path: Path) -> None:
    write(tmp_path, {
        "web/standard.yaml": pipeline_yaml("standard"),
        "web/_project.yaml": ("ignore:\n  - /scope/flagTagKeys\n"
                              "  - /guardedReleaseConfig/stages/*/durationMillis\n"
                              "  - /phases/*/audiences/*/segmentKeys\n  - /name\n"),
    })
    state = load_desired(tmp_path)
    assert len(state.projects["web"].settings.ignore) == 4
    assert state.warnings == []


def _yaml(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(text)


def test_the_example_matches_the_model_and_the_schema() -> None:
    data = _yaml(EXAMPLE)
    models.PostReleasePolicyRequest.model_validate(data)
    jsonschema.Draft202012Validator.check_schema(policy_schema())
    jsonschema.Draft202012Validator(policy_schema()).validate(data)


@pytest.mark.parametrize("change, valid", [
    ({}, True),
    ({"releaseMethod": "guarded_release"}, False),
    ({"name": "n" * 256}, True),
    ({"name": "n" * 257}, False),
    ({"key": "Not a key"}, False),
    ({"owner": "web"}, False),
    ({"scope": {"flagTagKeys": ["t" * 64]}}, True),
    ({"scope": {"flagTagKeys": ["t" * 65]}}, False),
    ({"scope": {"flagTagKeys": ["a b"]}}, False),
    ({"scope": {"flagTagKeys": [f"t{n}" for n in range(1000)]}}, True),
    ({"scope": {"flagTagKeys": [f"t{n}" for n in range(1001)]}}, False),
    ({"scope": {"viewKeys": ["a"]}}, False),
    ({"progressiveReleaseConfig": {"stages": [{"allocation": 1, "durationMillis": 1}] * 20}},
     True),
    ({"progressiveReleaseConfig": {"stages": [{"allocation": 1, "durationMillis": 1}] * 21}},
     False),
    ({"progressiveReleaseConfig": {"stages": [{"allocation": 1}]}}, False),
    ({"progressiveReleaseConfig": {"stages": [{"allocation": "1", "durationMillis": 1}]}},
     False),
])
def test_the_schema_and_the_model_agree_on_spec_limits(change: dict[str, Any], valid: bool
                                                       ) -> None:
    policy = {**_yaml(EXAMPLE), **change}
    assert jsonschema.Draft202012Validator(policy_schema()).is_valid(policy) is valid
    try:
        models.PostReleasePolicyRequest.model_validate(policy)
    except ValueError:
        assert not valid
    else:
        assert valid


def test_the_project_schema_knows_policy_order() -> None:
    project = jsonschema.Draft202012Validator(project_schema())
    assert project.is_valid({"policyOrder": ["prod-guarded", "canary"]})
    assert not project.is_valid({"policyOrder": "prod-guarded"})
    assert not project.is_valid({"policyOrder": ["not a key"]})


def _stages(*allocations: int) -> list[dict[str, int]]:
    return [{"allocation": a, "durationMillis": 60000} for a in allocations]


@pytest.mark.parametrize("config, expected", [
    # The spec's own example repeats 25000: equal is not increasing.
    ({"progressiveReleaseConfig": {"stages": _stages(25000, 25000)}},
     [(("progressiveReleaseConfig", "stages", 1, "allocation"), "25000 is not greater")]),
    ({"progressiveReleaseConfig": {"stages": _stages(*range(1000, 11000, 1000))}}, []),
    ({"progressiveReleaseConfig": {"stages": _stages(*range(1000, 12000, 1000))}},
     [(("progressiveReleaseConfig", "stages"), "11 stages; LaunchDarkly allows 10")]),
    ({"progressiveReleaseConfig": {"stages": _stages(100)}},
     [(("progressiveReleaseConfig", "stages"), "every allocation is at most 100")]),
    ({"progressiveReleaseConfig": {"stages": _stages(50, 101)}}, []),
    ({"progressiveReleaseConfig": {"stages": _stages(60000)}}, []),
    ({"guardedReleaseConfig": {"metricKeys": ["m"], "stages": _stages(50000)}}, []),
    ({"guardedReleaseConfig": {"metricGroupKeys": ["g"], "stages": _stages(50001)}},
     [(("guardedReleaseConfig", "stages", 0, "allocation"), "50001 is over 50000")]),
])
def test_unverified_limits_warn_at_their_bounds(config: dict[str, Any],
                                                expected: list[tuple[tuple[Any, ...], str]]
                                                ) -> None:
    method = ("guarded-release" if "guardedReleaseConfig" in config
              else "progressive-release")
    found = policy_warnings({"key": "p", "name": "P", "releaseMethod": method, **config})
    assert [(loc, message[:len(start)])
            for (loc, message), (_, start) in zip(found, expected, strict=True)] == expected
