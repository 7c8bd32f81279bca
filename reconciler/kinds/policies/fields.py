"""What git does not manage in a release policy, and how a request body keeps it.

Three things: an optional field a file omits inside a config (the live value stands, the
way an omitted isLegacy does for pipelines), a field named by an `ignore` pointer of
`_project.yaml`, and a field LaunchDarkly returns that the models lack. A full-body PUT
carries all three from live, so it never erases what git does not manage. Pure.
"""

import copy
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from reconciler.manifest.pointers import pointer_tokens

Canonical = dict[str, Any]
# A live field the models lack: its JSON pointer in the canonical form, and its value.
UnknownField = tuple[str, Any]

CONFIGS = ("guardedReleaseConfig", "progressiveReleaseConfig")


def with_live_omitted(desired: Canonical, live: Canonical | None) -> Canonical:
    """`desired` with each field it omits inside a config taken from the live config of
    the same name. A config absent from the file is absent: the release method owns it."""
    if live is None:
        return copy.deepcopy(desired)
    out = copy.deepcopy(desired)
    for name in CONFIGS:
        wanted, current = out.get(name), live.get(name)
        if isinstance(wanted, dict) and isinstance(current, Mapping):
            for field, value in current.items():
                wanted.setdefault(field, copy.deepcopy(value))
    return out


def _child(node: Any, token: str) -> Any:
    if isinstance(node, Mapping):
        return node.get(token)
    if isinstance(node, list) and token.isdigit() and int(token) < len(node):
        return node[int(token)]
    return None


def _parent(doc: Any, tokens: Sequence[str]) -> dict[str, Any] | None:
    """The object holding the field `tokens` names, or None where the path leads nowhere."""
    node = doc
    for token in tokens[:-1]:
        node = _child(node, token)
    return node if isinstance(node, dict) else None


def _expanded(doc: Any, tokens: Sequence[str]) -> list[list[str]]:
    """`tokens` with each `*` replaced by every index of the list it stands in (stages
    match by position), over the lists `doc` holds."""
    paths: list[list[str]] = [[]]
    for token in tokens[:-1]:
        if token != "*":
            paths = [[*path, token] for path in paths]
            continue
        paths = [[*path, str(index)] for path in paths
                 for index in range(len(_list_at(doc, path)))]
    return [[*path, tokens[-1]] for path in paths]


def _list_at(doc: Any, path: Sequence[str]) -> list[Any]:
    node = doc
    for token in path:
        node = _child(node, token)
    return node if isinstance(node, list) else []


def _paths(doc: Any, pointers: Iterable[str]) -> list[list[str]]:
    return [path for p in pointers if (tokens := pointer_tokens(p))
            for path in _expanded(doc, tokens)]


def strip_ignored(doc: Canonical, pointers: Iterable[str]) -> Canonical:
    """A copy of `doc` without the fields the pointers name (a pointer that names nothing
    in a policy, such as a pipeline's, does nothing)."""
    out = copy.deepcopy(doc)
    for tokens in _paths(out, pointers):
        if (parent := _parent(out, tokens)) is not None:
            parent.pop(tokens[-1], None)
    return out


def carry_ignored(body: Canonical, live: Canonical, pointers: Iterable[str]) -> Canonical:
    """`body` with each ignored field set to its live value (removed where live lacks it),
    where both hold the object around it (a stage: at the same position); elsewhere git's
    value stands."""
    out = copy.deepcopy(body)
    for tokens in _paths(out, pointers):
        target, source = _parent(out, tokens), _parent(live, tokens)
        if target is None or source is None:
            continue
        if tokens[-1] in source:
            target[tokens[-1]] = copy.deepcopy(source[tokens[-1]])
        else:
            target.pop(tokens[-1], None)
    return out


def carry_unknown(body: Canonical, fields: Sequence[UnknownField]) -> tuple[Canonical, list[str]]:
    """`body` with the live fields the models lack put back where they were, and the
    pointers of those with nowhere to go (git removed the object that held them)."""
    out = copy.deepcopy(body)
    dropped = []
    for where, value in fields:
        tokens = pointer_tokens(where)
        if tokens and (parent := _parent(out, tokens)) is not None:
            parent[tokens[-1]] = copy.deepcopy(value)
        else:
            dropped.append(where)
    return out, dropped
