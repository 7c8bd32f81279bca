"""The fleet the benchmarks run against: live state for the sandbox and the pipeline files
of git, generated into a temporary folder (never committed).

Every pipeline has 3 phases of 2 audiences, each audience with a release guardian
configuration. A changed fleet edits one field in every tenth pipeline (by position in
the fleet), cycling through CHANGES; `rolloutWeight` sits inside `phases`, so that change
re-phases its pipeline and costs the plan one progressions call.
"""

import argparse
import json
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENVIRONMENTS = ("test", "staging", "production")
SEGMENTS = {"test": ["qa-team"], "staging": ["beta-users"], "production": ["beta-users"]}
PHASES = (("Testing", "test"), ("Staging", "staging"), ("Production", "production"))
CHANGES = ("name", "description", "rolloutWeight", "tags")
PHASE_CHANGES = frozenset({"rolloutWeight"})
CHANGED_EVERY = 10  # 10% of the pipelines
# The client lists 20 per page, LaunchDarkly's cap per project: one list call a project.
PAGE_SIZE = 20
KEYWORDS = frozenset({"true", "false", "null", "yes", "no", "on", "off"})
# W7's release policies, rank 1 first, the same in every project.
POLICIES = (
    {"key": "production-first", "name": "Production first", "releaseMethod": "immediate-release",
     "scope": {"environmentKeys": ["production"]}},
    {"key": "everything-else", "name": "Everything else", "releaseMethod": "immediate-release"},
)


@dataclass(frozen=True)
class Fleet:
    projects: int
    pipelines_per_project: int

    @property
    def pipelines(self) -> int:
        return self.projects * self.pipelines_per_project

    def project_keys(self) -> list[str]:
        return [f"project-{i:03d}" for i in range(self.projects)]

    def changes(self) -> Iterator[tuple[str, str, str]]:
        """(project key, pipeline key, changed field) of every changed pipeline."""
        for i, project in enumerate(self.project_keys()):
            for j in range(self.pipelines_per_project):
                position = i * self.pipelines_per_project + j
                if position % CHANGED_EVERY == CHANGED_EVERY // 2:
                    kind = CHANGES[(position // CHANGED_EVERY) % len(CHANGES)]
                    yield project, pipeline_key(j), kind

    @property
    def changed(self) -> int:
        return sum(1 for _ in self.changes())

    @property
    def rephased(self) -> int:
        return sum(1 for *_, kind in self.changes() if kind in PHASE_CHANGES)


def pipeline_key(index: int) -> str:
    return f"pipeline-{index:02d}"


def _audience(name: str, environment: str, weight: int) -> dict[str, Any]:
    return {
        "name": name,
        "environmentKey": environment,
        "segmentKeys": SEGMENTS[environment],
        "configuration": {
            "releaseStrategy": "monitoredRelease",
            "requireApproval": environment == "production",
            "notifyTeamKeys": ["release-managers"],
            "releaseGuardianConfiguration": {
                "monitoringWindowMilliseconds": 3_600_000,
                "rolloutWeight": weight,
                "rollbackOnRegression": True,
                "randomizationUnit": "user",
            },
        },
    }


def pipeline(project: str, index: int) -> dict[str, Any]:
    """A CreateReleasePipelineInput body, as live holds it and as git first has it."""
    key = pipeline_key(index)
    return {
        "key": key,
        "name": f"Pipeline {index:02d}",
        "description": f"Guarded rollout {index:02d} of {project}",
        "tags": ["fleet", f"tier-{index % 3}"],
        "phases": [
            {"name": phase, "audiences": [_audience("Canary", environment, 10),
                                          _audience("Everyone", environment, 50)]}
            for phase, environment in PHASES
        ],
    }


def _changed(body: dict[str, Any], kind: str) -> dict[str, Any]:
    body = json.loads(json.dumps(body))
    if kind == "name":
        body["name"] += " (renamed)"
    elif kind == "description":
        body["description"] += ", edited"
    elif kind == "tags":
        body["tags"].append("edited")
    else:
        configuration = body["phases"][1]["audiences"][0]["configuration"]
        configuration["releaseGuardianConfiguration"]["rolloutWeight"] = 20
    return body


def live_fixture(fleet: Fleet, *, policies: bool = False) -> dict[str, Any]:
    """A sandbox fixture (DESIGN.md section 7): every project holds the unchanged fleet;
    its first pipeline is the default, as LaunchDarkly makes it. With `policies`, every
    project also holds POLICIES."""
    return {"projects": {
        project: {
            "environments": list(ENVIRONMENTS),
            "segments": {env: list(keys) for env, keys in SEGMENTS.items()},
            "pipelines": [pipeline(project, j) for j in range(fleet.pipelines_per_project)],
            **({"policies": [dict(policy) for policy in POLICIES]} if policies else {}),
        }
        for project in fleet.project_keys()
    }}


PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9 ._(),-]*")


def _scalar(value: Any) -> str:
    """A scalar as a person writes it: plain where YAML reads it back as the same string,
    else as JSON (valid YAML: a quoted string, a number, true or false)."""
    if isinstance(value, str) and PLAIN.fullmatch(value) and value.lower() not in KEYWORDS:
        return value
    return json.dumps(value)


def _yaml_lines(value: Any, indent: int) -> Iterator[str]:
    """Block-style YAML like the pipeline files in DESIGN.md; lists of scalars in flow
    style (`tags: [a, b]`)."""
    pad = " " * indent
    items = value.items() if isinstance(value, dict) else ((None, item) for item in value)
    for key, item in items:
        lead = f"{pad}{key}:" if key is not None else f"{pad}-"
        if isinstance(item, dict) or (isinstance(item, list) and any(
                isinstance(member, dict | list) for member in item)):
            if key is not None:
                yield lead
                yield from _yaml_lines(item, indent + 2)
            else:
                first, *rest = _yaml_lines(item, indent + 2)
                yield f"{lead} {first.lstrip()}"
                yield from rest
        elif isinstance(item, list):
            yield f"{lead} [{', '.join(_scalar(member) for member in item)}]"
        else:
            yield f"{lead} {_scalar(item)}"


def write_policies(directory: Path) -> None:
    """POLICIES in every project folder of `directory`, ranked by `policyOrder`."""
    for folder in sorted(p for p in directory.iterdir() if p.is_dir()):
        (folder / "release-policies").mkdir()
        for policy in POLICIES:
            text = "\n".join(_yaml_lines(policy, 0)) + "\n"
            (folder / "release-policies" / f"{policy['key']}.yaml").write_text(text)
        order = ", ".join(policy["key"] for policy in POLICIES)
        (folder / "_project.yaml").write_text(f"policyOrder: [{order}]\n")


def write_desired(fleet: Fleet, directory: Path, *, changed: bool) -> None:
    """`directory/<project>/<pipeline>.yaml` for the whole fleet; with `changed`, the
    pipelines of `fleet.changes()` carry their edit. The first pipeline of each project
    says `isProjectDefault: true`, as live has it."""
    edits = {(project, key): kind for project, key, kind in fleet.changes()} if changed else {}
    for project in fleet.project_keys():
        folder = directory / project
        folder.mkdir(parents=True, exist_ok=True)
        for j in range(fleet.pipelines_per_project):
            body = pipeline(project, j)
            kind = edits.get((project, body["key"]))
            if kind is not None:
                body = _changed(body, kind)
            if j == 0:
                body["isProjectDefault"] = True
            text = "\n".join(_yaml_lines(body, 0)) + "\n"
            (folder / f"{body['key']}.yaml").write_text(text, encoding="utf-8")


def main(argv: Sequence[str]) -> None:
    """Writes a fleet's files in a process of its own: the benchmark's process stays small,
    and a child's peak RSS counts its parent's peak RSS at the time it was started."""
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.fleet")
    parser.add_argument("projects", type=int)
    parser.add_argument("pipelines", type=int)
    parser.add_argument("--state", type=Path, required=True, help="sandbox state to seed")
    parser.add_argument("--unchanged", type=Path, help="write git's files as live has them")
    parser.add_argument("--changed", type=Path, help="write git's files with the changes")
    parser.add_argument("--policies", action="store_true",
                        help="every project also holds POLICIES, live and in git")
    args = parser.parse_args(argv)
    from reconciler.sandbox import seed_state  # here: the benchmark imports Fleet, not this

    fleet = Fleet(args.projects, args.pipelines)
    seed_state(args.state, live_fixture(fleet, policies=args.policies))
    for folder, changed in ((args.unchanged, False), (args.changed, True)):
        if folder is not None:
            write_desired(fleet, folder, changed=changed)
            if args.policies:
                write_policies(folder)


if __name__ == "__main__":
    main(sys.argv[1:])
