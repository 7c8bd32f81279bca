"""Fixtures: live state for the sandbox, in the format of DESIGN.md section 7.

    projects:
      web:
        environments: [test, production]
        segments: {test: [qa-team]}
        pipelines: [CreateReleasePipelineInput bodies, created in this order]
                                     # each pipeline, phase, audience, audience configuration
                                     # and releaseGuardianConfiguration may hold
                                     # `extra: {field: value}`: fields a newer LaunchDarkly
                                     # knows and the spec does not, kept and returned
        default: standard            # optional
        active: {standard: [flag]}   # optional: flags with an active release
        policies: [PostReleasePolicyRequest bodies, created in this order: rank 1 first]
        defaultPolicy: {PostReleasePolicyRequest body}   # optional: the project's default
    aviator:                         # optional: Aviator Release Projects
      projects:
        web-pipelines:               # Release Project name
          environments: [production]
          frozen: [production]       # optional: rollback needs force
          repo: acme/pipelines       # optional: the only repository releases may name

Pipelines and policies are created through the same code as POST, so a fixture obeys
LaunchDarkly's rules (first pipeline becomes the default, at most 20, known environments,
a policy key once).
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from reconciler.files import write_atomically
from reconciler.manifest.models import KEY_PATTERN
from reconciler.rules import RuleViolation
from reconciler.sandbox import aviator_routes, inputs, policies, policy_inputs, projects
from reconciler.sandbox.problems import ApiProblem, SandboxError
from reconciler.sandbox.projects import Project
from reconciler.sandbox.state import document_pieces, read_document

Key = Annotated[str, Field(pattern=KEY_PATTERN)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class FixtureProject(_Strict):
    environments: list[Key] = Field(default_factory=list)
    segments: dict[Key, list[Key]] = Field(default_factory=dict)
    pipelines: list[dict[str, Any]] = Field(default_factory=list)
    default: Key | None = None
    active: dict[Key, list[Key]] = Field(default_factory=dict)
    policies: list[dict[str, Any]] = Field(default_factory=list)
    defaultPolicy: dict[str, Any] | None = None


AviatorName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]


class FixtureReleaseProject(_Strict):
    environments: list[AviatorName] = Field(default_factory=list)
    frozen: list[AviatorName] = Field(default_factory=list)
    repo: Annotated[str, Field(pattern=rf"^{aviator_routes.REPOSITORY.pattern}$")] | None = None


class FixtureAviator(_Strict):
    projects: dict[AviatorName, FixtureReleaseProject]


class Fixture(_Strict):
    projects: dict[Key, FixtureProject]
    aviator: FixtureAviator | None = None


def load_fixture(path: Path) -> dict[str, Any]:
    """A fixture file, YAML or JSON (JSON is YAML)."""
    try:
        loaded = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, YAMLError) as error:
        raise SandboxError(f"{path}: cannot read the fixture: {error}") from None
    if not isinstance(loaded, dict):
        raise SandboxError(f"{path}: a fixture is a mapping with a `projects` key")
    return loaded


# Names a newer field cannot take: the spec's own and the read-only ones of responses.
_TAKEN = {"pipeline": {"createdAt", "isProjectDefault"}, "phase": {"id"},
          "audience": {"environment"}}
_NESTED = (("phases", "phase"), ("audiences", "audience"))


def _lift_extra(node: Any, level: str, where: str, newer: dict[str, list[str]]) -> Any:
    """`node` with its `extra` fields (and those of the objects inside it) merged in, and
    their names added to `newer` by level."""
    if not isinstance(node, dict):
        return node
    out = {name: value for name, value in node.items() if name != "extra"}
    extra = node.get("extra", {})
    if not isinstance(extra, dict):
        raise SandboxError(f"{where}.extra: expected a mapping of field names to values")
    # The first model of a level is the fullest (CreateReleasePipelineInput for a pipeline).
    model = next(m for m, at in inputs.NEWER_LEVELS.items() if at == level)
    taken = {*model.model_fields, *_TAKEN.get(level, ())}
    for name, value in extra.items():
        if name in taken or str(name).startswith("_"):
            raise SandboxError(f"{where}.extra.{name}: not a new field: the spec or "
                               "LaunchDarkly's responses already use this name")
        out[name] = value
        if name not in newer.setdefault(level, []):
            newer[level].append(name)
    for field, nested in _NESTED:
        if isinstance(out.get(field), list):
            out[field] = [_lift_extra(item, nested, f"{where}.{field}[{i}]", newer)
                          for i, item in enumerate(out[field])]
    if level == "audience" and "configuration" in out:
        out["configuration"] = _lift_extra(out["configuration"], "configuration",
                                           f"{where}.configuration", newer)
    if level == "configuration" and "releaseGuardianConfiguration" in out:
        out["releaseGuardianConfiguration"] = _lift_extra(
            out["releaseGuardianConfiguration"], "releaseGuardianConfiguration",
            f"{where}.releaseGuardianConfiguration", newer)
    return out


def _build(key: str, spec: FixtureProject) -> Project:
    where = f"projects.{key}"
    for env in spec.segments:
        if env not in spec.environments:
            raise SandboxError(f"{where}.segments.{env}: not one of the project's environments")
    project = projects.new_project(key, spec.environments, spec.segments)
    step = ""
    try:
        for index, body in enumerate(spec.pipelines):
            step = f"{where}.pipelines[{index}]"
            lifted = _lift_extra(body, "pipeline", step, project["newerFields"])
            projects.create_pipeline(project, inputs.create_body(lifted, project["newerFields"]))
        if spec.default is not None:
            step = f"{where}.default"
            projects.set_default(project, spec.default)
        flags: set[str] = set()
        for pipeline_key, flag_keys in spec.active.items():
            step = f"{where}.active.{pipeline_key}"
            for flag_key in flag_keys:
                if flag_key in flags:
                    raise SandboxError(f"{step}: flag {flag_key!r} already has a release")
                flags.add(flag_key)
                projects.start_release(project, pipeline_key, flag_key)
        if spec.defaultPolicy is not None:
            step = f"{where}.defaultPolicy"
            policies.set_default_policy(project, policy_inputs.create_body(spec.defaultPolicy))
        for index, body in enumerate(spec.policies):
            step = f"{where}.policies[{index}]"
            policies.create_policy(project, policy_inputs.create_body(body))
    except (ApiProblem, RuleViolation) as error:
        raise SandboxError(f"{step}: {error}") from None
    return project


def seed_state(state_path: Path, fixture: Mapping[str, Any]) -> None:
    """Load the fixture's projects (and Aviator Release Projects) into the state file,
    replacing projects of the same key and keeping the others."""
    try:
        spec = Fixture.model_validate(fixture)
    except ValidationError as error:
        raise SandboxError(f"invalid fixture: {inputs.describe(error)}") from None
    document = read_document(state_path)
    for key, project_spec in spec.projects.items():
        document["projects"][key] = _build(key, project_spec)
    if spec.aviator is not None:
        section = document.setdefault(aviator_routes.SECTION, {})
        for name, release_project in spec.aviator.projects.items():
            unknown = sorted(set(release_project.frozen) - set(release_project.environments))
            if unknown:
                raise SandboxError(f"aviator.projects.{name}.frozen: not environments of the "
                                   f"project: {', '.join(unknown)}")
            section[name] = aviator_routes.new_release_project(
                name, release_project.environments, release_project.frozen, release_project.repo
            )
    write_atomically(state_path, document_pieces(document))
