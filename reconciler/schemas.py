"""JSON Schema files generated from the models, for editors and CI.

`SCHEMAS` maps each file name under `schemas/` to its generator; `reconciler schema`
writes them and `reconciler schema --check` fails when a committed file is out of date.
"""

import json
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import CoreSchema

from reconciler.kinds.policies.models import PostReleasePolicyRequest
from reconciler.manifest.models import CreateReleasePipelineInput, ProjectSettings
from reconciler.plan import Plan

DIALECT = "https://json-schema.org/draft/2020-12/schema"


class _SpecJsonSchema(GenerateJsonSchema):
    """No generated per-field titles ("Releasestrategy"): like the spec, fields are
    named by their keys and explained by their descriptions."""

    def field_title_should_be_set(self, schema: CoreSchema) -> bool:
        return False


def _model_schema(model: type[BaseModel]) -> dict[str, Any]:
    return {"$schema": DIALECT, **model.model_json_schema(schema_generator=_SpecJsonSchema)}


def pipeline_schema() -> dict[str, Any]:
    return _model_schema(CreateReleasePipelineInput)


def policy_schema() -> dict[str, Any]:
    return _model_schema(PostReleasePolicyRequest)


def project_schema() -> dict[str, Any]:
    return _model_schema(ProjectSettings)


def plan_schema() -> dict[str, Any]:
    # Serialization mode: the schema of what `plan --format json` and `--out` write.
    return {"$schema": DIALECT, **Plan.model_json_schema(
        schema_generator=_SpecJsonSchema, mode="serialization")}


SCHEMAS: dict[str, Callable[[], dict[str, Any]]] = {
    "pipeline.schema.json": pipeline_schema,
    "release-policy.schema.json": policy_schema,
    "project.schema.json": project_schema,
    "plan.schema.json": plan_schema,
}


def render(schema: dict[str, Any]) -> str:
    """The file content: stable, diff-friendly JSON."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
