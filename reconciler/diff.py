"""Field-level differences between two canonical pipelines.

Equal pipelines cost one comparison. Otherwise the walk descends with plain equality
through dicts and equal-length lists to the smallest containers whose direct members
differ, and hands only those to deepdiff: its cost then grows with the change, not with
the size of the pipeline.
"""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from deepdiff import DeepDiff

Path = tuple[str | int, ...]


class ChangeKind(StrEnum):
    CHANGED = "changed"
    ADDED = "added"
    REMOVED = "removed"


@dataclass(frozen=True)
class FieldChange:
    path: str  # a JSON pointer into the pipeline, e.g. /phases/0/audiences/1/name
    kind: ChangeKind
    old: Any = None
    new: Any = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "kind": str(self.kind)}
        if self.kind is not ChangeKind.ADDED:
            out["old"] = self.old
        if self.kind is not ChangeKind.REMOVED:
            out["new"] = self.new
        return out


def pointer(path: Path) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _is_container(value: Any) -> bool:
    return isinstance(value, (Mapping, list))


def _splits(before: Any, after: Any) -> bool:
    """Whether the walk can go below this pair instead of diffing it as a whole."""
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        return True
    return isinstance(before, list) and isinstance(after, list) and len(before) == len(after)


def _differing_containers(before: Any, after: Any, path: Path) -> Iterator[tuple[Path, Any, Any]]:
    """The smallest (path, before, after) containers whose own members differ."""
    if isinstance(before, Mapping):
        keys: Sequence[Any] = [k for k in before if k in after]
        leaf = set(before) != set(after)
    else:
        keys = range(len(before))
        leaf = False
    deeper: list[tuple[Any, Any, Any]] = []
    for key in keys:
        b, a = before[key], after[key]
        if b == a:
            continue
        if _is_container(b) and _is_container(a) and _splits(b, a):
            deeper.append((key, b, a))
        else:
            leaf = True
    if leaf:
        yield path, before, after
        return
    for key, b, a in deeper:
        yield from _differing_containers(b, a, (*path, key))


def _deepdiff(before: Any, after: Any, base: Path) -> Iterator[FieldChange]:
    tree = DeepDiff(before, after, view="tree", verbose_level=2)
    for report_type, items in tree.items():
        for item in items:
            path = pointer((*base, *item.path(output_format="list")))
            if report_type.endswith("_added"):
                yield FieldChange(path, ChangeKind.ADDED, new=item.t2)
            elif report_type.endswith("_removed"):
                yield FieldChange(path, ChangeKind.REMOVED, old=item.t1)
            else:
                yield FieldChange(path, ChangeKind.CHANGED, old=item.t1, new=item.t2)


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[FieldChange]:
    """Changes that turn `before` into `after`, sorted by path."""
    if before == after:
        return []
    changes: list[FieldChange] = []
    for path, b, a in _differing_containers(before, after, ()):
        changes.extend(_deepdiff(b, a, path))
    return sorted(changes, key=lambda c: c.path)
