"""Live and desired pipelines into one canonical form, so that equal means equal.

The canonical form is LaunchDarkly's request shape (`environmentKey`, no ids) with:
read-only fields dropped (`_version`, `_access`, `_links`, `createdAt`, phase `id`s),
`_isLegacy` read as `isLegacy`, absent lists as `[]`, an absent description as `""`,
an absent phase configuration as `{}`, and unordered string lists (tags, segment keys,
notify lists) sorted and de-duplicated. `isProjectDefault` is not part of a pipeline's
canonical form: the default is a property of the project, planned separately.
"""

import copy
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from reconciler.diff import Path, pointer
from reconciler.manifest.models import (
    AudienceConfiguration,
    AudiencePost,
    CreatePhaseInput,
    CreateReleasePipelineInput,
    ReleaseGuardianConfiguration,
)
from reconciler.manifest.pointers import pointer_tokens

Canonical = dict[str, Any]


def _string_set(values: Iterable[str] | None) -> list[str]:
    # Most of these lists hold one name or none: those need no set and no sort.
    if not values:
        return []
    if type(values) is list and len(values) == 1 and type(values[0]) is str:
        return [values[0]]
    return sorted(set(values))


def _audience_configuration(raw: Mapping[str, Any]) -> dict[str, Any]:
    get = raw.get
    out: dict[str, Any] = {
        "releaseStrategy": get("releaseStrategy"),
        "requireApproval": get("requireApproval"),
        "notifyMemberIds": _string_set(get("notifyMemberIds")),
        "notifyTeamKeys": _string_set(get("notifyTeamKeys")),
    }
    guardian = get("releaseGuardianConfiguration")
    if guardian is not None:
        guarded = out["releaseGuardianConfiguration"] = {
            "monitoringWindowMilliseconds": guardian.get("monitoringWindowMilliseconds"),
            "rolloutWeight": guardian.get("rolloutWeight"),
            "rollbackOnRegression": guardian.get("rollbackOnRegression"),
        }
        if guardian.get("randomizationUnit") is not None:
            guarded["randomizationUnit"] = guardian["randomizationUnit"]
    return out


def _audience(raw: Mapping[str, Any]) -> dict[str, Any]:
    environment_key = raw.get("environmentKey")
    if environment_key is None and isinstance(raw.get("environment"), dict | Mapping):
        environment_key = raw["environment"].get("key")
    out: dict[str, Any] = {
        "name": raw.get("name"),
        # None when LaunchDarkly omits the environment (it was deleted): a real difference.
        "environmentKey": environment_key,
        "segmentKeys": _string_set(raw.get("segmentKeys")),
    }
    configuration = raw.get("configuration")
    if configuration is not None:
        out["configuration"] = _audience_configuration(configuration)
    return out


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
        "phases": [
            {
                "name": phase.get("name"),
                "configuration": dict(phase.get("configuration") or {}),
                "audiences": [_audience(a) for a in phase.get("audiences") or ()],
            }
            for phase in raw.get("phases") or ()
        ],
    }


def canonical_desired(pipeline: CreateReleasePipelineInput) -> Canonical:
    return canonical(pipeline.model_dump(exclude_none=True))


def canonical_live(raw: Mapping[str, Any]) -> Canonical:
    out = canonical(raw)
    out["isLegacy"] = bool(out["isLegacy"])  # live always has a value; absent means false
    return out


# --- fields the models do not manage ---------------------------------------------------

# Per object, the fields a file can hold, plus what LaunchDarkly returns read-only (and
# every `_`-prefixed field). Anything else is a field a newer LaunchDarkly knows and this
# tool does not: kept live, carried into PUT bodies, never compared.
_PIPELINE_FIELDS = frozenset({*CreateReleasePipelineInput.model_fields, "createdAt"})
_PHASE_FIELDS = frozenset({*CreatePhaseInput.model_fields, "id"})
_AUDIENCE_FIELDS = frozenset({*AudiencePost.model_fields, "environment"})
_CONFIGURATION_FIELDS = frozenset(AudienceConfiguration.model_fields)
_GUARDIAN_FIELDS = frozenset(ReleaseGuardianConfiguration.model_fields)

UnknownField = tuple[Path, str, Any]  # the object's path in the canonical form, name, value


def unknown_in(node: Any, known: frozenset[str], path: Path) -> list[UnknownField]:
    # A dict first: JSON gives dicts, and a check against the Mapping ABC costs more.
    if not isinstance(node, dict | Mapping) or known.issuperset(node):
        return []  # the common case, answered without a Python step per field
    return [(path, name, copy.deepcopy(value)) for name, value in node.items()
            if name not in known and not str(name).startswith("_")]


def unknown_fields(raw: Mapping[str, Any]) -> list[UnknownField]:
    """The fields of a live pipeline (a ReleasePipeline response) that the models do not
    manage, in the pipeline, its phases, audiences, audience configurations and release
    guardian configurations; each located in the canonical form (same list positions)."""
    found = unknown_in(raw, _PIPELINE_FIELDS, ())
    for p, phase in enumerate(raw.get("phases") or ()):
        found += unknown_in(phase, _PHASE_FIELDS, ("phases", p))
        for a, audience in enumerate(phase.get("audiences") or ()):
            where: Path = ("phases", p, "audiences", a)
            found += unknown_in(audience, _AUDIENCE_FIELDS, where)
            configuration = audience.get("configuration")
            if isinstance(configuration, dict | Mapping):
                where = (*where, "configuration")
                found += unknown_in(configuration, _CONFIGURATION_FIELDS, where)
                found += unknown_in(configuration.get("releaseGuardianConfiguration"),
                                    _GUARDIAN_FIELDS, (*where, "releaseGuardianConfiguration"))
    return found


def located(fields: Iterable[UnknownField]) -> list[tuple[str, Any]]:
    """Each field as (its JSON pointer in the canonical form, its value)."""
    return [(pointer((*path, name)), value) for path, name, value in fields]


# --- identity: phases and audiences match by name --------------------------------------


def pairs_by_name(left: Sequence[Any], right: Sequence[Any]) -> Iterator[tuple[int, int]]:
    """(left index, right index) pairs: the k-th item of a name matches the k-th item of
    that name on the other side; items with no such partner match nothing."""
    waiting: dict[str, deque[int]] = {}
    for index, item in enumerate(right):
        name = item.get("name") if isinstance(item, Mapping) else None
        if isinstance(name, str):
            waiting.setdefault(name, deque()).append(index)
    for index, item in enumerate(left):
        name = item.get("name") if isinstance(item, Mapping) else None
        queue = waiting.get(name) if isinstance(name, str) else None
        if queue:
            yield index, queue.popleft()


def counterparts(left: Mapping[str, Any], right: Mapping[str, Any] | None) -> dict[Path, Path]:
    """For the pipeline, each phase and each audience of `left`, the path of the same
    object in `right`: phases by name, audiences by name within the matched phase."""
    if right is None:
        return {}
    out: dict[Path, Path] = {(): ()}
    right_phases = right.get("phases") or []
    for p, q in pairs_by_name(left.get("phases") or [], right_phases):
        out[("phases", p)] = ("phases", q)
        left_audiences = left["phases"][p].get("audiences") or []
        for a, b in pairs_by_name(left_audiences, right_phases[q].get("audiences") or []):
            out[("phases", p, "audiences", a)] = ("phases", q, "audiences", b)
    return out


def _at(doc: Any, path: Sequence[str | int]) -> Any:
    """The object at `path`, or None where the path leads nowhere."""
    node = doc
    for part in path:
        if isinstance(node, Mapping) and isinstance(part, str):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            return None
    return node


# --- ignore pointers --------------------------------------------------------------------

# Fields an ignore pointer can never name: they are identity, or not a field of a body.
_STRUCTURAL = {"pipeline": {"key", "isLegacy", "isProjectDefault", "phases"},
               "phase": {"name", "audiences"}, "audience": {"name"}}


def _scope(pointer_text: str) -> tuple[str, tuple[str, ...]] | None:
    """("pipeline" | "phase" | "audience", the field's path inside that object), or None
    for a pointer outside the grammar, which then matches nothing."""
    parts = pointer_tokens(pointer_text)
    if parts[:1] != ["phases"]:
        scope, field = "pipeline", parts
    elif len(parts) >= 3 and parts[1] == "*" and parts[2] != "audiences":
        scope, field = "phase", parts[2:]
    elif len(parts) >= 5 and parts[1] == "*" and parts[2] == "audiences" and parts[3] == "*":
        scope, field = "audience", parts[4:]
    else:
        return None
    if not field or "*" in field or field[0] in _STRUCTURAL[scope]:
        return None
    return scope, tuple(field)


def _objects(doc: Mapping[str, Any], scope: str) -> Iterator[Path]:
    """Paths of the pipeline, of every phase or of every audience of `doc`."""
    if scope == "pipeline":
        yield ()
        return
    for p, phase in enumerate(doc.get("phases") or ()):
        if scope == "phase":
            yield ("phases", p)
        else:
            for a in range(len(phase.get("audiences") or ())):
                yield ("phases", p, "audiences", a)


def _scoped(pointers: Iterable[str]) -> list[tuple[str, tuple[str, ...]]]:
    return [scoped for p in pointers if (scoped := _scope(p)) is not None]


def strip_ignored(doc: Canonical, pointers: Iterable[str], other: Canonical | None
                  ) -> Canonical:
    """A copy of `doc` without the ignored fields of each pipeline, phase and audience
    that has a counterpart in `other` (see `counterparts`). An object with no
    counterpart (new, renamed, removed) keeps them: its values are the ones sent."""
    scoped = _scoped(pointers)
    if not scoped:
        return doc
    matched = counterparts(doc, other)
    out = copy.deepcopy(doc)
    for scope, field in scoped:
        for path in _objects(out, scope):
            parent = _at(out, (*path, *field[:-1])) if path in matched else None
            if isinstance(parent, dict):
                parent.pop(field[-1], None)
    return out


def carry_ignored(body: Canonical, live: Canonical, pointers: Iterable[str]) -> Canonical:
    """`body` with the ignored fields of each object that has a live counterpart set to
    the live values (removed where live lacks them), so that a full-body PUT never
    overwrites what this tool does not manage. Objects with no live counterpart, and
    fields whose live container is absent, keep git's values: git always has the
    required ones, so the body stays one LaunchDarkly accepts."""
    scoped = _scoped(pointers)
    if not scoped:
        return body
    matched = counterparts(body, live)
    out = copy.deepcopy(body)
    for scope, field in scoped:
        for path in _objects(out, scope):
            if path not in matched:
                continue
            target = _at(out, (*path, *field[:-1]))
            source = _at(live, (*matched[path], *field[:-1]))
            if not isinstance(target, dict) or not isinstance(source, Mapping):
                continue  # git removed the container, or live has none: git's value stands
            if field[-1] in source:
                target[field[-1]] = copy.deepcopy(source[field[-1]])
            else:
                target.pop(field[-1], None)
    return out


def carry_unknown(body: Canonical, live: Canonical, fields: Sequence[UnknownField]
                  ) -> tuple[Canonical, list[str]]:
    """`body` with the live fields the models do not manage put back on the same pipeline,
    phase, audience or configuration (matched as in `counterparts`), and the pointers of
    those that have nowhere to go (their object is removed or renamed in git)."""
    if not fields:
        return body, []
    to_body = {there: here for here, there in counterparts(body, live).items()}
    out = copy.deepcopy(body)
    dropped = []
    for path, name, value in fields:
        owner = to_body.get(path[:4] if len(path) > 4 else path)
        target = None if owner is None else _at(out, (*owner, *path[4:]))
        if isinstance(target, dict):
            target[name] = copy.deepcopy(value)
        else:
            dropped.append(pointer((*path, name)))
    return out, dropped
