"""Live and desired pipelines into one canonical form, so that equal means equal.

The canonical form is LaunchDarkly's request shape (`environmentKey`, no ids) with:
read-only fields dropped (`_version`, `_access`, `_links`, `createdAt`, phase `id`s),
`_isLegacy` read as `isLegacy`, absent lists as `[]`, an absent description as `""`,
an absent phase configuration as `{}`, and unordered string lists (tags, segment keys,
notify lists) sorted and de-duplicated. `isProjectDefault` is not part of a pipeline's
canonical form: the default is a property of the project, planned separately.
"""

import copy
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from reconciler.manifest.models import CreateReleasePipelineInput

Canonical = dict[str, Any]


def _string_set(values: Iterable[str] | None) -> list[str]:
    return sorted(set(values or ()))


def _guardian(raw: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "monitoringWindowMilliseconds": raw.get("monitoringWindowMilliseconds"),
        "rolloutWeight": raw.get("rolloutWeight"),
        "rollbackOnRegression": raw.get("rollbackOnRegression"),
    }
    if raw.get("randomizationUnit") is not None:
        out["randomizationUnit"] = raw["randomizationUnit"]
    return out


def _audience_configuration(raw: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "releaseStrategy": raw.get("releaseStrategy"),
        "requireApproval": raw.get("requireApproval"),
        "notifyMemberIds": _string_set(raw.get("notifyMemberIds")),
        "notifyTeamKeys": _string_set(raw.get("notifyTeamKeys")),
    }
    if raw.get("releaseGuardianConfiguration") is not None:
        out["releaseGuardianConfiguration"] = _guardian(raw["releaseGuardianConfiguration"])
    return out


def _audience(raw: Mapping[str, Any]) -> dict[str, Any]:
    environment_key = raw.get("environmentKey")
    if environment_key is None and isinstance(raw.get("environment"), Mapping):
        environment_key = raw["environment"].get("key")
    out: dict[str, Any] = {
        "name": raw.get("name"),
        # None when LaunchDarkly omits the environment (it was deleted): a real difference.
        "environmentKey": environment_key,
        "segmentKeys": _string_set(raw.get("segmentKeys")),
    }
    if raw.get("configuration") is not None:
        out["configuration"] = _audience_configuration(raw["configuration"])
    return out


def _phase(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": raw.get("name"),
        "configuration": dict(raw.get("configuration") or {}),
        "audiences": [_audience(a) for a in raw.get("audiences") or ()],
    }


def canonical(raw: Mapping[str, Any]) -> Canonical:
    """Canonical form of a pipeline given as a request body or a ReleasePipeline response."""
    is_legacy = raw.get("isLegacy", raw.get("_isLegacy"))
    return {
        "key": raw.get("key"),
        "name": raw.get("name"),
        "description": raw.get("description") or "",
        "tags": _string_set(raw.get("tags")),
        # None in a desired pipeline means "not managed": the live value stands.
        "isLegacy": None if is_legacy is None else bool(is_legacy),
        "phases": [_phase(p) for p in raw.get("phases") or ()],
    }


def canonical_desired(pipeline: CreateReleasePipelineInput) -> Canonical:
    return canonical(pipeline.model_dump(exclude_none=True))


def canonical_live(raw: Mapping[str, Any]) -> Canonical:
    out = canonical(raw)
    out["isLegacy"] = bool(out["isLegacy"])  # live always has a value; absent means false
    return out


# --- ignore pointers -------------------------------------------------------------------


def _split(pointer: str) -> list[str]:
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer.split("/")[1:]]


def _matches(node: Any, parts: list[str], prefix: tuple[str | int, ...]
             ) -> Iterator[tuple[str | int, ...]]:
    """Every concrete path under `node` that the pointer parts match (`*` = any index/key)."""
    if not parts:
        yield prefix
        return
    head, rest = parts[0], parts[1:]
    if isinstance(node, Mapping):
        keys = list(node) if head == "*" else [head] if head in node else []
        for key in keys:
            yield from _matches(node[key], rest, (*prefix, key))
    elif isinstance(node, list):
        if head == "*":
            indices = range(len(node))
        elif head.isdigit() and int(head) < len(node):
            indices = range(int(head), int(head) + 1)
        else:
            indices = range(0)
        for index in indices:
            yield from _matches(node[index], rest, (*prefix, index))


def _parent(doc: Any, path: tuple[str | int, ...]) -> Any:
    node = doc
    for part in path[:-1]:
        node = node[part]
    return node


def strip_ignored(doc: Canonical, pointers: Iterable[str]) -> Canonical:
    """A copy of `doc` without the fields the ignore pointers name."""
    pointers = list(pointers)
    if not pointers:
        return doc
    out = copy.deepcopy(doc)
    for pointer in pointers:
        # Deepest and last indices first, so removing one path never shifts another.
        for path in sorted(_matches(out, _split(pointer), ()), reverse=True, key=str):
            parent = _parent(out, path)
            if isinstance(parent, dict):
                parent.pop(path[-1], None)
    return out


def carry_ignored(body: Canonical, live: Canonical, pointers: Iterable[str]) -> Canonical:
    """`body` with ignored fields set to their live values (or removed where live lacks
    them), so that a full-body PUT never overwrites what this tool does not manage."""
    pointers = list(pointers)
    if not pointers:
        return body
    out = copy.deepcopy(body)
    for pointer in pointers:
        parts = _split(pointer)
        for path in list(_matches(out, parts, ())):
            parent = _parent(out, path)
            if isinstance(parent, dict):
                parent.pop(path[-1], None)
        for path in _matches(live, parts, ()):
            try:
                parent = _parent(out, path)
            except (KeyError, IndexError, TypeError):
                continue  # the desired body has no such container: nothing to carry into
            if isinstance(parent, dict):
                parent[path[-1]] = copy.deepcopy(_parent(live, path)[path[-1]])
    return out
