"""Pydantic validation errors as `file:line:col: field: message` problems.

pydantic's own messages speak Python ("Input should be a valid dictionary or instance of
AudiencePost"); these speak YAML ("expected a mapping, got a string 'QA'") and suggest
the field a typo was meant to be.
"""

import difflib
import re
import types
import typing
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from reconciler.manifest.models import CONTEXT_KIND_PATTERN, KEY_PATTERN
from reconciler.manifest.yamlfile import Document, Loc, Problem, dotted

Model = TypeVar("Model", bound=BaseModel)

# pydantic's range errors -> the bound that was broken, as YAML users read it.
_BOUNDS = {
    "greater_than": ("gt", "greater than"),
    "greater_than_equal": ("ge", "at least"),
    "less_than": ("lt", "less than"),
    "less_than_equal": ("le", "at most"),
}

_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}


def _describe_value(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({'true' if value else 'false'})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"a string ({shown!r})"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


def _model_at(model: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    """The model class that validates the mapping at `loc` (list indices are skipped)."""
    current: type[BaseModel] | None = model
    for part in loc:
        if isinstance(part, int):
            continue
        if current is None or part not in current.model_fields:
            return None
        current = _inner_model(current.model_fields[part].annotation)
    return current


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    """`list[X] | None` -> X when X is a model."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) in (
        typing.Union,
        list,
    ):
        for arg in typing.get_args(annotation):
            found = _inner_model(arg)
            if found is not None:
                return found
    return None


def _unknown_field(model: type[BaseModel], loc: Loc) -> str:
    owner = _model_at(model, loc[:-1])
    name = str(loc[-1])
    if owner is None:
        return f"unknown field {name!r}"
    allowed = list(owner.model_fields)
    close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
    if close:
        return f"unknown field {name!r} (did you mean {close[0]!r}?)"
    return f"unknown field {name!r} (allowed: {', '.join(allowed)})"


def _not_one_of(value: Any, expected: str) -> str:
    """A value outside an enum, with the nearest allowed value when one is close."""
    allowed = re.findall(r"'([^']*)'", expected)
    close = (difflib.get_close_matches(value, allowed, n=1, cutoff=0.6)
             if isinstance(value, str) else [])
    guess = f" (did you mean {close[0]!r}?)" if close else ""
    return f"expected {expected}, got {_describe_value(value)}{guess}"


def _message(model: type[BaseModel], error: ErrorDetails) -> str:
    kind = error["type"]
    loc = tuple(error["loc"])
    if kind == "missing":
        return "field required"
    if kind == "extra_forbidden":
        return _unknown_field(model, loc)
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {_describe_value(error['input'])}"
    if kind == "too_short" and error.get("ctx", {}).get("min_length") == 1:
        return "must not be empty"
    if kind == "too_long":
        return (f"at most {error['ctx']['max_length']} items, got "
                f"{error['ctx']['actual_length']}")
    if kind == "string_too_long":
        return (f"at most {error['ctx']['max_length']} characters, got "
                f"{len(error['input'])}")
    if kind == "literal_error":
        return _not_one_of(error["input"], error["ctx"]["expected"])
    if kind in _BOUNDS:
        name, words = _BOUNDS[kind]
        return f"must be {words} {error['ctx'][name]}, got {error['input']}"
    pattern = error.get("ctx", {}).get("pattern")
    if kind == "string_pattern_mismatch" and pattern == KEY_PATTERN:
        return (f"{error['input']!r} is not a valid key: use letters, digits, '.', '_' and '-', "
                "starting with a letter or digit")
    from reconciler.kinds.policies.models import FLAG_TAG_PATTERN  # loaded by a policy file

    if kind == "string_pattern_mismatch" and pattern == FLAG_TAG_PATTERN and (
            "flagTagKeys" in loc):
        return (f"{error['input']!r} is not a flag tag key: use letters, digits, '.', '_' "
                "and '-'")
    if kind == "string_pattern_mismatch" and pattern == CONTEXT_KIND_PATTERN:
        return (f"{error['input']!r} is not a context kind: use letters, digits, '.', '_' "
                "and '-'")
    if kind == "value_error":
        return str(error["ctx"]["error"])
    message = error["msg"]
    return message[:1].lower() + message[1:]


def validate(model: type[Model], document: Document, path: str
             ) -> tuple[Model | None, list[Problem]]:
    """Validate a parsed document; every error points at its line and column."""
    try:
        return model.model_validate(document.data), []
    except ValidationError as error:
        problems = []
        for detail in error.errors(include_url=False):
            loc = tuple(detail["loc"])
            at = (document.positions.key_at(loc) if detail["type"] == "extra_forbidden"
                  else document.positions.value_at(loc))
            field = f"{dotted(loc)}: " if loc else ""
            problems.append(Problem(path, at.line, at.column, field + _message(model, detail)))
        return None, problems
