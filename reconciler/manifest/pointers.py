"""The grammar of `ignore` pointers in `_project.yaml`.

An ignore pointer names fields inside pipelines or release policies (valid when either
model holds it), with `*` for the items of the `phases`, `audiences` and `stages` lists.
Ignored values follow their phase and audience by name (a stage by position), so a
pointer may not name an index, a whole list or item, or the names that identify items;
nor the key, `isLegacy` or `isProjectDefault`, which this tool manages only through the
files themselves. A field the models do not know is accepted with a
warning: it can only match a field LaunchDarkly returns that the models lack.

The walk follows the models, so a field added to them is known here at once.
"""

import difflib
import re
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

# Pipeline fields that identify or classify the pipeline: the files manage them or nothing.
_ROOT_REFUSALS = {
    "key": "the key names the pipeline (it is the file name)",
    "isLegacy": "leave isLegacy out of the file to leave it unmanaged",
    "isProjectDefault": ("leave isProjectDefault out of every file of the project to leave "
                         "the default unmanaged"),
}
_ITEM_NAME = "name"  # identifies a phase or an audience: ignored values follow it
_BAD_ESCAPE = re.compile(r"~(?![01])")
_INDEX = re.compile(r"[0-9]+")  # a JSON pointer's array index (RFC 6901)


@dataclass(frozen=True)
class PointerCheck:
    """At most one of the two is set."""

    error: str | None = None
    warning: str | None = None


def _unwrap(annotation: Any) -> Any:
    """`X | None` and `Annotated[X, ...]` -> X."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        (inner,) = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _unwrap(inner)
    return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _an_item_of(items: str) -> str:
    """`phases` -> `a phase`, `audiences` -> `an audience`."""
    item = items.removesuffix("s")
    return f"{'an' if item[0] in 'aeiou' else 'a'} {item}"


def _unknown(pointer: str, name: str, model: type[BaseModel], where: str) -> PointerCheck:
    close = difflib.get_close_matches(name, list(model.model_fields), n=1, cutoff=0.6)
    guess = f" (did you mean {close[0]!r}?)" if close else ""
    return PointerCheck(warning=(
        f"{pointer!r}: {name!r} is not a field of {where} that this tool knows{guess}; it "
        "can only match a field LaunchDarkly returns that the models lack"))


def pointer_tokens(pointer: str) -> list[str]:
    """The reference tokens of a JSON pointer, unescaped as RFC 6901 says (~1 then ~0)."""
    return [token.replace("~1", "/").replace("~0", "~") for token in pointer.split("/")[1:]]


def ignorable_models() -> tuple[type[BaseModel], ...]:
    """The models an ignore pointer may name fields of: a pipeline's and a policy's."""
    # Imported here: both model modules import this one.
    from reconciler.kinds.policies.models import PostReleasePolicyRequest
    from reconciler.manifest.models import CreateReleasePipelineInput

    return (CreateReleasePipelineInput, PostReleasePolicyRequest)


def check_pointer_in(pointer: str, roots: Sequence[type[BaseModel]]) -> PointerCheck:
    """Whether `pointer` names fields inside any of `roots`. It is judged by the models
    whose top level holds its first field (by the first model when none does): a clean
    answer wins, then a warning, else the first one's reason."""
    first = pointer_tokens(pointer)[0] if pointer.startswith("/") else None
    holders = [root for root in roots if first in root.model_fields] or roots[:1]
    checks = [check_pointer(pointer, root) for root in holders]
    return (next((c for c in checks if c.error is None and c.warning is None), None)
            or next((c for c in checks if c.error is None), checks[0]))


def check_pointer(pointer: str, root: type[BaseModel]) -> PointerCheck:
    """Whether `pointer` names fields inside a pipeline (`root` is the pipeline model)."""
    if not pointer.startswith("/"):
        return PointerCheck(f"{pointer!r} is not a JSON pointer to a field (it must start "
                            "with '/')")
    if any(_BAD_ESCAPE.search(token) for token in pointer[1:].split("/")):
        return PointerCheck(f"{pointer!r}: '~' must be followed by 0 (for '~') or 1 (for '/')")
    tokens = pointer_tokens(pointer)
    if "" in tokens:
        return PointerCheck(f"{pointer!r}: an empty field name (a doubled or trailing '/')")
    for token in tokens:
        if _INDEX.fullmatch(token):
            return PointerCheck(f"{pointer!r}: list index {token}: use *; ignored values "
                                "follow their phase and audience by name")
    return _walk(pointer, tokens, root)


def _walk(pointer: str, tokens: list[str], root: type[BaseModel]) -> PointerCheck:
    # `where` says what the object at the current position is; `items` names the list
    # whose item it is, if it is one.
    model, where, items, index = root, "the pipeline", "", 0
    while True:
        token, rest = tokens[index], tokens[index + 1:]
        here = "/" + "/".join(tokens[:index + 1])
        if token == "*":
            return PointerCheck(f"{pointer!r}: * stands for list items, and {where} is an "
                                "object: name one of its fields")
        if model is root and token in _ROOT_REFUSALS:
            return PointerCheck(f"{pointer!r} cannot be ignored: {_ROOT_REFUSALS[token]}")
        if items and token == _ITEM_NAME:
            return PointerCheck(f"{pointer!r} cannot be ignored: names identify {items} "
                                "(ignored values follow them by name)")
        field = model.model_fields.get(token)
        if field is None:
            if rest:
                return PointerCheck(f"{pointer!r}: {token!r} is not a field this tool knows, "
                                    f"so nothing below it can be named: ignore {here} as a whole")
            return _unknown(pointer, token, model, where)
        annotation = _unwrap(field.annotation)
        origin = typing.get_origin(annotation)
        if origin is list and _is_model(typing.get_args(annotation)[0]):
            if not rest:
                return PointerCheck(f"{pointer!r} names the whole {token} list: name fields "
                                    f"inside its items ({here}/*/...)")
            if rest[0] != "*":
                return PointerCheck(f"{pointer!r}: {token} is a list: use * for its items")
            if len(rest) == 1:
                return PointerCheck(f"{pointer!r} names whole {token}: name fields inside "
                                    f"them ({here}/*/...)")
            model, where, items = typing.get_args(annotation)[0], _an_item_of(token), token
            index += 2
        elif _is_model(annotation):
            if not rest:
                return PointerCheck()
            model, where, items = annotation, here, ""
            index += 1
        elif origin is dict:  # an open object (the phase configuration): any field below
            if "*" in rest:
                return PointerCheck(f"{pointer!r}: * stands for the items of phases and "
                                    f"audiences only; name the fields below {here}")
            return PointerCheck()
        elif rest:
            kind = "a list of strings" if origin is list else "a single value"
            return PointerCheck(f"{pointer!r}: {token} is {kind}: ignore {here} as a whole")
        else:
            return PointerCheck()
