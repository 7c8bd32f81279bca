"""What clients send, checked as LaunchDarkly checks it: unknown body fields are dropped
silently, wrong types and missing required fields are a 400 naming the field.

A project can know fields the spec does not have (`newerFields`, seeded by a fixture's
`extra`), as a newer LaunchDarkly does: those are kept as sent, unchecked."""

import copy
import json
from collections.abc import Mapping
from functools import cache
from types import UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from reconciler.manifest.models import (
    AudienceConfiguration,
    AudiencePost,
    CreatePhaseInput,
    CreateReleasePipelineInput,
    ReleaseGuardianConfiguration,
    SpecModel,
)
from reconciler.sandbox.problems import invalid_request

DEFAULT_LIMIT = 20


class UpdateReleasePipelineInput(SpecModel):
    """LaunchDarkly's PUT body: no key, no isProjectDefault, no isLegacy."""

    name: str
    description: str | None = None
    tags: list[str] | None = None
    phases: list[CreatePhaseInput] = Field(min_length=1)


class PatchOperation(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    op: str
    path: str
    value: Any = None


_PATCH = TypeAdapter(list[PatchOperation])


def parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, ValueError) as error:
        raise invalid_request(f"request body is not valid JSON: {error}") from None


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    """The model inside an annotation such as `list[X] | None`, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (list, Union, UnionType):
        for argument in get_args(annotation):
            found = _nested_model(argument)
            if found is not None:
                return found
    return None


@cache
def _declared(model: type[BaseModel]) -> dict[str, type[BaseModel] | None]:
    """The fields `model` declares, by wire name, with the model each one holds."""
    return {
        field.alias or name: _nested_model(field.annotation)
        for name, field in model.model_fields.items()
    }


def known_fields(value: Any, model: type[BaseModel]) -> Any:
    """`value` without the object fields `model` (and the models inside it) does not
    declare; anything that is not an object or a list is left for validation to judge."""
    if isinstance(value, list):
        return [known_fields(item, model) for item in value]
    if not isinstance(value, dict):
        return value
    declared = _declared(model)
    pruned = {}
    for name, item in value.items():
        if name in declared:
            nested = declared[name]
            pruned[name] = item if nested is None else known_fields(item, nested)
    return pruned


# The objects a newer field can be on, by the model that reads them.
NEWER_LEVELS: dict[type[BaseModel], str] = {
    CreateReleasePipelineInput: "pipeline",
    UpdateReleasePipelineInput: "pipeline",
    CreatePhaseInput: "phase",
    AudiencePost: "audience",
    AudienceConfiguration: "configuration",
    ReleaseGuardianConfiguration: "releaseGuardianConfiguration",
}
NewerFields = Mapping[str, list[str]]  # level -> field names


def _with_newer(parsed: Any, sent: Any, model: type[BaseModel], newer: NewerFields) -> Any:
    """`parsed` (the validated body) plus the newer fields `sent` has, object by object."""
    if isinstance(parsed, list) and isinstance(sent, list):
        return [_with_newer(p, s, model, newer) for p, s in zip(parsed, sent, strict=False)]
    if not isinstance(parsed, dict) or not isinstance(sent, dict):
        return parsed
    for name in newer.get(NEWER_LEVELS.get(model, ""), ()):
        if name in sent:
            parsed[name] = copy.deepcopy(sent[name])
    for name, nested in _declared(model).items():
        if nested is not None and name in parsed:
            parsed[name] = _with_newer(parsed[name], sent.get(name), nested, newer)
    return parsed


def _location(parts: tuple[int | str, ...]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "request body"


def describe(error: ValidationError) -> str:
    # Only the location and pydantic's message: never the input, which may be large.
    problems = [f"{_location(e['loc'])}: {e['msg']}" for e in error.errors()]
    return "; ".join(problems)


def validated(document: Any, model: type[SpecModel], newer: NewerFields) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise invalid_request("request body must be a JSON object")
    try:
        parsed = model.model_validate(known_fields(document, model))
    except ValidationError as error:
        raise invalid_request(f"invalid request body: {describe(error)}") from None
    dumped: dict[str, Any] = _with_newer(parsed.model_dump(exclude_none=True), document, model,
                                         newer)
    return dumped


def create_body(document: Any, newer: NewerFields | None = None) -> dict[str, Any]:
    """A CreateReleasePipelineInput as a plain dict, without unset optional fields, with
    the `newer` fields it carries."""
    return validated(document, CreateReleasePipelineInput, newer or {})


def update_body(document: Any, newer: NewerFields | None = None) -> dict[str, Any]:
    return validated(document, UpdateReleasePipelineInput, newer or {})


def patch_body(document: Any) -> list[PatchOperation]:
    """A JSON Patch, bare or in LaunchDarkly's `{"comment", "patch"}` wrapper."""
    if isinstance(document, dict) and "patch" in document:
        document = document["patch"]
    if not isinstance(document, list):
        raise invalid_request("request body must be a JSON Patch array")
    try:
        return _PATCH.validate_python(document)
    except ValidationError as error:
        raise invalid_request(f"invalid JSON Patch: {describe(error)}") from None


def page(query: Mapping[str, str]) -> tuple[int, int]:
    """`limit` (default 20) and `offset` (default 0) from a query string."""

    def number(name: str, default: int, minimum: int) -> int:
        raw = query.get(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise invalid_request(f"{name}: {raw!r} is not an integer") from None
        if value < minimum:
            raise invalid_request(f"{name}: must be at least {minimum}")
        return value

    return number("limit", DEFAULT_LIMIT, 1), number("offset", 0, 0)


def filters(raw: str | None, supported: tuple[str, ...]) -> dict[str, str]:
    """A `filter` query parameter, `field:value` pairs separated by commas."""
    found: dict[str, str] = {}
    for part in (raw or "").split(","):
        if not part.strip():
            continue
        field, colon, value = part.partition(":")
        field = field.strip()
        if not colon:
            raise invalid_request(f"filter: {part!r} is not of the form field:value")
        if field not in supported:
            raise invalid_request(
                f"filter: unsupported field {field!r} (supported: {', '.join(supported)})"
            )
        found[field] = value.strip()
    return found
